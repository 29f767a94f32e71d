//! The `/orders` contract. Every path keeps its prefix so the service answers
//! the same URLs behind the gateway and when called directly.
mod batch_init;
mod checkout;
mod orders;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use warp::{Filter, Rejection, Reply};

use crate::checkout::CheckoutMetrics;
use crate::peers::Peers;
use crate::storage::OrderStore;
use crate::waiters::Waiters;

/// What every handler may use.
#[derive(Debug, Clone)]
pub struct State {
    pub store: Arc<dyn OrderStore>,
    pub peers: Peers,
    /// The checkouts this replica is waiting on.
    pub waiters: Waiters,
    /// How long a checkout waits for its saga before answering 503.
    pub checkout_timeout: Duration,
    /// Whether the consumer is connected to the broker, for health.
    pub broker_connected: Arc<AtomicBool>,
    /// Checkout outcomes and latencies, for `GET /metrics`.
    pub checkout_metrics: CheckoutMetrics,
}

pub fn routes(state: State) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    orders::routes(state.clone())
        .or(checkout::routes(state.clone()))
        .or(batch_init::route(state.store.clone()))
        .or(platform::health::probed(
            "orders",
            move || {
                let store = state.store.clone();
                async move { store.is_reachable().await }
            },
            state.broker_connected,
        ))
        .or(platform::openapi::route("orders"))
}
