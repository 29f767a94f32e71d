//! `POST /orders/checkout/{order_id}`: start (or join) the order's saga, then
//! wait for its outcome, which whichever replica consumes the final event
//! announces through the store to every replica. What the checkout does is
//! decided here ([`plan`]); the store only carries it out.
mod metrics;
mod outcomes;
mod start;
mod wait;

pub use metrics::CheckoutMetrics;
pub use outcomes::{Outcomes, Subscription};
pub use start::{NewSaga, Plan, Started, plan};
pub use wait::{start_or_join, wait_for_outcome};
