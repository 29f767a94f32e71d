use platform::database::DbError;
use platform::domain::Amount;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::UserId;

#[tracing::instrument(skip(executor))]
pub async fn insert_payment(
    executor: impl PgExecutor<'_>,
    saga_id: Uuid,
    order_id: &str,
    user: &UserId,
    amount: Amount,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO payments (saga_id, order_id, user_id, amount) VALUES ($1, $2, $3, $4)")
        .bind(saga_id)
        .bind(order_id)
        .bind(user.as_str())
        .bind(amount.get())
        .execute(executor)
        .await?;
    Ok(())
}
