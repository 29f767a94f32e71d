use platform::domain::{Id, IdKind};
use serde::Serialize;

/// Marker for order ids.
#[derive(Debug)]
pub enum OrderKind {}

impl IdKind for OrderKind {
    const NAME: &'static str = "order";
}

/// Marker for the ids of the stock service's items, as orders refer to them.
#[derive(Debug)]
pub enum ItemKind {}

impl IdKind for ItemKind {
    const NAME: &'static str = "item";
}

/// Marker for the ids of the payment service's users.
#[derive(Debug)]
pub enum UserKind {}

impl IdKind for UserKind {
    const NAME: &'static str = "user";
}

pub type OrderId = Id<OrderKind>;
pub type ItemId = Id<ItemKind>;
pub type UserId = Id<UserKind>;

/// An order as `GET /orders/find/{order_id}` answers it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Order {
    pub order_id: String,
    pub paid: bool,
    /// `[item_id, quantity]` pairs in the order they were added.
    #[sqlx(json)]
    pub items: Vec<(String, i64)>,
    pub user_id: String,
    pub total_cost: i64,
    /// `open`, `checking_out`, `paid` or `failed`; not in the contract's
    /// answer, which has `paid`.
    #[serde(skip)]
    pub status: String,
}
