use lapin::message::Delivery;
use lapin::types::{AMQPValue, FieldTable};
use outbox::OutboxMessage;
use outbox::headers as outbox_headers;
use uuid::Uuid;

/// Headers the consumer adds when it republishes a failed delivery.
pub mod headers {
    /// Which delivery attempt this is, starting at 1.
    pub const ATTEMPT: &str = "x-attempt";
    /// On a parked message: the error of its last attempt.
    pub const ERROR: &str = "x-error";
}

/// A delivery, decoded: what a handler needs to know.
#[derive(Debug, Clone)]
pub struct IncomingMessage {
    pub message_id: Uuid,
    pub event_type: String,
    pub schema_version: i32,
    pub aggregate_id: String,
    pub traceparent: Option<String>,
    /// 1 on the first delivery, incremented by each retry.
    pub attempt: u32,
    pub body: Vec<u8>,
}

impl IncomingMessage {
    /// `message` as the broker delivers it the first time: what a test hands
    /// a handler or a consumer directly.
    pub fn first_delivery_of(message: &OutboxMessage) -> Self {
        IncomingMessage {
            message_id: message.message_id,
            event_type: message.event_type.clone(),
            schema_version: message.schema_version,
            aggregate_id: message.aggregate_id.clone(),
            traceparent: message.traceparent.clone(),
            attempt: 1,
            body: message.payload.to_string().into_bytes(),
        }
    }

    /// Decodes the body as the event type `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }
}

/// A delivery without a valid message id cannot be deduplicated; it is
/// parked at once.
#[derive(Debug, thiserror::Error)]
#[error("the message has no valid message id, so it cannot be applied exactly once")]
pub struct MissingMessageId;

impl TryFrom<&Delivery> for IncomingMessage {
    type Error = MissingMessageId;

    fn try_from(delivery: &Delivery) -> Result<Self, Self::Error> {
        let properties = &delivery.properties;
        let message_id = properties
            .message_id()
            .as_ref()
            .and_then(|id| Uuid::parse_str(id.as_str()).ok())
            .ok_or(MissingMessageId)?;
        let headers = properties.headers().as_ref();
        Ok(IncomingMessage {
            message_id,
            event_type: properties
                .kind()
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
            schema_version: int_header(headers, outbox_headers::SCHEMA_VERSION).unwrap_or(1) as i32,
            aggregate_id: string_header(headers, outbox_headers::AGGREGATE_ID).unwrap_or_default(),
            traceparent: string_header(headers, outbox_headers::TRACEPARENT),
            attempt: int_header(headers, headers::ATTEMPT).unwrap_or(1).max(1) as u32,
            body: delivery.data.clone(),
        })
    }
}

pub(super) fn string_header(headers: Option<&FieldTable>, name: &str) -> Option<String> {
    match headers?.inner().get(name)? {
        AMQPValue::LongString(value) => Some(String::from_utf8_lossy(value.as_bytes()).into_owned()),
        AMQPValue::ShortString(value) => Some(value.to_string()),
        _ => None,
    }
}

fn int_header(headers: Option<&FieldTable>, name: &str) -> Option<i64> {
    match headers?.inner().get(name)? {
        AMQPValue::ShortShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortInt(v) => Some(i64::from(*v)),
        AMQPValue::ShortUInt(v) => Some(i64::from(*v)),
        AMQPValue::LongInt(v) => Some(i64::from(*v)),
        AMQPValue::LongUInt(v) => Some(i64::from(*v)),
        AMQPValue::LongLongInt(v) => Some(*v),
        _ => None,
    }
}
