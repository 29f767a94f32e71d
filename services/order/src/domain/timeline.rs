use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// One line of an order's timeline: a step of one of its sagas, as the order
/// service learnt of it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct TimelineEntry {
    pub saga_id: Uuid,
    /// The service that took the step: `order`, `stock` or `payment`.
    pub service: String,
    /// The event that announced it, e.g. `StockReserved`.
    pub event: String,
    pub detail: Option<String>,
    pub at: DateTime<Utc>,
}
