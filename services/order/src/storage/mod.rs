//! Where orders live. [`OrderStore`] is all the rest of the service sees;
//! `postgres/` (the default) and `mongo/` (with the `mongodb` feature)
//! implement it, and [`open`] picks one by configuration.
mod error;
mod open;
pub mod postgres;
mod store;

#[cfg(feature = "mongodb")]
pub mod mongo;

pub use error::StoreError;
pub use open::{Opened, open};
pub use store::{Answer, Applied, Operation, OrderStore, OrderWrites, Shutdown, answer, operation};
