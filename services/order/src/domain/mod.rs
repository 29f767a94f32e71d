mod order;

pub use order::{ItemId, Order, OrderId, UserId};
