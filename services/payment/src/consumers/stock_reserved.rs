use chrono::Utc;
use events::{PaymentFailed, PaymentSucceeded, StockReserved};
use idempotency::HandlerError;
use platform::domain::Amount;
use sqlx::{Acquire, PgConnection};

use crate::domain::UserId;
use crate::error::PaymentError;
use crate::storage;

/// Charges the order's user: `PaymentSucceeded` with the charge, or
/// `PaymentFailed` (which makes the stock service give the items back) when
/// the user cannot pay. A database fault is returned as an error, so the
/// message is retried rather than refused.
#[tracing::instrument(skip_all, fields(order_id = %event.order_id, saga_id = %event.saga_id))]
pub async fn charge(tx: &mut PgConnection, event: StockReserved) -> Result<(), HandlerError> {
    let user = UserId::from_trusted(event.user_id.clone());
    let amount = Amount::try_from(event.total_cost)?;
    let mut attempt = tx.begin().await?;
    let refusal = match storage::subtract_credit(&mut *attempt, &user, amount).await {
        Ok(Some(_)) => None,
        Ok(None) => Some(PaymentError::UserNotFound(user.clone())),
        Err(error) => match PaymentError::from_credit_change(error, &user, amount) {
            PaymentError::Database(error) => return Err(error.into()),
            refusal => Some(refusal),
        },
    };
    let message = match refusal {
        None => {
            storage::insert_payment(&mut *attempt, event.saga_id, &event.order_id, &user, amount).await?;
            attempt.commit().await?;
            events::message(&PaymentSucceeded {
                order_id: event.order_id,
                saga_id: event.saga_id,
                amount: amount.get(),
                occurred_at: Utc::now(),
            })
        }
        Some(refusal) => {
            attempt.rollback().await?;
            events::message(&PaymentFailed {
                order_id: event.order_id,
                saga_id: event.saga_id,
                reason: refusal.to_string(),
                occurred_at: Utc::now(),
            })
        }
    };
    outbox::enqueue(tx, &message).await?;
    Ok(())
}
