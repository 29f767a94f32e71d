//! The value types of the public HTTP contract. Each is parsed from its path
//! segment once, at the edge; code past the edge cannot hold an invalid one.
mod amount;
mod batch_size;
mod id;
mod input_error;
mod quantity;

pub use amount::Amount;
pub use batch_size::BatchSize;
pub use id::{Id, IdKind};
pub use input_error::InputError;
pub use quantity::Quantity;
