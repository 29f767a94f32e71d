//! `POST /orders/checkout/{order_id}`: start (or join) the order's saga, then
//! wait for its outcome, which whichever replica consumes the final event
//! announces through PostgreSQL to every replica.
mod metrics;
mod outcomes;
mod start;
mod wait;

pub use metrics::CheckoutMetrics;
pub use outcomes::{Outcomes, listen};
pub use start::{Started, start_or_join};
pub use wait::wait_for_outcome;
