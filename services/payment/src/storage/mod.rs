//! The payment database's SQL, one function per statement. Every function
//! takes any executor, so a caller may run it inside its own transaction.
mod payments;
mod users;

pub use payments::{Charge, Charging, charge, charge_alone, charge_together, record_refusal};
pub use users::{add_credit, batch_init, find_credit, insert_user, subtract_credit};
