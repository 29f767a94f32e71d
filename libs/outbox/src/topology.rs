//! Exchanges, queues and bindings, declared idempotently at start-up by
//! every process that publishes or consumes, so that no event is published
//! before the queue that must receive it exists.
use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, Connection, ExchangeKind};

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
    /// with the same arguments is a no-op, so every replica may do it. It
    /// opens channels of its own on `connection`: the broker closes a
    /// channel that declares a queue with other arguments than an earlier
    /// version did, and the declaration goes on on a fresh one.
    pub async fn declare(
        &self,
        connection: &Connection,
        settings: &BrokerSettings,
    ) -> Result<(), lapin::Error> {
        let mut channel = connection.create_channel().await?;
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
            declare_queue(connection, &mut channel, settings, queue).await?;
        }
        channel.close(REPLY_SUCCESS, "declared".into()).await
    }
}

/// AMQP's reply code for a normal close.
const REPLY_SUCCESS: u16 = 200;

async fn declare_queue(
    connection: &Connection,
    channel: &mut Channel,
    settings: &BrokerSettings,
    queue: &QueueSpec,
) -> Result<(), lapin::Error> {
    let main = settings.name(&queue.name);
    let parked = parked_queue(&main);
    // One active consumer per queue (the others wait as hot standbys): the
    // events of an aggregate are then handled in the order they were sent.
    let mut arguments = base_arguments(settings, &settings.queue_type);
    arguments.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
    if is_quorum(settings) {
        // A message handed out `delivery_limit` times without an ack goes
        // to the parking lot, not away.
        let limit = settings.delivery_limit.min(i32::MAX as u32) as i32;
        arguments.insert("x-delivery-limit".into(), AMQPValue::LongInt(limit));
        dead_letter_to(&mut arguments, &parked);
        at_least_once(&mut arguments);
    }
    declare_or_keep(connection, channel, &main, arguments).await?;
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
    // A classic queue: declared as a quorum queue with at-least-once
    // dead-lettering, RabbitMQ 3.10 took more than ten seconds to declare it
    // when many were declared at once (the services' tests), and a consumer
    // waited that long to start. Only failed messages pass through it, for
    // the retry delay.
    let mut retry = base_arguments(settings, "classic");
    let delay_ms = settings.retry_delay.as_millis().min(i32::MAX as u128) as i32;
    retry.insert("x-message-ttl".into(), AMQPValue::LongInt(delay_ms));
    dead_letter_to(&mut retry, &main);
    declare(channel, &retry_queue(&main), retry).await?;
    declare(channel, &parked, base_arguments(settings, &settings.queue_type)).await
}

fn is_quorum(settings: &BrokerSettings) -> bool {
    settings.queue_type == "quorum"
}

/// Dead-letters through the default exchange straight to `queue`.
fn dead_letter_to(arguments: &mut FieldTable, queue: &str) {
    arguments.insert("x-dead-letter-exchange".into(), long_string(""));
    arguments.insert("x-dead-letter-routing-key".into(), long_string(queue));
}

/// Dead-letters a quorum queue's messages at least once: a message leaves
/// it only once the target has confirmed it, which needs `reject-publish`
/// as overflow.
fn at_least_once(arguments: &mut FieldTable) {
    arguments.insert("x-dead-letter-strategy".into(), long_string("at-least-once"));
    arguments.insert("x-overflow".into(), long_string("reject-publish"));
}

/// The broker refuses to redeclare a queue with other arguments.
fn is_precondition_failed(error: &lapin::Error) -> bool {
    error.to_string().contains("PRECONDITION_FAILED")
}

/// Declares `name`; a queue an earlier version declared with other
/// arguments, which may hold messages, is kept as it is, with a warning.
async fn declare_or_keep(
    connection: &Connection,
    channel: &mut Channel,
    name: &str,
    arguments: FieldTable,
) -> Result<(), lapin::Error> {
    match declare(channel, name, arguments).await {
        Err(error) if is_precondition_failed(&error) => {
            tracing::warn!(
                queue = name,
                "the queue was declared by an earlier version, without a delivery limit that parks; \
                 it is kept as it is: delete it once empty to get the new arguments"
            );
            *channel = connection.create_channel().await?;
            Ok(())
        }
        other => other,
    }
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
