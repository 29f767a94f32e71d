use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{OrderState, OrderStatus, TimelineEntry};

/// What the order service reads from any saga event: a line for the order's
/// timeline and, when the event ends the saga, how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct SagaStep {
    pub order_id: String,
    pub entry: TimelineEntry,
    /// `None` while the saga goes on.
    pub outcome: Option<SagaEnd>,
}

/// How a saga ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SagaEnd {
    Paid,
    Failed(String),
}

impl SagaEnd {
    /// The end an order's stored state tells; `None` while its saga runs
    /// (or before any).
    pub fn of(state: OrderState) -> Option<Self> {
        match state.status {
            OrderStatus::Paid => Some(SagaEnd::Paid),
            OrderStatus::Failed => Some(SagaEnd::Failed(state.failure_reason.unwrap_or_default())),
            OrderStatus::Open | OrderStatus::CheckingOut => None,
        }
    }

    /// The order status that stands for this end: the inverse of
    /// [`SagaEnd::of`].
    pub fn status(&self) -> OrderStatus {
        match self {
            SagaEnd::Paid => OrderStatus::Paid,
            SagaEnd::Failed(_) => OrderStatus::Failed,
        }
    }

    /// The failure reason to store; `None` when paid.
    pub fn failure(&self) -> Option<&str> {
        match self {
            SagaEnd::Paid => None,
            SagaEnd::Failed(reason) => Some(reason),
        }
    }
}

/// A saga that ended: what the order consumer tells the waiting checkouts,
/// in this process directly and in the others through the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ended {
    pub order_id: String,
    pub saga_id: Uuid,
    pub end: SagaEnd,
}

#[cfg(test)]
impl Ended {
    /// A fresh saga of `order_id` that ended so.
    pub(crate) fn of(order_id: &str, end: SagaEnd) -> Self {
        Ended {
            order_id: order_id.into(),
            saga_id: Uuid::now_v7(),
            end,
        }
    }
}
