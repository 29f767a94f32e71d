//! How orders, timeline lines and outbox messages look as BSON documents.
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Bson};
use outbox::OutboxMessage;
use serde::{Deserialize, Serialize};

use crate::domain::{Order, OrderState, OrderStatus, TimelineEntry};

/// An order in the `orders` collection. `_id` is the order id, the hashed
/// shard key, so every write of one order goes to one shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderDocument {
    #[serde(rename = "_id")]
    pub id: String,
    pub user_id: String,
    pub paid: bool,
    /// `[item_id, quantity]` pairs in the order they were added, as in
    /// PostgreSQL's JSONB column.
    pub items: Vec<(String, i64)>,
    pub total_cost: i64,
    pub status: OrderStatus,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

impl OrderDocument {
    pub fn new(id: &str, user_id: &str) -> Self {
        OrderDocument {
            id: id.to_owned(),
            user_id: user_id.to_owned(),
            paid: false,
            items: Vec::new(),
            total_cost: 0,
            status: OrderStatus::Open,
            failure_reason: None,
        }
    }
}

impl From<OrderDocument> for Order {
    fn from(document: OrderDocument) -> Self {
        Order {
            order_id: document.id,
            paid: document.paid,
            items: document.items,
            user_id: document.user_id,
            total_cost: document.total_cost,
            status: document.status,
        }
    }
}

/// Statuses are stored as their names, as in PostgreSQL.
impl From<OrderStatus> for Bson {
    fn from(status: OrderStatus) -> Self {
        Bson::String(status.as_str().to_owned())
    }
}

/// An order's status and failure reason, as the status endpoint projects
/// them.
#[derive(Debug, Deserialize)]
pub struct StateDocument {
    pub status: OrderStatus,
    #[serde(default)]
    pub failure_reason: Option<String>,
}

impl From<StateDocument> for OrderState {
    fn from(document: StateDocument) -> Self {
        OrderState {
            status: document.status,
            failure_reason: document.failure_reason,
        }
    }
}

/// A line of the order's `timeline` array: kept inside the order document,
/// so the lines are in the order they were pushed, with no clock involved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineDocument {
    pub saga_id: bson::Uuid,
    pub service: String,
    pub event: String,
    pub detail: Option<String>,
    pub at: bson::DateTime,
}

impl From<&TimelineEntry> for TimelineDocument {
    fn from(entry: &TimelineEntry) -> Self {
        TimelineDocument {
            saga_id: bson::Uuid::from_bytes(entry.saga_id.into_bytes()),
            service: entry.service.clone(),
            event: entry.event.clone(),
            detail: entry.detail.clone(),
            at: date(entry.at),
        }
    }
}

impl From<TimelineDocument> for TimelineEntry {
    fn from(document: TimelineDocument) -> Self {
        TimelineEntry {
            saga_id: uuid::Uuid::from_bytes(document.saga_id.bytes()),
            service: document.service,
            event: document.event,
            detail: document.detail,
            at: DateTime::from_timestamp_millis(document.at.timestamp_millis()).unwrap_or_default(),
        }
    }
}

/// An event waiting in the `outbox` collection. `_id` is the message id;
/// `seq` orders the events of one aggregate (an order), counted on the order
/// document in the transaction that enqueues the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxDocument {
    #[serde(rename = "_id")]
    pub message_id: bson::Uuid,
    pub aggregate_id: String,
    pub seq: i64,
    pub exchange: String,
    pub routing_key: String,
    pub event_type: String,
    pub schema_version: i32,
    pub payload: Bson,
    pub traceparent: Option<String>,
    pub enqueued_at: bson::DateTime,
}

impl OutboxDocument {
    pub fn new(message: &OutboxMessage, seq: i64) -> Result<Self, bson::ser::Error> {
        Ok(OutboxDocument {
            message_id: bson::Uuid::from_bytes(message.message_id.into_bytes()),
            aggregate_id: message.aggregate_id.clone(),
            seq,
            exchange: message.exchange.clone(),
            routing_key: message.routing_key.clone(),
            event_type: message.event_type.clone(),
            schema_version: message.schema_version,
            payload: bson::to_bson(&message.payload)?,
            traceparent: message.traceparent.clone(),
            enqueued_at: bson::DateTime::now(),
        })
    }

    pub fn message(&self) -> OutboxMessage {
        OutboxMessage {
            message_id: uuid::Uuid::from_bytes(self.message_id.bytes()),
            exchange: self.exchange.clone(),
            routing_key: self.routing_key.clone(),
            event_type: self.event_type.clone(),
            schema_version: self.schema_version,
            aggregate_id: self.aggregate_id.clone(),
            payload: self.payload.clone().into_relaxed_extjson(),
            traceparent: self.traceparent.clone(),
        }
    }
}

/// MongoDB keeps milliseconds; the microseconds PostgreSQL keeps are dropped.
pub fn date(at: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(at.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_survives_the_trip_through_bson() {
        let mut document = OrderDocument::new("o-1", "u-1");
        document.items = vec![("a".into(), 2), ("b".into(), i64::MAX)];
        document.total_cost = i64::MAX;

        let bson = bson::to_document(&document).expect("serialises");
        let back: OrderDocument = bson::from_document(bson.clone()).expect("deserialises");

        assert_eq!(bson.get_str("_id"), Ok("o-1"));
        assert_eq!(bson.get_i64("total_cost"), Ok(i64::MAX));
        assert_eq!(back, document);
        let order = Order::from(back);
        assert_eq!(
            (order.order_id.as_str(), order.status),
            ("o-1", OrderStatus::Open)
        );
        assert_eq!(order.items[1], ("b".to_owned(), i64::MAX));
    }

    #[test]
    fn a_timeline_line_keeps_its_saga_and_millisecond_time() {
        let at = DateTime::from_timestamp_millis(1_764_000_000_123).expect("a valid time");
        let entry = TimelineEntry {
            saga_id: uuid::Uuid::new_v4(),
            service: "stock".into(),
            event: "StockReserved".into(),
            detail: None,
            at,
        };

        let bson = bson::to_bson(&TimelineDocument::from(&entry)).expect("serialises");
        let back: TimelineDocument = bson::from_bson(bson).expect("deserialises");

        assert_eq!(TimelineEntry::from(back), entry);
    }

    #[test]
    fn an_outbox_message_comes_back_as_it_was_enqueued() {
        let payload = serde_json::json!({"order_id": "o-1", "total_cost": 9_007_199_254_740_993_i64,
            "lines": [{"item_id": "a", "quantity": 2}], "occurred_at": "2026-11-25T04:00:00Z"});
        let mut message = OutboxMessage::new(
            "order",
            "checkout.requested",
            "CheckoutRequested",
            1,
            "o-1",
            &payload,
        )
        .expect("a message");
        message.traceparent = Some("00-abc-def-01".into());

        let document = OutboxDocument::new(&message, 7).expect("converts");
        let bson = bson::to_document(&document).expect("serialises");
        let back: OutboxDocument = bson::from_document(bson).expect("deserialises");

        assert_eq!(back.seq, 7);
        assert_eq!(back.message(), message);
    }
}
