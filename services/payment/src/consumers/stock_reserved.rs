use chrono::Utc;
use events::{PaymentFailed, PaymentSucceeded, StockReserved};
use idempotency::{HandlerError, Lone, Together};
use outbox::{OutboxMessage, Stored};
use platform::domain::Amount;
use sqlx::{PgConnection, PgPool};

use crate::domain::UserId;
use crate::error::PaymentError;
use crate::storage::{self, Charge, Charging};

/// Charges the order's user: `PaymentSucceeded` with the charge, or
/// `PaymentFailed` (which makes the stock service give the items back) when
/// the user cannot pay. Asked again for a saga it answered before, it
/// answers the same and charges nothing. A database fault is returned as an
/// error, so the message is retried rather than refused.
#[tracing::instrument(skip_all, fields(order_id = %event.order_id, saga_id = %event.saga_id))]
pub async fn charge(tx: &mut PgConnection, event: StockReserved) -> Result<OutboxMessage, HandlerError> {
    // The id comes from the order service: one that is not an id is no
    // user of ours, refused as an unknown one would be, every time alike.
    let user = match UserId::parse(&event.user_id) {
        Ok(user) => user,
        Err(error) => return Ok(failed(event, error.to_string())),
    };
    let amount = Amount::try_from(event.total_cost)?;
    let refusal = match storage::charge(&mut *tx, event.saga_id, &event.order_id, &user, amount).await? {
        Charge::Charged | Charge::ChargedBefore => None,
        Charge::RefusedBefore(reason) => Some(reason),
        Charge::Refused => {
            let reason = refusal(tx, user, amount).await?.to_string();
            storage::record_refusal(&mut *tx, event.saga_id, &event.order_id, &reason).await?;
            Some(reason)
        }
    };
    Ok(match refusal {
        None => succeeded(event, amount),
        Some(reason) => failed(event, reason),
    })
}

/// [`charge`]'s common case, for a message that arrives alone: the charge
/// and its `PaymentSucceeded` in one statement. `None`, with nothing
/// written, when the saga was answered before or the user cannot pay.
#[tracing::instrument(skip_all, fields(order_id = %event.order_id, saga_id = %event.saga_id))]
pub async fn charge_alone(
    pool: &PgPool,
    lone: Lone<'_>,
    event: StockReserved,
) -> Result<Option<Vec<Stored>>, HandlerError> {
    let Ok(user) = UserId::parse(&event.user_id) else {
        return Ok(None);
    };
    let amount = Amount::try_from(event.total_cost)?;
    let (saga_id, order_id) = (event.saga_id, event.order_id.clone());
    let events = outbox::Rows::new(vec![succeeded(event, amount)]);
    Ok(storage::charge_alone(pool, lone, events, saga_id, &order_id, &user, amount).await?)
}

/// [`charge`]'s common case for a batch of reservations, in one statement:
/// every charge and its `PaymentSucceeded`. `None`, with nothing written,
/// when a user id or an amount cannot be read, a saga repeats in the batch,
/// one was answered before or a user cannot pay what the batch charges them.
#[tracing::instrument(skip_all, fields(size = reserved.len()))]
pub async fn charge_together(
    pool: &PgPool,
    together: Together<'_>,
    reserved: Vec<(StockReserved, &tracing::Span)>,
) -> Result<Option<Vec<Stored>>, HandlerError> {
    let mut read = Vec::with_capacity(reserved.len());
    let mut sagas = std::collections::HashSet::new();
    for (event, _) in &reserved {
        let (Ok(user), Ok(amount)) = (UserId::parse(&event.user_id), Amount::try_from(event.total_cost))
        else {
            return Ok(None);
        };
        if !sagas.insert(event.saga_id) {
            return Ok(None);
        }
        read.push((user, amount));
    }
    let charges: Vec<_> = reserved
        .iter()
        .zip(&read)
        .map(|((event, _), (user, amount))| Charging {
            saga_id: event.saga_id,
            order_id: &event.order_id,
            user,
            amount: *amount,
        })
        .collect();
    let events = outbox::Rows::new(
        reserved
            .iter()
            .zip(&read)
            .map(|((event, span), (_, amount))| succeeded(event.clone(), *amount).traced_by(span))
            .collect(),
    );
    Ok(storage::charge_together(pool, together, events, &charges).await?)
}

fn succeeded(event: StockReserved, amount: Amount) -> OutboxMessage {
    events::message(&PaymentSucceeded {
        order_id: event.order_id,
        saga_id: event.saga_id,
        amount: amount.get(),
        occurred_at: Utc::now(),
    })
}

fn failed(event: StockReserved, reason: String) -> OutboxMessage {
    events::message(&PaymentFailed {
        order_id: event.order_id,
        saga_id: event.saga_id,
        reason,
        occurred_at: Utc::now(),
    })
}

/// Why a charge was refused: the user is unknown, or short of credit.
async fn refusal(tx: &mut PgConnection, user: UserId, amount: Amount) -> Result<PaymentError, HandlerError> {
    Ok(match storage::find_credit(&mut *tx, &user).await? {
        None => PaymentError::UserNotFound(user),
        Some(_) => PaymentError::InsufficientCredit { user, amount },
    })
}
