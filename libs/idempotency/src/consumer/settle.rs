//! Acking a delivery, or republishing it for a retry or to the parking lot.
use std::time::Duration;

use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions};
use lapin::types::{AMQPValue, LongString};
use outbox::broker::{PublishError, Publisher, confirmed};
use outbox::topology::{RETRY_EXCHANGE, parked_queue, partition_queue};
use outbox::{BrokerSettings, Partition};

use super::message::headers;

/// Where a failed delivery of one partition goes: broker-side names.
pub(super) struct Returns {
    /// The exchange into the stream's delay queue...
    retry_exchange: String,
    /// ...with the partition's queue as routing key: the delay queue
    /// dead-letters it there after the delay.
    partition_queue: String,
    /// The stream's parking lot.
    parked: String,
}

impl Returns {
    /// For a delivery of `partition` of the stream `queue` (local name).
    pub(super) fn of(broker: &BrokerSettings, queue: &str, partition: Partition) -> Self {
        let main = broker.name(queue);
        Returns {
            retry_exchange: broker.name(RETRY_EXCHANGE),
            partition_queue: partition_queue(&main, partition),
            parked: parked_queue(&main),
        }
    }
}

/// How a delivery ends.
pub(super) enum Verdict {
    Done,
    Retry { next_attempt: u32 },
    Park { attempt: u32, error: String },
}

/// Settles `delivery` exactly once: an ack when it is done or was safely
/// republished, a nack with requeue when republishing failed, so that the
/// broker delivers it again; that nack waits `pause` first, so a broker that
/// refuses the republish does not get the message straight back, again and
/// again. A failed ack needs nothing: the broker redelivers, and the inbox
/// recognises the message.
pub(super) async fn settle(
    delivery: &Delivery,
    verdict: Verdict,
    publisher: &Publisher,
    returns: &Returns,
    pause: Duration,
) {
    let queue = returns.partition_queue.as_str();
    let republished = match verdict {
        Verdict::Done => Ok(()),
        Verdict::Retry { next_attempt } => {
            let extra = [(headers::ATTEMPT, AMQPValue::LongLongInt(i64::from(next_attempt)))];
            let to = (returns.retry_exchange.as_str(), queue);
            republish(publisher, delivery, to, &extra).await
        }
        Verdict::Park { attempt, error } => {
            tracing::error!(queue, attempt, %error, "message parked after its last attempt");
            let error: String = error.chars().take(2000).collect();
            let extra = [
                (headers::ATTEMPT, AMQPValue::LongLongInt(i64::from(attempt))),
                (headers::ERROR, AMQPValue::LongString(LongString::from(error))),
            ];
            republish(publisher, delivery, ("", &returns.parked), &extra).await
        }
    };
    let settled = match republished {
        Ok(()) => delivery.acker.ack(BasicAckOptions::default()).await,
        Err(error) => {
            tracing::warn!(queue, %error, pause_ms = pause.as_millis() as u64,
                "could not republish a failed message; requeueing it after a pause");
            tokio::time::sleep(pause).await;
            let requeue = BasicNackOptions {
                requeue: true,
                ..BasicNackOptions::default()
            };
            delivery.acker.nack(requeue).await
        }
    };
    if let Err(error) = settled {
        tracing::debug!(queue, %error, "settling failed; the broker will redeliver");
    }
}

/// Publishes a copy of `delivery` to `(exchange, routing key)`, with
/// `extra` headers set, and waits for the broker's confirm.
async fn republish(
    publisher: &Publisher,
    delivery: &Delivery,
    (exchange, key): (&str, &str),
    extra: &[(&str, AMQPValue)],
) -> Result<(), PublishError> {
    let mut table = delivery.properties.headers().clone().unwrap_or_default();
    for (name, value) in extra {
        table.insert((*name).into(), value.clone());
    }
    let properties = delivery.properties.clone().with_headers(table);
    let confirm = publisher
        .send_raw(exchange, key, &delivery.data, properties)
        .await?;
    confirmed(confirm, key).await
}
