//! The consumer's share of its stream: it beats, then lets go of the
//! partitions no longer its own and takes those assigned to it
//! (`crate::membership` has the rule).
use std::time::Duration;

use lapin::Connection;
use outbox::topology::partition_queue;

use super::partitions::Held;
use super::{ApplyOnce, QueueConsumer};
use crate::membership::{Member, plan};

impl<A: ApplyOnce> QueueConsumer<A> {
    /// Six beats a lease: a member is taken for gone only after missing
    /// several.
    pub(super) fn beat_interval(&self) -> Duration {
        (self.broker.partition_lease / 6).max(Duration::from_millis(10))
    }

    /// Beats, then lets go of the partitions no longer its own and takes
    /// those assigned to it that nobody holds (`crate::membership`). When
    /// the beat fails (the database is down) it keeps what it holds.
    pub(super) async fn rebalance(
        &self,
        connection: &Connection,
        held: &mut Held,
    ) -> Result<(), lapin::Error> {
        held.forget_ended().await?;
        let Some(others) = self.beat(held).await else {
            return Ok(());
        };
        let plan = plan(&self.member, &held.partitions(), &others, self.broker.partitions);
        for &partition in &plan.release {
            held.release(partition).await?;
        }
        if !plan.release.is_empty() {
            // Said at once, so the member it goes to need not wait a beat.
            self.beat(held).await;
        }
        let main = self.broker.name(&self.queue);
        for &partition in &plan.acquire {
            let queue = partition_queue(&main, partition);
            held.acquire(connection, partition, &queue, self.broker.prefetch)
                .await?;
        }
        self.metrics.holding(held.partitions().len());
        if !plan.release.is_empty() || !plan.acquire.is_empty() {
            tracing::info!(queue = %self.queue, member = %self.member, released = ?plan.release,
                acquired = ?plan.acquire, held = ?held.partitions(), "partitions rebalanced");
        }
        Ok(())
    }

    /// The other live members, or `None` when the beat failed.
    async fn beat(&self, held: &Held) -> Option<Vec<Member>> {
        let partitions: Vec<_> = held.partitions().into_iter().collect();
        let lease = self.broker.partition_lease;
        let beat = self
            .membership
            .beat(&self.queue, &self.member, &partitions, lease);
        match tokio::time::timeout(lease / 2, beat).await {
            Ok(Ok(others)) => Some(others),
            Ok(Err(error)) => {
                tracing::warn!(queue = %self.queue, %error, "beat failed; keeping the partitions held");
                None
            }
            Err(_) => {
                tracing::warn!(queue = %self.queue, "beat timed out; keeping the partitions held");
                None
            }
        }
    }
}
