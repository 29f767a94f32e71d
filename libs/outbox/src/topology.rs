//! Exchanges, queues and bindings, declared idempotently at start-up by
//! every process that publishes or consumes, so that no event is published
//! before the queue that must receive it exists.
use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::protocol::constants::REPLY_SUCCESS;
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, Connection, ExchangeKind};

use crate::partitions::{Partition, partitioned};
use crate::settings::BrokerSettings;

/// A consuming service's event stream: a queue per partition, one delay
/// queue and one parking lot.
#[derive(Debug, Clone)]
pub struct QueueSpec {
    /// Local name; the broker-side name adds the namespace, a partition's
    /// queue adds the partition (`webshop.stock.checkout.3`).
    pub name: String,
    /// `(exchange, routing key)` pairs, exchange by local name; a
    /// partition's queue is bound to each key with its partition appended.
    pub bindings: Vec<(String, String)>,
}

/// Everything a system needs declared.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    pub exchanges: Vec<String>,
    pub queues: Vec<QueueSpec>,
}

/// The queue of one partition of a stream.
pub fn partition_queue(queue: &str, partition: Partition) -> String {
    partitioned(queue, partition)
}

/// Where a failed delivery waits out the retry delay before it goes back to
/// its partition's queue: one per stream. (Not `.retry`: the queue of that
/// name an unpartitioned version declared sends its messages to a queue
/// nobody consumes any more.)
pub fn delay_queue(queue: &str) -> String {
    format!("{queue}.delay")
}

/// Where a message that failed too often is kept for an operator: one per
/// stream.
pub fn parked_queue(queue: &str) -> String {
    format!("{queue}.parked")
}

/// The local name of the direct exchange through which a failed delivery
/// enters its stream's delay queue, its routing key the name of the
/// partition's queue it returns to.
pub const RETRY_EXCHANGE: &str = "retry";

impl Topology {
    /// Declares every exchange (durable topic), the retry exchange and, per
    /// stream, its partitions' queues, its delay queue and its parking lot.
    /// Declaring what exists with the same arguments is a no-op, so every
    /// replica may do it. It opens channels of its own on `connection`: the
    /// broker closes a channel that declares a queue with other arguments
    /// than an earlier version did, and the declaration goes on on a fresh
    /// one.
    pub async fn declare(
        &self,
        connection: &Connection,
        settings: &BrokerSettings,
    ) -> Result<(), lapin::Error> {
        let mut channel = connection.create_channel().await?;
        let exchanges = self
            .exchanges
            .iter()
            .map(|name| (name.as_str(), ExchangeKind::Topic));
        let retry = std::iter::once((RETRY_EXCHANGE, ExchangeKind::Direct));
        for (exchange, kind) in exchanges.chain(retry) {
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
                    kind,
                    options,
                    FieldTable::default(),
                )
                .await?;
        }
        for queue in &self.queues {
            declare_stream(connection, &mut channel, settings, queue).await?;
        }
        channel.close(REPLY_SUCCESS, "declared".into()).await
    }
}

async fn declare_stream(
    connection: &Connection,
    channel: &mut Channel,
    settings: &BrokerSettings,
    queue: &QueueSpec,
) -> Result<(), lapin::Error> {
    let main = settings.name(&queue.name);
    let parked = parked_queue(&main);
    let delay = delay_queue(&main);
    // Messages expire from the delay queue after the retry delay and are
    // dead-lettered through the default exchange with the routing key they
    // entered it with: the name of their partition's queue. Of the stream's
    // queue type by default, so that with quorum queues it lives on every
    // node: a classic one lives on one, and while that node was down no
    // consumer could declare its topology, so none started. Dead-lettered at most
    // once: each at-least-once queue runs a dead-letter worker of its own,
    // and with those RabbitMQ 3.10 took tens of seconds to declare the
    // queues of a test suite's namespaces. A retried message lost on its
    // way back (its partition's queue without a quorum at that instant)
    // stalls its saga until the order service drives it again.
    let mut arguments = base_arguments(settings, &settings.delay_queue_type);
    let delay_ms = settings.retry_delay.as_millis().min(i32::MAX as u128) as i32;
    arguments.insert("x-message-ttl".into(), AMQPValue::LongInt(delay_ms));
    arguments.insert("x-dead-letter-exchange".into(), long_string(""));
    declare(channel, &delay, arguments).await?;
    declare(channel, &parked, base_arguments(settings, &settings.queue_type)).await?;
    for partition in settings.partitions.all() {
        let name = partition_queue(&main, partition);
        declare_or_keep(connection, channel, &name, partition_arguments(settings, &parked)).await?;
        for (exchange, routing_key) in &queue.bindings {
            let key = partitioned(routing_key, partition);
            bind(channel, &name, &settings.name(exchange), &key).await?;
        }
        bind(channel, &delay, &settings.name(RETRY_EXCHANGE), &name).await?;
    }
    Ok(())
}

/// One active consumer per partition's queue (the others wait as hot
/// standbys): the events of an aggregate are then handled in the order
/// they were sent, whichever replica the partition is assigned to.
fn partition_arguments(settings: &BrokerSettings, parked: &str) -> FieldTable {
    let mut arguments = base_arguments(settings, &settings.queue_type);
    arguments.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
    if is_quorum(settings) {
        // A message handed out `delivery_limit` times without an ack goes
        // to the parking lot, not away.
        let limit = settings.delivery_limit.min(i32::MAX as u32) as i32;
        arguments.insert("x-delivery-limit".into(), AMQPValue::LongInt(limit));
        dead_letter_to(&mut arguments, parked);
        at_least_once(&mut arguments);
    }
    arguments
}

async fn bind(channel: &Channel, queue: &str, exchange: &str, key: &str) -> Result<(), lapin::Error> {
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
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
