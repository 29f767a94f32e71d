//! Batches: the deliveries already received, applied in one transaction and
//! acked with one frame; one at a time when the batch fails, so that a
//! message that cannot be applied is retried or parked alone.
use std::time::Instant;

use futures::{FutureExt, StreamExt};
use lapin::message::Delivery;
use lapin::options::BasicAckOptions;
use outbox::broker::Publisher;
use tracing::Instrument;

use super::observe::{Disposition, consume_span};
use super::{ApplyOnce, Batched, IncomingMessage, Outcome, QueueConsumer};

/// Waits for one delivery, then takes those already received behind it, up
/// to `limit`: a batch grows with the load and costs no wait when idle.
/// `None` when the consumer was cancelled.
pub(super) async fn next_batch(
    deliveries: &mut lapin::Consumer,
    limit: usize,
) -> Result<Option<Vec<Delivery>>, lapin::Error> {
    let Some(first) = deliveries.next().await else {
        return Ok(None);
    };
    let mut batch = vec![first?];
    while batch.len() < limit {
        match deliveries.next().now_or_never() {
            Some(Some(delivery)) => batch.push(delivery?),
            Some(None) | None => break,
        }
    }
    Ok(Some(batch))
}

impl<A: ApplyOnce> QueueConsumer<A> {
    /// Applies `batch` and settles every delivery of it exactly once.
    pub(super) async fn deliver_batch(&self, batch: Vec<Delivery>, publisher: &Publisher, queue: &str) {
        let spans: Vec<_> = batch
            .iter()
            .map(|delivery| consume_span(self.service, &self.queue, delivery))
            .collect();
        let Some(items) = self.decoded(&batch, &spans) else {
            return self.one_by_one(&batch, spans, publisher, queue).await;
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
                self.one_by_one(&batch, spans, publisher, queue).await;
            }
        }
    }

    /// The batch's messages with their spans; `None` when a single delivery
    /// is in it (no batch to gain) or one cannot be decoded (it is parked on
    /// its own, by the one-at-a-time path).
    fn decoded(&self, batch: &[Delivery], spans: &[tracing::Span]) -> Option<Vec<Batched>> {
        if batch.len() < 2 {
            return None;
        }
        batch
            .iter()
            .zip(spans)
            .map(|(delivery, span)| {
                let message = IncomingMessage::try_from(delivery).ok()?;
                Some(Batched {
                    message,
                    span: span.clone(),
                })
            })
            .collect()
    }

    async fn one_by_one(
        &self,
        batch: &[Delivery],
        spans: Vec<tracing::Span>,
        publisher: &Publisher,
        queue: &str,
    ) {
        for (delivery, span) in batch.iter().zip(spans) {
            self.deliver(delivery, publisher, queue).instrument(span).await;
        }
    }

    /// Acks the whole batch with one `multiple` ack of its last delivery:
    /// every delivery before it on this channel is settled already, since
    /// batches are settled one after the other.
    async fn settle_applied(
        &self,
        batch: &[Delivery],
        spans: &[tracing::Span],
        outcomes: &[Outcome],
        started: Instant,
    ) {
        if let Some(last) = batch.last() {
            let all = BasicAckOptions { multiple: true };
            if let Err(error) = last.acker.ack(all).await {
                tracing::debug!(queue = %self.queue, %error, "acking a batch failed; the broker will redeliver it");
            }
        }
        let took = started.elapsed();
        for ((delivery, span), outcome) in batch.iter().zip(spans).zip(outcomes) {
            let disposition = match outcome {
                Outcome::Applied => Disposition::Applied,
                Outcome::Duplicate => Disposition::Duplicate,
            };
            span.in_scope(|| self.observe(delivery, disposition, took));
        }
    }
}
