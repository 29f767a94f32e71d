//! One delivery on its own: applied in its own transaction, then acked,
//! retried later or parked. What a batch falls back to when it fails.
use std::time::{Duration, Instant};

use lapin::message::Delivery;
use outbox::broker::Publisher;

use super::observe::Disposition;
use super::partitions::Received;
use super::settle::{Returns, Verdict, settle};
use super::{ApplyOnce, IncomingMessage, Outcome, QueueConsumer};

impl<A: ApplyOnce> QueueConsumer<A> {
    /// Handles and settles one delivery, then logs and counts how it ended.
    pub(super) async fn deliver(&self, received: &Received, publisher: &Publisher) {
        let started = Instant::now();
        let delivery = &received.delivery;
        let (verdict, disposition) = self.verdict(delivery).await;
        let returns = Returns::of(&self.broker, &self.queue, received.partition);
        settle(delivery, verdict, publisher, &returns, self.broker.retry_delay).await;
        self.observe(delivery, disposition, started.elapsed());
    }

    /// Counts a settled delivery and logs it, at debug: at thousands of
    /// messages a second a line each costs more than the work it reports.
    /// Runs inside the delivery's span, which gets the outcome.
    pub(super) fn observe(&self, delivery: &Delivery, disposition: Disposition, took: Duration) {
        let event = delivery
            .properties
            .kind()
            .as_ref()
            .map(|t| t.as_str())
            .unwrap_or_default();
        self.metrics.observe(&self.queue, event, disposition, took);
        let outcome = disposition.label();
        tracing::Span::current().record("outcome", outcome);
        tracing::debug!(queue = %self.queue, event, outcome, elapsed_us = took.as_micros() as u64, "message");
    }

    async fn verdict(&self, delivery: &Delivery) -> (Verdict, Disposition) {
        let message = match IncomingMessage::try_from(delivery) {
            Ok(message) => message,
            Err(error) => {
                let error = error.to_string();
                return (Verdict::Park { attempt: 1, error }, Disposition::Parked);
            }
        };
        match self.through_faults(|| self.process(&message)).await {
            Ok(Outcome::Applied) => (Verdict::Done, Disposition::Applied),
            Ok(Outcome::Duplicate) => (Verdict::Done, Disposition::Duplicate),
            Err(error) if message.attempt >= self.broker.max_deliveries => {
                let error = platform::http::error_chain(error.as_ref());
                let attempt = message.attempt;
                (Verdict::Park { attempt, error }, Disposition::Parked)
            }
            Err(error) => {
                tracing::warn!(queue = %self.queue, message_id = %message.message_id,
                    attempt = message.attempt, error = %error, "message failed; retrying later");
                let next_attempt = message.attempt + 1;
                (Verdict::Retry { next_attempt }, Disposition::Retried)
            }
        }
    }
}
