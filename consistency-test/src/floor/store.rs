//! The floor's three databases, the one statement of each step, and the
//! tally that shows every checkout wrote what it had to, once.
//!
//! The statements are built at run time (`sqlx::query`, not the checked
//! macros): their tables are made by this module from `schema.sql`, not by
//! migrations that `.sqlx/` could be prepared from.
use serde::Serialize;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};
use uuid::Uuid;

use super::broker::Outgoing;

const SCHEMA: &str = include_str!("schema.sql");
/// An item's stock and a user's credit at the start: more than a run takes.
const PLENTY: i64 = 1_000_000_000;

/// A checkout as its messages carry it: which run-wide checkout, and the
/// row of each database it changes (the same id in all three).
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Checkout {
    pub id: u64,
    pub account: i64,
}

/// One delivery of a batch: its message id and what it carries.
pub type Delivered = (Uuid, Checkout);

/// The order's, the stock's and the payment's databases, each with its pool.
pub struct Databases {
    pub order: PgPool,
    pub stock: PgPool,
    pub payment: PgPool,
    names: [String; 3],
    server: PgConnectOptions,
}

impl Databases {
    /// Drops and creates `<prefix>_order`, `_stock` and `_payment` on
    /// `server`, each with `accounts` rows, vacuumed and analysed as the
    /// monolith's tables are before they are loaded. The order's pool is
    /// sized for `clients` starting checkouts at once.
    pub async fn create(
        server: &str,
        prefix: &str,
        accounts: i64,
        clients: u32,
    ) -> anyhow::Result<Databases> {
        let server: PgConnectOptions = server.parse()?;
        let names = ["order", "stock", "payment"].map(|service| format!("{prefix}_{service}"));
        let mut admin = server.clone().database("postgres").connect().await?;
        for name in &names {
            drop_database(&mut admin, name).await?;
            let create = format!("CREATE DATABASE {}", quoted(name));
            sqlx::raw_sql(sqlx::AssertSqlSafe(create))
                .execute(&mut admin)
                .await?;
        }
        admin.close().await?;
        let [order, stock, payment] = &names;
        let databases = Databases {
            order: prepared(&server, order, 0, accounts, clients).await?,
            stock: prepared(&server, stock, PLENTY, accounts, 2).await?,
            payment: prepared(&server, payment, PLENTY, accounts, 2).await?,
            names,
            server,
        };
        Ok(databases)
    }

    /// What the three databases hold now.
    pub async fn tally(&self) -> anyhow::Result<Tally> {
        let order = counts(&self.order).await?;
        let stock = counts(&self.stock).await?;
        let payment = counts(&self.payment).await?;
        let taken = |(rows, balance, ..): (i64, i64, i64, i64)| rows * PLENTY - balance;
        Ok(Tally {
            order_steps: order.1,
            stock_taken: taken(stock),
            credit_taken: taken(payment),
            inbox: [order.2, stock.2, payment.2],
            outbox: [order.3, stock.3, payment.3],
        })
    }

    /// Closes the pools and drops the databases: a run leaves nothing.
    pub async fn drop_all(self) -> anyhow::Result<()> {
        for pool in [self.order, self.stock, self.payment] {
            pool.close().await;
        }
        let mut admin = self.server.database("postgres").connect().await?;
        for name in &self.names {
            drop_database(&mut admin, name).await?;
        }
        Ok(())
    }
}

async fn prepared(
    server: &PgConnectOptions,
    name: &str,
    balance: i64,
    accounts: i64,
    connections: u32,
) -> anyhow::Result<PgPool> {
    // As the services' pools: no ping before each use.
    let pool = PgPoolOptions::new()
        .max_connections(connections)
        .test_before_acquire(false)
        .connect_with(server.clone().database(name))
        .await?;
    sqlx::raw_sql(SCHEMA).execute(&pool).await?;
    sqlx::query("INSERT INTO accounts SELECT id, $2 FROM generate_series(0, $1 - 1) AS id")
        .bind(accounts)
        .bind(balance)
        .execute(&pool)
        .await?;
    sqlx::raw_sql("VACUUM ANALYZE").execute(&pool).await?;
    Ok(pool)
}

/// `(accounts, their balances' sum, inbox rows, outbox rows)` of one
/// database.
async fn counts(pool: &PgPool) -> anyhow::Result<(i64, i64, i64, i64)> {
    let counts = sqlx::query_as(
        "SELECT count(*), coalesce(sum(balance), 0)::bigint, (SELECT count(*) FROM inbox), \
         (SELECT count(*) FROM outbox) FROM accounts",
    )
    .fetch_one(pool)
    .await?;
    Ok(counts)
}

async fn drop_database(admin: &mut PgConnection, name: &str) -> anyhow::Result<()> {
    let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quoted(name));
    sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(admin).await?;
    Ok(())
}

