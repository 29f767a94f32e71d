//! The parking lot: messages that failed every attempt wait there for an
//! operator, who lists them, fixes the cause, and replays them.
use lapin::options::{BasicAckOptions, BasicGetOptions};
use lapin::types::AMQPValue;
use outbox::BrokerSettings;
use outbox::broker::{PublishError, Publisher, confirmed};
use outbox::topology::{parked_queue, partition_queue};

use crate::consumer::headers;

/// One parked message, as `parking-lot list` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parked {
    pub message_id: String,
    pub event_type: String,
    pub attempts: String,
    pub error: String,
}

/// The messages parked for `queue` (its local name, e.g. `stock.checkout`).
/// They stay parked: each is taken without an ack and returned when the
/// channel closes.
pub async fn list(settings: &BrokerSettings, queue: &str) -> Result<Vec<Parked>, lapin::Error> {
    let publisher = Publisher::connect(settings, "parking-lot list").await?;
    let channel = publisher.channel();
    let parked = parked_queue(&settings.name(queue));
    let mut found = Vec::new();
    while let Some(message) = channel
        .basic_get(parked.as_str().into(), BasicGetOptions::default())
        .await?
    {
        let properties = &message.delivery.properties;
        let header = |name: &str| {
            properties
                .headers()
                .as_ref()
                .and_then(|h| h.inner().get(name).map(header_text))
                .unwrap_or_default()
        };
        found.push(Parked {
            message_id: properties
                .message_id()
                .as_ref()
                .map(|id| id.to_string())
                .unwrap_or_default(),
            event_type: properties
                .kind()
                .as_ref()
                .map(|t| t.to_string())
                .unwrap_or_default(),
            attempts: header(headers::ATTEMPT),
            error: header(headers::ERROR),
        });
    }
    channel.close(200, "listed".into()).await?;
    Ok(found)
}

/// Moves every message parked for `queue` back to the queue of its
/// aggregate's partition with a fresh attempt count; returns how many. Each is acked in the parking lot only
/// after the broker confirmed its copy, so none is lost if this stops
/// half-way (a replayed copy may then exist twice, which the inbox absorbs).
pub async fn replay(settings: &BrokerSettings, queue: &str) -> Result<usize, PublishError> {
    let publisher = Publisher::connect(settings, "parking-lot replay").await?;
    let main = settings.name(queue);
    let parked = parked_queue(&main);
    let mut replayed = 0;
    while let Some(message) = publisher
        .channel()
        .basic_get(parked.as_str().into(), BasicGetOptions::default())
        .await?
    {
        let delivery = &message.delivery;
        let mut table = delivery.properties.headers().clone().unwrap_or_default();
        let aggregate = table
            .inner()
            .get(outbox::headers::AGGREGATE_ID)
            .map(header_text)
            .unwrap_or_default();
        let to = partition_queue(&main, settings.partitions.of(&aggregate));
        table.insert(headers::ATTEMPT.into(), AMQPValue::LongLongInt(1));
        table.insert(headers::ERROR.into(), AMQPValue::Void);
        let properties = delivery.properties.clone().with_headers(table);
        let confirm = publisher.send_raw("", &to, &delivery.data, properties).await?;
        confirmed(confirm, &to).await?;
        delivery.acker.ack(BasicAckOptions::default()).await?;
        replayed += 1;
    }
    Ok(replayed)
}

fn header_text(value: &AMQPValue) -> String {
    match value {
        AMQPValue::LongString(text) => String::from_utf8_lossy(text.as_bytes()).into_owned(),
        AMQPValue::LongLongInt(n) => n.to_string(),
        AMQPValue::LongInt(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}
