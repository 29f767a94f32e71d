//! The stock database's SQL, one function per statement. Every function takes
//! any executor, so a caller may run it inside its own transaction.
mod items;
mod reservations;

pub use items::{add_stock, batch_init, find_item, insert_item, subtract_stock};
pub use reservations::{
    Earlier, Locked, Reserving, lock_for_saga, record_rejection, release_reservation, reserve_alone,
    reserve_together, take_and_reserve,
};
