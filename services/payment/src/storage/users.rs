use platform::database::DbError;
use platform::domain::{Amount, BatchSize};
use sqlx::{PgConnection, PgExecutor};

use crate::domain::UserId;

#[tracing::instrument(skip(executor))]
pub async fn insert_user(executor: impl PgExecutor<'_>, id: &UserId) -> Result<(), DbError> {
    sqlx::query!("INSERT INTO users (id, credit) VALUES ($1, 0)", id.as_str())
        .execute(executor)
        .await?;
    Ok(())
}

/// The user's credit, or `None` for an unknown user.
#[tracing::instrument(skip(executor))]
pub async fn find_credit(executor: impl PgExecutor<'_>, id: &UserId) -> Result<Option<i64>, DbError> {
    let credit = sqlx::query_scalar!("SELECT credit FROM users WHERE id = $1", id.as_str())
        .fetch_optional(executor)
        .await?;
    Ok(credit)
}

/// The new credit, or `None` for an unknown user. Overflow past `i64::MAX` is
/// refused by PostgreSQL as `DbError::OutOfRange`.
#[tracing::instrument(skip(executor))]
pub async fn add_credit(
    executor: impl PgExecutor<'_>,
    id: &UserId,
    amount: Amount,
) -> Result<Option<i64>, DbError> {
    shift_credit(executor, id, amount.get()).await
}

/// The new credit, or `None` for an unknown user. The row lock serialises
/// concurrent changes and the `users_credit_not_negative` constraint refuses the one
/// that would go below zero.
#[tracing::instrument(skip(executor))]
pub async fn subtract_credit(
    executor: impl PgExecutor<'_>,
    id: &UserId,
    amount: Amount,
) -> Result<Option<i64>, DbError> {
    // An Amount is at most i64::MAX, so its negation cannot overflow.
    shift_credit(executor, id, -amount.get()).await
}

async fn shift_credit(
    executor: impl PgExecutor<'_>,
    id: &UserId,
    delta: i64,
) -> Result<Option<i64>, DbError> {
    let credit = sqlx::query_scalar!(
        "UPDATE users SET credit = credit + $2 WHERE id = $1 RETURNING credit",
        id.as_str(),
        delta
    )
    .fetch_optional(executor)
    .await?;
    Ok(credit)
}

/// Creates or replaces users `"0"` … `"n-1"` in one statement: the rows are
/// generated inside PostgreSQL, so 100 000 of them cost one round trip.
///
/// Then analyses the table, in the same transaction: a bulk load is when
/// statistics go stale all at once, and analysed here the table is ready
/// for the load that follows. Left to `platform::vacuum`, the analysis of
/// the 20 000 users (a burst of 20-165 ms of one core on a 2-core machine) fell
/// in the first seconds of that load.
#[tracing::instrument(skip(conn))]
pub async fn batch_init(conn: &mut PgConnection, n: BatchSize, credit: Amount) -> Result<(), DbError> {
    sqlx::query!(
        "INSERT INTO users (id, credit) \
         SELECT i::text, $2 FROM generate_series(0, $1::bigint - 1) AS i \
         ON CONFLICT (id) DO UPDATE SET credit = EXCLUDED.credit",
        n.get(),
        credit.get()
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("ANALYZE users").execute(conn).await?;
    Ok(())
}
