//! Exchanges, queues and bindings, declared idempotently at start-up by
//! every process that publishes or consumes, so that no event is published
//! before the queue that must receive it exists.
use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};

use crate::settings::BrokerSettings;

/// A consuming service's queue for one event stream.
#[derive(Debug, Clone)]
pub struct QueueSpec {
    /// Local name; the broker-side name adds the namespace.
    pub name: String,
    /// `(exchange, routing key pattern)` pairs, exchange by local name.
    pub bindings: Vec<(String, String)>,
    /// Bindings an earlier version declared and this one does not want:
    /// declaring never removes a binding, so these are unbound explicitly.
    pub retired_bindings: Vec<(String, String)>,
}

/// Everything a system needs declared.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    pub exchanges: Vec<String>,
    pub queues: Vec<QueueSpec>,
}

/// Where a failed delivery waits before it goes back to its queue.
pub fn retry_queue(queue: &str) -> String {
    format!("{queue}.retry")
}

/// Where a message that failed too often is kept for an operator.
pub fn parked_queue(queue: &str) -> String {
    format!("{queue}.parked")
}

impl Topology {
    /// Declares every exchange (durable topic) and, per queue, the queue
    /// itself, its retry queue and its parking lot. Declaring what exists
    /// with the same arguments is a no-op, so every replica may do it.
    pub async fn declare(&self, channel: &Channel, settings: &BrokerSettings) -> Result<(), lapin::Error> {
        for exchange in &self.exchanges {
            // Where queues expire (tests), exchanges go with their last
            // binding, so test namespaces leave nothing behind.
            let options = ExchangeDeclareOptions {
                durable: true,
                auto_delete: settings.queue_expires.is_some(),
                ..ExchangeDeclareOptions::default()
            };
            channel
                .exchange_declare(
                    settings.name(exchange).into(),
                    ExchangeKind::Topic,
                    options,
                    FieldTable::default(),
                )
                .await?;
        }
        for queue in &self.queues {
            declare_queue(channel, settings, queue).await?;
        }
        Ok(())
    }
}

async fn declare_queue(
    channel: &Channel,
    settings: &BrokerSettings,
    queue: &QueueSpec,
) -> Result<(), lapin::Error> {
    let main = settings.name(&queue.name);
    // One active consumer per queue (the others wait as hot standbys): the
    // events of an aggregate are then handled in the order they were sent.
    let mut arguments = base_arguments(settings, &settings.queue_type);
    arguments.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
    declare(channel, &main, arguments).await?;
    for (exchange, routing_key) in &queue.bindings {
        channel
            .queue_bind(
                main.as_str().into(),
                settings.name(exchange).into(),
                routing_key.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    for (exchange, routing_key) in &queue.retired_bindings {
        channel
            .queue_unbind(
                main.as_str().into(),
                settings.name(exchange).into(),
                routing_key.as_str().into(),
                FieldTable::default(),
            )
            .await?;
    }
    // Messages expire from the retry queue after the delay and are
    // dead-lettered through the default exchange straight back to `main`.
    let mut retry = base_arguments(settings, "classic");
    let delay_ms = settings.retry_delay.as_millis().min(i32::MAX as u128) as i32;
    retry.insert("x-message-ttl".into(), AMQPValue::LongInt(delay_ms));
    retry.insert("x-dead-letter-exchange".into(), long_string(""));
    retry.insert("x-dead-letter-routing-key".into(), long_string(&main));
    declare(channel, &retry_queue(&main), retry).await?;
    declare(
        channel,
        &parked_queue(&main),
        base_arguments(settings, &settings.queue_type),
    )
    .await
}

fn base_arguments(settings: &BrokerSettings, queue_type: &str) -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert("x-queue-type".into(), long_string(queue_type));
    if let Some(expires) = settings.queue_expires {
        let ms = expires.as_millis().min(i32::MAX as u128) as i32;
        arguments.insert("x-expires".into(), AMQPValue::LongInt(ms));
    }
    arguments
}

async fn declare(channel: &Channel, name: &str, arguments: FieldTable) -> Result<(), lapin::Error> {
    let options = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel.queue_declare(name.into(), options, arguments).await?;
    Ok(())
}

fn long_string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}