/// `name` as a PostgreSQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The order's first step: marks the order started and writes its
/// `CheckoutRequested` to the outbox, in one statement (one commit).
pub async fn start(pool: &PgPool, checkout: Checkout, message_id: Uuid, body: &str) -> anyhow::Result<i64> {
    let id = sqlx::query_scalar(
        "WITH started AS (UPDATE accounts SET balance = balance + 1 WHERE id = $1 RETURNING id) \
         INSERT INTO outbox (message_id, payload) SELECT $2, $3::jsonb \
         FROM started RETURNING id",
    )
    .bind(checkout.account)
    .bind(message_id)
    .bind(body)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Stock's and payment's step for a batch: each new message in the inbox,
/// one taken from its row, and the next event in the outbox, in one
/// statement. A message the inbox has seen changes nothing.
pub async fn take(pool: &PgPool, batch: &[Delivered]) -> anyhow::Result<Vec<Outgoing>> {
    let next: Vec<Uuid> = batch.iter().map(|_| Uuid::new_v4()).collect();
    let rows: Vec<(i64, Uuid, String)> = sqlx::query_as(
        "WITH fresh AS ( \
             INSERT INTO inbox (message_id) SELECT unnest($1::uuid[]) \
             ON CONFLICT DO NOTHING RETURNING message_id), \
         wanted AS ( \
             SELECT w.account, w.next_id, w.payload \
             FROM unnest($1::uuid[], $2::bigint[], $3::uuid[], $4::text[]) \
                 AS w (message_id, account, next_id, payload) \
             JOIN fresh USING (message_id)), \
         taken AS ( \
             UPDATE accounts SET balance = balance - 1 FROM wanted \
             WHERE accounts.id = wanted.account) \
         INSERT INTO outbox (message_id, payload) SELECT next_id, payload::jsonb FROM wanted \
         RETURNING id, message_id, payload::text",
    )
    .bind(batch.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(batch.iter().map(|(_, c)| c.account).collect::<Vec<_>>())
    .bind(&next)
    .bind(
        batch
            .iter()
            .map(|(_, checkout)| serde_json::to_string(checkout))
            .collect::<Result<Vec<_>, _>>()?,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(outbox_id, message_id, payload)| Outgoing {
            outbox_id,
            message_id,
            body: payload.into_bytes(),
        })
        .collect())
}

/// The order's last step for a batch: each new message in the inbox and
/// its order marked final, in one statement.
pub async fn finish(pool: &PgPool, batch: &[Delivered]) -> anyhow::Result<()> {
    sqlx::query(
        "WITH fresh AS ( \
             INSERT INTO inbox (message_id) SELECT unnest($1::uuid[]) \
             ON CONFLICT DO NOTHING RETURNING message_id) \
         UPDATE accounts SET balance = balance + 1 \
         FROM unnest($1::uuid[], $2::bigint[]) AS w (message_id, account) \
         JOIN fresh USING (message_id) \
         WHERE accounts.id = w.account",
    )
    .bind(batch.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(batch.iter().map(|(_, c)| c.account).collect::<Vec<_>>())
    .execute(pool)
    .await?;
    Ok(())
}

/// The relay's clean-up: rows whose messages the broker confirmed.
pub async fn delete_published(pool: &PgPool, ids: &[i64]) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM outbox WHERE id = ANY($1)")
        .bind(ids)
        .execute(pool)
        .await?;
    Ok(())
}

/// What the three databases hold after a run.
#[derive(Debug, Clone, Serialize)]
pub struct Tally {
    /// Starts plus finishes: two a checkout.
    pub order_steps: i64,
    pub stock_taken: i64,
    pub credit_taken: i64,
    /// Order, stock, payment: one message each a checkout.
    pub inbox: [i64; 3],
    /// Order, stock, payment: empty once every message is confirmed.
    pub outbox: [i64; 3],
}

impl Tally {
    /// How it differs from what `checkouts` final checkouts wrote; empty
    /// when each wrote everything once and every outbox row was published.
    pub fn differences(&self, checkouts: u64) -> Vec<String> {
        let n = checkouts as i64;
        let expected = [
            ("order steps", self.order_steps, 2 * n),
            ("stock taken", self.stock_taken, n),
            ("credit taken", self.credit_taken, n),
            ("order inbox rows", self.inbox[0], n),
            ("stock inbox rows", self.inbox[1], n),
            ("payment inbox rows", self.inbox[2], n),
            ("order outbox rows", self.outbox[0], 0),
            ("stock outbox rows", self.outbox[1], 0),
            ("payment outbox rows", self.outbox[2], 0),
        ];
        expected
            .into_iter()
            .filter(|(_, found, wanted)| found != wanted)
            .map(|(what, found, wanted)| format!("{what}: {found}, expected {wanted}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally_of(n: i64) -> Tally {
        Tally {
            order_steps: 2 * n,
            stock_taken: n,
            credit_taken: n,
            inbox: [n; 3],
            outbox: [0; 3],
        }
    }

    #[test]
    fn a_run_that_wrote_everything_once_has_no_differences() {
        assert!(tally_of(7).differences(7).is_empty());
    }

    #[test]
    fn a_message_applied_twice_and_a_row_left_in_an_outbox_are_named() {
        let mut tally = tally_of(7);
        tally.stock_taken = 8;
        tally.outbox[2] = 1;

        assert_eq!(
            tally.differences(7),
            ["stock taken: 8, expected 7", "payment outbox rows: 1, expected 0"]
        );
    }
}
