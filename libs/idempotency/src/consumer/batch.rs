//! Batches: the deliveries already received, of every partition held,
//! applied in one transaction and acked with one frame a partition; one at a time when the batch fails, so that a
//! message that cannot be applied is retried or parked alone.
use std::time::Instant;

use std::collections::BTreeMap;

use lapin::message::Delivery;
use lapin::options::BasicAckOptions;
use outbox::broker::Publisher;
use tracing::Instrument;

use super::observe::{Disposition, consume_span};
use super::partitions::Received;
use super::{ApplyOnce, Batched, IncomingMessage, Outcome, QueueConsumer};

impl<A: ApplyOnce> QueueConsumer<A> {
    /// Applies `batch` and settles every delivery of it exactly once.
    pub(super) async fn deliver_batch(&self, batch: Vec<Received>, publisher: &Publisher) {
        let spans: Vec<_> = batch
            .iter()
            .map(|received| consume_span(self.service, &self.queue, &received.delivery))
            .collect();
        let Some(items) = self.decoded(&batch, &spans) else {
            return self.one_by_one(&batch, spans, publisher).await;
        };
        let started = Instant::now();
        match self
            .through_faults(|| self.apply.apply_batch(&self.queue, &items))
            .await
        {
            Ok(outcomes) => self.settle_applied(&batch, &spans, &outcomes, started).await,
            Err(error) => {
                tracing::debug!(queue = %self.queue, size = batch.len(), %error,
                    "a batch failed; applying its messages one at a time");
                self.one_by_one(&batch, spans, publisher).await;
            }
        }
    }

    /// The batch's messages with their spans; `None` when a single delivery
    /// is in it (no batch to gain) or one cannot be decoded (it is parked on
    /// its own, by the one-at-a-time path).
    fn decoded(&self, batch: &[Received], spans: &[tracing::Span]) -> Option<Vec<Batched>> {
        if batch.len() < 2 {
            return None;
        }
        batch
            .iter()
            .zip(spans)
            .map(|(received, span)| {
                let message = IncomingMessage::try_from(&received.delivery).ok()?;
                Some(Batched {
                    message,
                    span: span.clone(),
                })
            })
            .collect()
    }

    async fn one_by_one(&self, batch: &[Received], spans: Vec<tracing::Span>, publisher: &Publisher) {
        for (received, span) in batch.iter().zip(spans) {
            self.deliver(received, publisher).instrument(span).await;
        }
    }

    /// Acks the whole batch with one `multiple` ack of each partition's last
    /// delivery: every delivery before it on that partition's channel is
    /// settled already, since batches are settled one after the other.
    async fn settle_applied(
        &self,
        batch: &[Received],
        spans: &[tracing::Span],
        outcomes: &[Outcome],
        started: Instant,
    ) {
        let last_of_each: BTreeMap<_, &Delivery> = batch
            .iter()
            .map(|received| (received.partition, &received.delivery))
            .collect();
        for last in last_of_each.values() {
            let all = BasicAckOptions { multiple: true };
            if let Err(error) = last.acker.ack(all).await {
                tracing::debug!(queue = %self.queue, %error, "acking a batch failed; the broker will redeliver it");
            }
        }
        let took = started.elapsed();
        for ((received, span), outcome) in batch.iter().zip(spans).zip(outcomes) {
            let delivery = &received.delivery;
            let disposition = match outcome {
                Outcome::Applied => Disposition::Applied,
                Outcome::Duplicate => Disposition::Duplicate,
            };
            span.in_scope(|| self.observe(delivery, disposition, took));
        }
    }
}
