use std::time::Duration;

use outbox::Backoff;
use platform::failure::Failure;
use tokio::time::Instant;
use uuid::Uuid;

use crate::domain::{OrderId, SagaEnd, Started};
use crate::error::OrderError;
use crate::storage::OrderStore;
use crate::waiters::{News, Waiter};

/// How often a waiting request re-reads the order without being woken: the
/// safety net for a notification lost while the database restarted.
const RECHECK: Duration = Duration::from_secs(1);

/// Waits until the order's saga is final: `Ok` when paid, the failure's
/// reason as a 409 otherwise. While the database or a peer is being
/// repaired it keeps waiting, never guessing, up to `checkout_timeout`.
///
/// `saga` is the saga this request started, when it started one: news of
/// that saga's end is the answer, with no read. Any other news, and the
/// periodic re-read, read the order. The caller has just seen the saga
/// running, after `subscription` was taken, so the order is not read
/// before any news: it would be found running, a round trip for nothing.
pub async fn wait_for_outcome(
    store: &dyn OrderStore,
    order_id: &OrderId,
    saga: Option<Uuid>,
    subscription: &mut Waiter,
    deadline: Instant,
) -> Result<(), OrderError> {
    loop {
        let news = tokio::select! {
            news = subscription.changed() => news,
            () = tokio::time::sleep(RECHECK) => News::Reread,
            () = tokio::time::sleep_until(deadline) => {
                return Err(OrderError::CheckoutPending(order_id.clone()));
            }
        };
        let end = match news {
            News::Ended { saga_id, end } if Some(saga_id) == saga => Some(end),
            _ => read_end(store, order_id).await?,
        };
        match end {
            Some(SagaEnd::Paid) => return Ok(()),
            Some(SagaEnd::Failed(reason)) => {
                return Err(OrderError::CheckoutFailed {
                    order: order_id.clone(),
                    reason,
                });
            }
            None => {}
        }
    }
}

/// The order's saga's end as stored; `None` while it runs, or when the
/// database cannot say now (the wait goes on).
async fn read_end(store: &dyn OrderStore, order_id: &OrderId) -> Result<Option<SagaEnd>, OrderError> {
    match store.order_state(order_id).await {
        Ok(Some(state)) => Ok(SagaEnd::of(state)),
        Ok(None) => Err(OrderError::OrderNotFound(order_id.clone())),
        Err(error) => {
            tracing::warn!(%error, order_id = %order_id, "waiting for a checkout outcome");
            Ok(None)
        }
    }
}

/// Starts or joins the order's saga; while the database is unavailable (or
/// any failure `platform::failure` calls transient lasts) it tries again, with backoff, up to `deadline`, as the waiting does: a
/// database restart is a pause, not a failure the client must handle. A
/// checkout is idempotent per order, so a retry after a commit whose answer
/// was lost joins the saga that commit started.
pub async fn start_or_join(
    store: &dyn OrderStore,
    order_id: &OrderId,
    deadline: Instant,
) -> Result<Started, OrderError> {
    let mut backoff = Backoff::new(Duration::from_millis(50), RECHECK);
    loop {
        match store.start_or_join(order_id).await {
            Err(error) if Failure::of(&error).is_transient() && Instant::now() < deadline => {
                tracing::warn!(%error, order_id = %order_id, "starting a checkout; trying again");
                tokio::time::sleep_until(deadline.min(Instant::now() + backoff.next_delay())).await;
            }
            other => return other,
        }
    }
}
