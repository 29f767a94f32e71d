//! The partitions a consumer holds: each consumed on a channel of its own,
//! so that letting one go is closing its channel, which hands what it had
//! received and not yet applied back to the head of its queue, in order.
use std::collections::{BTreeMap, BTreeSet};

use futures::{FutureExt, StreamExt};
use lapin::message::Delivery;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::protocol::constants::REPLY_SUCCESS;
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use outbox::Partition;
use tokio_stream::StreamMap;

/// A delivery and the partition whose queue it came from.
#[derive(Debug)]
pub(super) struct Received {
    pub partition: Partition,
    pub delivery: Delivery,
}

#[derive(Debug, Default)]
pub(super) struct Held {
    /// A stream the broker ends (its queue deleted, its channel closed) is
    /// dropped from the map by the map itself: no longer held.
    deliveries: StreamMap<Partition, lapin::Consumer>,
    channels: BTreeMap<Partition, Channel>,
}

impl Held {
    pub fn partitions(&self) -> BTreeSet<Partition> {
        self.deliveries.keys().copied().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.deliveries.is_empty()
    }

    /// Starts consuming `queue`, partition `partition`, with at most
    /// `prefetch` deliveries unacknowledged. Under single active consumer
    /// the broker makes this a standby while another consumer is active.
    pub async fn acquire(
        &mut self,
        connection: &Connection,
        partition: Partition,
        queue: &str,
        prefetch: u16,
    ) -> Result<(), lapin::Error> {
        let channel = connection.create_channel().await?;
        channel.basic_qos(prefetch, BasicQosOptions::default()).await?;
        let deliveries = channel
            .basic_consume(
                queue.into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        self.deliveries.insert(partition, deliveries);
        self.channels.insert(partition, channel);
        Ok(())
    }

    /// Stops consuming `partition`: deliveries received and not applied are
    /// dropped here and returned by the broker with the channel's close.
    pub async fn release(&mut self, partition: Partition) -> Result<(), lapin::Error> {
        // Kept until the channel is closed: a consumer dropped first is
        // cancelled, and the broker would hand the queue to the next
        // consumer while this channel still holds deliveries, which the
        // close would then return behind newer ones.
        let deliveries = self.deliveries.remove(&partition);
        let closed = match self.channels.remove(&partition) {
            Some(channel) if channel.status().connected() => {
                channel.close(REPLY_SUCCESS, "partition released".into()).await
            }
            _ => Ok(()),
        };
        drop(deliveries);
        closed
    }

    /// Closes the channels of partitions whose stream the broker ended.
    pub async fn forget_ended(&mut self) -> Result<(), lapin::Error> {
        let ended: Vec<Partition> = self
            .channels
            .keys()
            .filter(|p| !self.deliveries.contains_key(p))
            .copied()
            .collect();
        for partition in ended {
            self.release(partition).await?;
        }
        Ok(())
    }

    /// Waits for one delivery of any partition, then takes those already
    /// received behind it, up to `limit`: a batch grows with the load and
    /// costs no wait when idle. Cancel-safe: dropped while waiting, it has
    /// taken nothing. `None` once every stream has ended.
    pub async fn next_batch(&mut self, limit: usize) -> Result<Option<Vec<Received>>, lapin::Error> {
        let Some((partition, first)) = self.deliveries.next().await else {
            return Ok(None);
        };
        let mut batch = vec![Received {
            partition,
            delivery: first?,
        }];
        while batch.len() < limit {
            match self.deliveries.next().now_or_never() {
                Some(Some((partition, delivery))) => batch.push(Received {
                    partition,
                    delivery: delivery?,
                }),
                Some(None) | None => break,
            }
        }
        Ok(Some(batch))
    }
}
