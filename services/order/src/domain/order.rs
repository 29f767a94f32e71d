use std::fmt;
use std::str::FromStr;

use platform::domain::{Id, IdKind};
use serde::{Deserialize, Serialize};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};

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
    /// Not in the contract's answer, which has `paid`.
    #[serde(skip)]
    pub status: OrderStatus,
}

/// Where an order is in its life. An order is `Open` until its first
/// checkout, `CheckingOut` while a saga runs for it (its lines frozen), then
/// `Paid` for good or `Failed`, from where a new checkout may start again.
///
/// Both stores keep it as text; the spelling below, and the `text` mapping
/// under it, are the only place the words appear in Rust (SQL statements
/// that filter on a status name it in the SQL itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    CheckingOut,
    Paid,
    Failed,
}

impl OrderStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::CheckingOut => "checking_out",
            OrderStatus::Paid => "paid",
            OrderStatus::Failed => "failed",
        }
    }

    /// May a checkout start a saga for an order in this status?
    pub const fn may_start_checkout(self) -> bool {
        matches!(self, OrderStatus::Open | OrderStatus::Failed)
    }
}

impl FromStr for OrderStatus {
    type Err = UnknownStatus;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            OrderStatus::Open,
            OrderStatus::CheckingOut,
            OrderStatus::Paid,
            OrderStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
        .ok_or_else(|| UnknownStatus(text.to_owned()))
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored status that is none of [`OrderStatus`]'s: a row written by
/// something other than this service.
#[derive(Debug, thiserror::Error)]
#[error("unknown order status {0:?}")]
pub struct UnknownStatus(String);

impl sqlx::Type<Postgres> for OrderStatus {
    fn type_info() -> PgTypeInfo {
        <&str as sqlx::Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <&str as sqlx::Type<Postgres>>::compatible(ty)
    }
}

impl sqlx::Encode<'_, Postgres> for OrderStatus {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <&str as sqlx::Encode<Postgres>>::encode(self.as_str(), buf)
    }
}

impl sqlx::Decode<'_, Postgres> for OrderStatus {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        Ok(<&str as sqlx::Decode<Postgres>>::decode(value)?.parse()?)
    }
}

/// An order's status and, when its last saga failed, why: what the saga
/// status endpoint and a waiting checkout read.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrderState {
    pub status: OrderStatus,
    pub failure_reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_as_itself_and_a_stranger_is_refused() {
        for status in [
            OrderStatus::Open,
            OrderStatus::CheckingOut,
            OrderStatus::Paid,
            OrderStatus::Failed,
        ] {
            assert_eq!(status.as_str().parse::<OrderStatus>().ok(), Some(status));
            assert_eq!(serde_json::to_value(status).ok(), Some(status.as_str().into()));
        }
        assert!("Paid".parse::<OrderStatus>().is_err());
    }
}
