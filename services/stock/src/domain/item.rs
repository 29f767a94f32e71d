use platform::domain::{Id, IdKind};
use serde::Serialize;

/// Marker for item ids.
#[derive(Debug)]
pub enum Item {}

impl IdKind for Item {
    const NAME: &'static str = "item";
}

pub type ItemId = Id<Item>;

/// What `GET /stock/find/{item_id}` answers.
#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct StockLevel {
    pub stock: i64,
    pub price: i64,
}

/// What a change of stock answers: the item and its stock afterwards.
#[derive(Debug, Serialize)]
pub struct StockChanged {
    pub item_id: ItemId,
    pub stock: i64,
}

impl StockChanged {
    pub fn new(item_id: ItemId, stock: i64) -> Self {
        StockChanged { item_id, stock }
    }
}
