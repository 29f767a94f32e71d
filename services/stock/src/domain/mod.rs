mod item;

pub use item::{Item, ItemId, StockChanged, StockLevel};
