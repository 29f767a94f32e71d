use super::TimelineEntry;

/// What the order service reads from any saga event: a line for the order's
/// timeline and, when the event ends the saga, its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct SagaStep {
    pub order_id: String,
    pub entry: TimelineEntry,
    /// `Some(None)`: paid; `Some(Some(reason))`: failed; `None`: not final.
    pub outcome: Option<Option<String>>,
}
