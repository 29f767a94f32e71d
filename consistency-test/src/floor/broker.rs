//! The floor's queues, relays and consumers, all on one AMQP connection:
//! persistent messages to durable queues (quorum ones unless asked
//! otherwise), each publish confirmed before its outbox row goes, each
//! delivery acked after its step committed.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use futures::{FutureExt, StreamExt};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::store::{self, Delivered};

/// Deliveries a consumer may hold unacked, and the most one batch takes:
/// the services' defaults (`AMQP_PREFETCH`, `AMQP_CONSUMER_BATCH`).
const PREFETCH: u16 = 256;
const BATCH: usize = 64;
/// How often a relay deletes the rows whose messages were confirmed: the
/// services' relays, too, delete in batches, not a row at a time.
const DELETE_EVERY: Duration = Duration::from_millis(100);
/// A queue nobody uses goes after this long, should a run die before it
/// deletes its queues.
const EXPIRES_MS: i32 = 60_000;

/// An outbox row and the message it holds.
#[derive(Debug)]
pub struct Outgoing {
    pub outbox_id: i64,
    pub message_id: Uuid,
    pub body: Vec<u8>,
}

/// The queues' type, as `AMQP_QUEUE_TYPE` chooses it for the services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueType {
    /// Replicated, and counting deliveries: the services' default.
    Quorum,
    /// One node's durable queue: persistent messages are still on disk when
    /// confirmed, with no delivery limit and no replication.
    Classic,
}

impl QueueType {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueType::Quorum => "quorum",
            QueueType::Classic => "classic",
        }
    }
}

/// Declares a durable queue of the type the services' queues have.
pub async fn declare(channel: &Channel, name: &str, queue_type: QueueType) -> anyhow::Result<()> {
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString(LongString::from(queue_type.as_str())),
    );
    arguments.insert("x-expires".into(), AMQPValue::LongInt(EXPIRES_MS));
    let options = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel.queue_declare(name.into(), options, arguments).await?;
    Ok(())
}

pub async fn delete(channel: &Channel, name: &str) -> anyhow::Result<()> {
    channel
        .queue_delete(name.into(), QueueDeleteOptions::default())
        .await?;
    Ok(())
}

/// Hands committed outbox rows to a relay task, which publishes them to
/// its queue.
#[derive(Debug, Clone)]
pub struct Relay(mpsc::UnboundedSender<Vec<Outgoing>>);

impl Relay {
    /// The relay of `pool`'s outbox, publishing to `queue`. Its task ends,
    /// having deleted every confirmed row, once every `Relay` is dropped.
    pub async fn spawn(
        connection: &Connection,
        queue: &str,
        pool: PgPool,
    ) -> anyhow::Result<(Relay, JoinHandle<anyhow::Result<()>>)> {
        let channel = connection.create_channel().await?;
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
        let (sender, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(relay(channel, queue.to_owned(), pool, receiver));
        Ok((Relay(sender), task))
    }

    pub fn send(&self, rows: Vec<Outgoing>) -> anyhow::Result<()> {
        self.0.send(rows).context("the relay stopped")
    }
}

/// Publishes what it is handed, all of it before awaiting the confirms,
/// and deletes the confirmed rows every [`DELETE_EVERY`].
async fn relay(
    channel: Channel,
    queue: String,
    pool: PgPool,
    mut handed: mpsc::UnboundedReceiver<Vec<Outgoing>>,
) -> anyhow::Result<()> {
    let mut confirmed = Vec::new();
    let mut sweep = tokio::time::interval(DELETE_EVERY);
    loop {
        tokio::select! {
            rows = handed.recv() => {
                let Some(mut rows) = rows else { break };
                while let Ok(more) = handed.try_recv() {
                    rows.extend(more);
                }
                publish(&channel, &queue, &rows).await?;
                confirmed.extend(rows.iter().map(|row| row.outbox_id));
            }
            _ = sweep.tick() => if !confirmed.is_empty() {
                store::delete_published(&pool, &confirmed).await?;
                confirmed.clear();
            },
        }
    }
    if !confirmed.is_empty() {
        store::delete_published(&pool, &confirmed).await?;
    }
    Ok(())
}

async fn publish(channel: &Channel, queue: &str, rows: &[Outgoing]) -> anyhow::Result<()> {
    let options = BasicPublishOptions {
        mandatory: true,
        ..BasicPublishOptions::default()
    };
    let mut confirms = Vec::with_capacity(rows.len());
    for row in rows {
        let properties = BasicProperties::default()
            .with_message_id(ShortString::from(row.message_id.to_string()))
            .with_delivery_mode(2);
        confirms.push(
            channel
                .basic_publish("".into(), queue.into(), options, &row.body, properties)
                .await?,
        );
    }
    for confirm in confirms {
        match confirm.await? {
            Confirmation::Ack(None) => {}
            other => bail!("{queue} did not take a message: {other:?}"),
        }
    }
    Ok(())
}

/// The checkouts that wait for their saga to end, by id.
#[derive(Debug, Clone, Default)]
pub struct Waiters(Arc<Mutex<HashMap<u64, oneshot::Sender<()>>>>);

impl Waiters {
    pub fn wait_for(&self, checkout: u64) -> oneshot::Receiver<()> {
        let (sender, receiver) = oneshot::channel();
        self.lock().insert(checkout, sender);
        receiver
    }

    fn complete(&self, batch: &[Delivered]) {
        let mut waiting = self.lock();
        for (_, checkout) in batch {
            if let Some(waiter) = waiting.remove(&checkout.id) {
                let _ = waiter.send(());
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<()>>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What a consumer does with a committed batch.
pub enum Step {
    /// Stock and payment: take, then hand the next events to the relay.
    Take { pool: PgPool, relay: Relay },
    /// The order: mark final, then answer the waiting checkouts.
    Finish { pool: PgPool, waiters: Waiters },
}

/// Consumes `queue` in batches of the deliveries already received: one
/// statement, then one ack for the batch, until the task is aborted.
pub async fn consume(
    connection: &Connection,
    queue: &str,
    step: Step,
) -> anyhow::Result<JoinHandle<anyhow::Result<()>>> {
    let channel = connection.create_channel().await?;
    channel.basic_qos(PREFETCH, BasicQosOptions::default()).await?;
    let mut deliveries = channel
        .basic_consume(
            queue.into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok(tokio::spawn(async move {
        let _channel = channel;
        while let Some(first) = deliveries.next().await {
            let mut batch = vec![first?];
            while batch.len() < BATCH {
                match deliveries.next().now_or_never() {
                    Some(Some(delivery)) => batch.push(delivery?),
                    Some(None) | None => break,
                }
            }
            let checkouts = batch.iter().map(read).collect::<anyhow::Result<Vec<_>>>()?;
            let outgoing = match &step {
                Step::Take { pool, .. } => store::take(pool, &checkouts).await?,
                Step::Finish { pool, .. } => {
                    store::finish(pool, &checkouts).await?;
                    Vec::new()
                }
            };
            if let Some(last) = batch.last() {
                last.acker.ack(BasicAckOptions { multiple: true }).await?;
            }
            match &step {
                Step::Take { relay, .. } => relay.send(outgoing)?,
                Step::Finish { waiters, .. } => waiters.complete(&checkouts),
            }
        }
        Ok(())
    }))
}

fn read(delivery: &lapin::message::Delivery) -> anyhow::Result<Delivered> {
    let id = delivery
        .properties
        .message_id()
        .as_ref()
        .context("a message without an id")?;
    Ok((id.as_str().parse()?, serde_json::from_slice(&delivery.data)?))
}
