use platform::database::DbError;
use platform::domain::Amount;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::UserId;

/// Charges `amount` to the user and records the payment, in one statement,
/// if the user exists and has the credit; `false` (and nothing changed)
/// otherwise. The condition in the `UPDATE` decides under the row lock, so
/// concurrent charges cannot overdraw, and a refusal aborts nothing: it can
/// share its transaction with other messages of a batch.
#[tracing::instrument(skip(executor))]
pub async fn charge(
    executor: impl PgExecutor<'_>,
    saga_id: Uuid,
    order_id: &str,
    user: &UserId,
    amount: Amount,
) -> Result<bool, DbError> {
    let charged = sqlx::query(
        "WITH charged AS ( \
             UPDATE users SET credit = credit - $4 WHERE id = $3 AND credit >= $4 RETURNING id) \
         INSERT INTO payments (saga_id, order_id, user_id, amount) \
         SELECT $1, $2, id, $4 FROM charged",
    )
    .bind(saga_id)
    .bind(order_id)
    .bind(user.as_str())
    .bind(amount.get())
    .execute(executor)
    .await?;
    Ok(charged.rows_affected() == 1)
}
