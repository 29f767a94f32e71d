use chrono::Utc;
use events::{CheckoutRequested, StockRejected, StockReserved};
use idempotency::{HandlerError, Lone, Together};
use outbox::{OutboxMessage, Stored};
use sqlx::{PgConnection, PgPool};

use crate::domain::Wanted;
use crate::storage::{self, Earlier, Reserving};

/// Takes every line of the checkout, or none. The rows are locked first, in
/// item id order (no deadlocks between sagas); the decision is made on what
/// was locked, then applied in one statement: `StockReserved` with the
/// reservation, or `StockRejected` with the reason (recorded) and nothing
/// taken. Either event commits with the outcome. Asked again for a saga it
/// answered before, it answers the same and takes nothing. A database fault
/// is returned as an error, so the message is retried, not refused.
#[tracing::instrument(skip_all, fields(order_id = %event.order_id, saga_id = %event.saga_id))]
pub async fn reserve(tx: &mut PgConnection, event: CheckoutRequested) -> Result<OutboxMessage, HandlerError> {
    let wanted = Wanted::from_lines(&event.lines);
    let item_ids = wanted.as_ref().map(Wanted::item_ids).unwrap_or_default();
    let locked = storage::lock_for_saga(&mut *tx, event.saga_id, &item_ids).await?;
    let refusal = match locked.earlier {
        Some(Earlier::Reserved) => None,
        Some(Earlier::Rejected(reason)) => Some(reason),
        None => decide(tx, &event, wanted, &locked.stock).await?,
    };
    Ok(match refusal {
        Some(reason) => events::message(&StockRejected {
            order_id: event.order_id,
            saga_id: event.saga_id,
            reason,
            occurred_at: Utc::now(),
        }),
        None => reserved(event),
    })
}

/// [`reserve`]'s common case, for a message that arrives alone: the
/// reservation and its `StockReserved` in one statement. `None`, with
/// nothing written, when the saga was answered before or the stock does not
/// cover the lines.
#[tracing::instrument(skip_all, fields(order_id = %event.order_id, saga_id = %event.saga_id))]
pub async fn reserve_alone(
    pool: &PgPool,
    lone: Lone<'_>,
    event: CheckoutRequested,
) -> Result<Option<Vec<Stored>>, HandlerError> {
    let Ok(wanted) = Wanted::from_lines(&event.lines) else {
        return Ok(None);
    };
    let (saga_id, order_id, lines) = (event.saga_id, event.order_id.clone(), event.lines.clone());
    let events = outbox::Rows::new(vec![reserved(event)]);
    Ok(storage::reserve_alone(pool, lone, events, saga_id, &order_id, &wanted, &lines).await?)
}

/// [`reserve`]'s common case for a batch of checkouts, in one statement:
/// every reservation and its `StockReserved`. `None`, with nothing written,
/// when a line cannot be read, a saga repeats in the batch, one was answered
/// before or the stock does not cover what the batch wants as a whole.
#[tracing::instrument(skip_all, fields(size = requested.len()))]
pub async fn reserve_together(
    pool: &PgPool,
    together: Together<'_>,
    requested: Vec<(CheckoutRequested, &tracing::Span)>,
) -> Result<Option<Vec<Stored>>, HandlerError> {
    let mut wanted = Vec::with_capacity(requested.len());
    let mut sagas = std::collections::HashSet::new();
    for (event, _) in &requested {
        let Ok(lines) = Wanted::from_lines(&event.lines) else {
            return Ok(None);
        };
        if !sagas.insert(event.saga_id) {
            return Ok(None);
        }
        wanted.push(lines);
    }
    let checkouts: Vec<_> = requested
        .iter()
        .zip(&wanted)
        .map(|((event, _), wanted)| Reserving {
            saga_id: event.saga_id,
            order_id: &event.order_id,
            wanted,
            lines: &event.lines,
        })
        .collect();
    let events = outbox::Rows::new(
        requested
            .iter()
            .map(|(event, span)| reserved(event.clone()).traced_by(span))
            .collect(),
    );
    Ok(storage::reserve_together(pool, together, events, &checkouts).await?)
}

fn reserved(event: CheckoutRequested) -> OutboxMessage {
    events::message(&StockReserved {
        order_id: event.order_id,
        saga_id: event.saga_id,
        user_id: event.user_id,
        total_cost: event.total_cost,
        lines: event.lines,
        occurred_at: Utc::now(),
    })
}

/// The first answer to a saga: takes the lines and records the reservation,
/// or records why not; `Some(reason)` when refused.
async fn decide(
    tx: &mut PgConnection,
    event: &CheckoutRequested,
    wanted: Result<Wanted, String>,
    stock: &[(String, i64)],
) -> Result<Option<String>, HandlerError> {
    let refusal = match wanted {
        Err(reason) => reason,
        Ok(wanted) => match wanted.shortfall(stock) {
            Some(refusal) => refusal.to_string(),
            None => {
                storage::take_and_reserve(&mut *tx, event.saga_id, &event.order_id, &wanted, &event.lines)
                    .await?;
                return Ok(None);
            }
        },
    };
    storage::record_rejection(&mut *tx, event.saga_id, &event.order_id, &refusal).await?;
    Ok(Some(refusal))
}
