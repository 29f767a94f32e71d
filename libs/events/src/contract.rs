use outbox::OutboxMessage;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What makes a payload an event of the saga.
pub trait Event: Serialize + DeserializeOwned {
    /// The AMQP `type` and the name in timelines.
    const NAME: &'static str;
    /// Bumped on any change a reader of the previous version cannot read.
    const VERSION: i32;
    /// The exchange of the emitting service.
    const EXCHANGE: &'static str;
    const ROUTING_KEY: &'static str;

    /// The order this event is about: the aggregate whose events stay in order.
    fn order_id(&self) -> &str;
}

/// The outbox message that carries `event`.
pub fn message<E: Event>(event: &E) -> OutboxMessage {
    OutboxMessage::new(
        E::EXCHANGE,
        E::ROUTING_KEY,
        E::NAME,
        E::VERSION,
        event.order_id(),
        event,
    )
    .expect("event payloads are plain data and always serialise")
}

/// Why a message could not be read as the event it claims to be.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{name} version {found} is not readable here (this service reads version {expected})")]
    UnknownVersion {
        name: &'static str,
        found: i32,
        expected: i32,
    },
    #[error("{name} payload is malformed: {source}")]
    Malformed {
        name: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("{queue} does not carry {event_type} events")]
    NotCarried { queue: &'static str, event_type: String },
}

/// Reads a message body as event `E` of schema version `version`.
pub fn decode<E: Event>(version: i32, body: &[u8]) -> Result<E, DecodeError> {
    if version != E::VERSION {
        return Err(DecodeError::UnknownVersion {
            name: E::NAME,
            found: version,
            expected: E::VERSION,
        });
    }
    serde_json::from_slice(body).map_err(|source| DecodeError::Malformed {
        name: E::NAME,
        source,
    })
}
