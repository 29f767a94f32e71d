//! `Idempotency-Key` on mutating HTTP endpoints.
mod execute;
mod key;
mod store;

pub use execute::execute;
pub use key::{IdempotencyKey, IdempotentRequest, request};
pub use store::prune;
