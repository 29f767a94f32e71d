mod item;
mod reservation;

pub use item::{Item, ItemId, StockChanged, StockLevel};
pub use reservation::Wanted;
