//! `Idempotency-Key` on mutating HTTP endpoints.
mod answer;
mod execute;
mod key;
mod store;

pub use answer::KeyedAnswer;
pub use execute::{execute, execute_keyed};
pub use key::{IdempotencyKey, IdempotentRequest, request};
pub use store::{SavedAnswer, prune};
