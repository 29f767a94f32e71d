use serde::Serialize;
use uuid::Uuid;

/// Names of the AMQP headers every published event carries.
pub mod headers {
    pub const SCHEMA_VERSION: &str = "schema-version";
    pub const AGGREGATE_ID: &str = "aggregate-id";
    pub const TRACEPARENT: &str = "traceparent";
}

/// An event to publish, as the caller enqueues it; also how the relay reads
/// it back from its row.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    /// Consumers deduplicate by this id, so a republished row is applied once.
    pub message_id: Uuid,
    /// The exchange's local name; the relay adds the namespace.
    pub exchange: String,
    pub routing_key: String,
    pub event_type: String,
    pub schema_version: i32,
    /// Events of one aggregate (for the saga: one order) are published in
    /// the order they were enqueued.
    pub aggregate_id: String,
    pub payload: serde_json::Value,
    /// W3C trace context of the span that enqueued the event, when tracing
    /// exports one.
    pub traceparent: Option<String>,
}

impl OutboxMessage {
    /// A message with a fresh id for `payload`.
    pub fn new(
        exchange: &str,
        routing_key: &str,
        event_type: &str,
        schema_version: i32,
        aggregate_id: &str,
        payload: &impl Serialize,
    ) -> Result<Self, serde_json::Error> {
        Ok(OutboxMessage {
            // Time-ordered, so the inbox and outbox indexes on it grow at
            // their end instead of taking writes all over.
            message_id: Uuid::now_v7(),
            exchange: exchange.to_owned(),
            routing_key: routing_key.to_owned(),
            event_type: event_type.to_owned(),
            schema_version,
            aggregate_id: aggregate_id.to_owned(),
            payload: serde_json::to_value(payload)?,
            traceparent: None,
        })
    }

    /// The message with its own trace context, or else `span`'s: the
    /// event's consumers join the trace of the work that emitted it.
    pub fn traced_by(mut self, span: &tracing::Span) -> Self {
        if self.traceparent.is_none() {
            self.traceparent = platform::telemetry::traceparent_of(span);
        }
        self
    }
}
