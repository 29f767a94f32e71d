//! `POST /orders/checkout/{order_id}`: start (or join) the order's saga, then
//! wait for its outcome, which whichever replica consumes the final event
//! announces through the store to every replica. What the checkout does is
//! decided in the domain ([`crate::domain::plan`]); the store only carries
//! it out. A saga that stalls is driven again by the `watchdog`.
mod metrics;
mod wait;
pub mod watchdog;

pub use metrics::CheckoutMetrics;
pub use wait::{start_or_join, wait_for_outcome};
