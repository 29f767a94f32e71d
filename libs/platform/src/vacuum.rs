//! Keeps churning tables small where nothing else does.
//!
//! The outbox takes a row and deletes it for every event; without VACUUM
//! its pages fill with dead rows that every claim must step over. Our
//! machines (and some managed servers) run PostgreSQL with autovacuum off,
//! and a per-table `autovacuum_enabled` cannot turn it back on: the server's
//! setting wins. So each service vacuums its own tables once they have
//! gathered enough dead rows, as autovacuum would. Where autovacuum runs,
//! this finds little to do. Replicas may run it together: `SKIP_LOCKED`
//! lets one pass over a table another is vacuuming. `TRUNCATE false`: giving
//! the emptied end of the outbox back to the file system takes a lock that
//! stops every insert (measured: 0.7 s a vacuum under load), and the outbox
//! refills those pages within seconds anyway.
//!
//! It also analyses the tables that doubled: fresh statistics make
//! PostgreSQL plan again the statements that connections have prepared.
//! Without them a generic plan made while a table was nearly empty (a
//! sequential scan of `payments` to look up one saga, say) stays for the
//! connection's life, however large the table grows (measured: the payment
//! step's statement went from 0.09 ms to 1 ms over 30 000 checkouts).
//!
//! Every statement of ours finds its rows by key, so statistics only steer
//! the choice between a sequential scan and an index, and that choice
//! changes only while a table grows from a few pages to many. Hence no
//! more than that:
//! - Updates are not counted, though autovacuum counts them: a checkout
//!   updates its order, its items and its user in place, and analysing
//!   those tables took a fifth of all statement time (2026-12-01,
//!   `pg_stat_statements` over the stress runs of 20 000 orders: `ANALYZE
//!   orders` took 380-540 ms, every few seconds).
//! - A table is analysed once it has at least doubled since its statistics,
//!   not at autovacuum's tenth: the tables each checkout adds rows to
//!   (`reservations`, `payments`, `saga_events`, the inboxes) were
//!   analysed every few thousand checkouts, each analysis a burst of 60 to
//!   380 ms of one core (2026-12-02: a quarter of all statement time over
//!   four stress runs that grew them to 40 000 rows, a tenth over two runs
//!   on fresh databases). With doubling, a table of N rows has cost at most
//!   about 2N rows sampled in all, however it grew.
//! - A table that shrank is not analysed: statistics that overestimate it
//!   keep its lookups on their index, which costs a small table nothing.
use std::future::Future;
use std::time::Duration;

use sqlx::PgPool;

use crate::database::DbError;
use crate::settings::{SettingError, env_or};

/// When a table is vacuumed.
#[derive(Debug, Clone)]
pub struct VacuumSettings {
    /// `VACUUM_INTERVAL_MS` (5000): how often dead rows are counted; 0 turns
    /// the vacuuming off (leave it to autovacuum).
    pub interval: Duration,
    /// `VACUUM_DEAD_ROWS` (1000): a table with at least this many dead rows
    /// (and at least a fifth of its live rows) is vacuumed.
    pub dead_rows: i64,
}

impl VacuumSettings {
    pub fn from_env() -> Result<Self, SettingError> {
        Ok(VacuumSettings {
            interval: Duration::from_millis(env_or("VACUUM_INTERVAL_MS", 5000)?),
            dead_rows: env_or("VACUUM_DEAD_ROWS", 1000)?,
        })
    }
}

/// Vacuums every table of the database that gathered enough dead rows;
/// returns their names.
pub async fn vacuum_churned(pool: &PgPool, dead_rows: i64) -> Result<Vec<String>, DbError> {
    let tables = sqlx::query_scalar!(
        r#"SELECT format('%I.%I', schemaname, relname) AS "table!" FROM pg_stat_user_tables
           WHERE n_dead_tup >= $1 AND n_dead_tup >= n_live_tup / 5"#,
        dead_rows
    )
    .fetch_all(pool)
    .await?;
    for table in &tables {
        // The name comes from the catalogue, quoted by format('%I').
        let statement = format!("VACUUM (SKIP_LOCKED, TRUNCATE false) {table}");
        sqlx::query(sqlx::AssertSqlSafe(statement)).execute(pool).await?;
    }
    Ok(tables)
}

/// Analyses every table that holds at least twice the rows its statistics
/// say, and 50 more; returns their names. `reltuples` is -1 for a table
/// never analysed, taken as 0.
pub async fn analyze_changed(pool: &PgPool) -> Result<Vec<String>, DbError> {
    let tables = sqlx::query_scalar!(
        r#"SELECT format('%I.%I', s.schemaname, s.relname) AS "table!"
           FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
           WHERE s.n_mod_since_analyze > 0
             AND s.n_live_tup >= 50 + 2 * greatest(c.reltuples, 0)"#
    )
    .fetch_all(pool)
    .await?;
    for table in &tables {
        // The name comes from the catalogue, quoted by format('%I').
        let statement = format!("ANALYZE (SKIP_LOCKED) {table}");
        sqlx::query(sqlx::AssertSqlSafe(statement)).execute(pool).await?;
    }
    Ok(tables)
}

/// Vacuums and analyses what needs it every `settings.interval` until
/// `shutdown`. A failure is retried at the next tick: dead rows and old
/// statistics only cost speed.
pub async fn run(pool: PgPool, settings: VacuumSettings, shutdown: impl Future<Output = ()>) {
    if settings.interval.is_zero() {
        return;
    }
    let pool = &pool;
    crate::periodic::every(settings.interval, shutdown, move || async move {
        match vacuum_churned(pool, settings.dead_rows).await {
            Ok(tables) if tables.is_empty() => {}
            Ok(tables) => tracing::debug!(?tables, "vacuumed"),
            Err(error) => tracing::warn!(%error, "vacuuming churned tables failed"),
        }
        match analyze_changed(pool).await {
            Ok(tables) if tables.is_empty() => {}
            Ok(tables) => tracing::debug!(?tables, "analysed"),
            Err(error) => tracing::warn!(%error, "analysing changed tables failed"),
        }
    })
    .await;
}
