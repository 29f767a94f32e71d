//! `Idempotency-Key` on mutating HTTP endpoints.
mod execute;
mod key;
mod store;

pub use execute::{execute, replay_answer};
pub use key::{IdempotencyKey, IdempotentRequest, request};
pub use store::{SavedAnswer, prune};
