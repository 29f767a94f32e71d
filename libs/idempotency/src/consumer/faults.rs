//! Riding out a fault of the infrastructure: a message whose handling failed
//! because the database (or anything else `platform::failure` calls
//! transient) was unavailable stays with the consumer and is tried again,
//! with capped backoff, for as long as the fault lasts. These tries are not
//! delivery attempts: an outage of any length parks nothing. The messages
//! behind it wait too, which keeps each aggregate's events in order; they
//! could not be applied during the fault either.
use std::future::Future;
use std::time::Duration;

use outbox::Backoff;
use platform::failure::Failure;

use super::{ApplyOnce, HandlerError, QueueConsumer};

/// The first pause after a transient failure; pauses double up to
/// `BrokerSettings::transient_retry_max`.
const FIRST_PAUSE: Duration = Duration::from_millis(50);

impl<A: ApplyOnce> QueueConsumer<A> {
    /// Runs `attempt` until it succeeds or fails for a reason of its own.
    pub(super) async fn through_faults<T, F, Fut>(&self, mut attempt: F) -> Result<T, HandlerError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, HandlerError>>,
    {
        let mut backoff = Backoff::new(FIRST_PAUSE, self.broker.transient_retry_max.max(FIRST_PAUSE));
        loop {
            match attempt().await {
                Err(error) if Failure::of(error.as_ref()).is_transient() => {
                    let pause = backoff.next_delay();
                    self.metrics.transient_failure(&self.queue);
                    tracing::warn!(queue = %self.queue, error = %platform::http::error_chain(error.as_ref()),
                        pause_ms = pause.as_millis() as u64,
                        "the infrastructure failed; the message waits and is tried again, not counted as an attempt");
                    tokio::time::sleep(pause).await;
                }
                result => return result,
            }
        }
    }
}
