//! The order database's SQL, one function per statement. Every function takes
//! any executor, so a caller may run it inside its own transaction.
mod orders;
pub mod saga;

pub use orders::{append_line, batch_init, find_order, insert_order};
