//! Where orders live. [`OrderStore`] is all the rest of the service sees
//! of them, and [`StoreChores`] the loops (relay, pruner, outcome listener)
//! that `startup` runs beside it; `postgres/` (the default) and `mongo/`
//! (with the `mongodb` feature) implement both, and [`open`] picks one by
//! configuration.
mod chores;
mod error;
mod open;
pub mod postgres;
mod store;

#[cfg(feature = "mongodb")]
pub mod mongo;

pub use chores::StoreChores;
pub use error::StoreError;
pub use open::{Opened, open};
pub use store::{Applied, Effect, EffectResult, OrderStore, OrderWrites, Shutdown, effect, json_result};
