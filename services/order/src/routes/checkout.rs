use platform::http::{respond, with_state};
use serde::Serialize;
use warp::{Filter, Rejection, Reply};

use super::State;
use crate::checkout::{start_or_join, wait_for_outcome};
use crate::domain::{OrderId, OrderState, OrderStatus, Started, TimelineEntry};
use crate::error::OrderError;

pub fn routes(state: State) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    // Checkout is idempotent per order by itself (a paid order answers 2xx
    // and charges nothing; concurrent checkouts join one saga), so it needs
    // no Idempotency-Key, and holds no database connection while it waits.
    let checkout = warp::path!("orders" / "checkout" / String)
        .and(warp::post())
        .and(with_state(state.clone()))
        .then(checkout)
        .map(respond);
    let status = warp::path!("orders" / "status" / String)
        .and(warp::get())
        .and(with_state(state))
        .then(status)
        .map(respond);
    checkout.or(status).unify()
}

#[derive(Debug, Serialize)]
struct Paid {
    order_id: OrderId,
    paid: bool,
}

/// Counts and times each checkout by outcome, around [`paid`].
async fn checkout(order_id: String, state: State) -> Result<Paid, OrderError> {
    let started = std::time::Instant::now();
    let result = paid(order_id, &state).await;
    state.checkout_metrics.observe(&result, started.elapsed());
    result
}

#[tracing::instrument(name = "checkout", skip(state))]
async fn paid(order_id: String, state: &State) -> Result<Paid, OrderError> {
    let order_id = OrderId::parse(&order_id)?;
    let deadline = tokio::time::Instant::now() + state.checkout_timeout;
    let mut subscription = state.waiters.subscribe(order_id.as_str());
    if let Started::Running(saga) = start_or_join(state.store.as_ref(), &order_id, deadline).await? {
        wait_for_outcome(state.store.as_ref(), &order_id, saga, &mut subscription, deadline).await?;
    }
    Ok(Paid { order_id, paid: true })
}

#[derive(Debug, Serialize)]
struct SagaStatus {
    order_id: OrderId,
    status: OrderStatus,
    paid: bool,
    failure_reason: Option<String>,
    timeline: Vec<TimelineEntry>,
}

#[tracing::instrument(skip(state))]
async fn status(order_id: String, state: State) -> Result<SagaStatus, OrderError> {
    let order_id = OrderId::parse(&order_id)?;
    let OrderState {
        status,
        failure_reason,
    } = state
        .store
        .order_state(&order_id)
        .await?
        .ok_or_else(|| OrderError::OrderNotFound(order_id.clone()))?;
    let timeline = state.store.timeline(&order_id).await?;
    Ok(SagaStatus {
        paid: status == OrderStatus::Paid,
        order_id,
        status,
        failure_reason,
        timeline,
    })
}
