//! The relay of the MongoDB outbox: claim aggregates, publish their events
//! with confirms, delete what was confirmed, give the aggregates back.
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use outbox::broker::PublishError;
use outbox::{Backoff, BatchPublisher, OutboxMessage, RelaySettings};
use tokio::sync::Notify;

use super::outbox_collection as outbox_events;
use super::setup::Collections;

/// Why a relay step did not publish everything it claimed; every variant is
/// retried after a backoff.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("outbox database failure")]
    Database(#[from] mongodb::error::Error),
    #[error("broker unavailable")]
    Broker(#[from] lapin::Error),
    #[error("the broker did not confirm a batch within {0:?}; its events stay in the outbox")]
    ConfirmTimeout(Duration),
    #[error("{count} messages were not confirmed by the broker; they stay in the outbox")]
    NotConfirmed {
        count: usize,
        #[source]
        first: PublishError,
    },
}

#[derive(Debug)]
pub struct Relay {
    collections: Collections,
    settings: RelaySettings,
    publisher: BatchPublisher,
    /// This relay's name on its leases: unique per process and run.
    owner: String,
    /// Notified by this process's checkouts after they commit an event; other
    /// replicas' events are found by the poll.
    wake: Arc<Notify>,
}

impl Relay {
    pub fn new(
        collections: Collections,
        settings: RelaySettings,
        publisher: BatchPublisher,
        wake: Arc<Notify>,
    ) -> Self {
        let owner = format!("{} {}", publisher.name(), uuid::Uuid::new_v4());
        Relay {
            collections,
            settings,
            publisher,
            owner,
            wake,
        }
    }

    /// One step; returns how many events the broker confirmed.
    pub async fn relay_once(&mut self) -> Result<usize, RelayError> {
        let aggregates =
            outbox_events::claim(&self.collections, &self.owner, self.settings.batch_size).await?;
        if aggregates.is_empty() {
            return Ok(0);
        }
        let published = self.publish(&aggregates).await;
        outbox_events::release(&self.collections, &self.owner, &aggregates).await?;
        published
    }

    async fn publish(&mut self, aggregates: &[String]) -> Result<usize, RelayError> {
        let batch = outbox_events::events_of(&self.collections, aggregates, self.settings.batch_size).await?;
        let messages: Vec<OutboxMessage> = batch.iter().map(|event| event.message()).collect();
        // Well inside the aggregates' leases: a publish that hangs must not
        // outlive them, or another relay could send the same events beside it.
        let deadline = self.settings.confirm_timeout.min(outbox_events::LEASE / 2);
        let messages: Vec<&OutboxMessage> = messages.iter().collect();
        let publishing = self.publisher.publish(&messages);
        let Ok(confirmations) = tokio::time::timeout(deadline, publishing).await else {
            self.publisher.reconnect();
            return Err(RelayError::ConfirmTimeout(deadline));
        };
        let confirmations = confirmations?;
        outbox_events::delete(
            &self.collections,
            &outbox_events::deletable(&batch, &confirmations.confirmed),
        )
        .await?;
        match confirmations.failure {
            Some((count, first)) => Err(RelayError::NotConfirmed { count, first }),
            None => Ok(confirmations.confirmed.len()),
        }
    }

    /// Relays until `shutdown`: at once while steps find events, otherwise
    /// when woken or after the poll interval; failures back off.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        let mut backoff = Backoff::new(Duration::from_millis(50), self.settings.max_backoff);
        tokio::pin!(shutdown);
        loop {
            let pause = match self.relay_once().await {
                Ok(count) if count > 0 => {
                    backoff.reset();
                    continue;
                }
                Ok(_) => {
                    backoff.reset();
                    self.settings.poll_interval
                }
                Err(error) => {
                    tracing::warn!(error = %platform::http::error_chain(&error), relay = %self.owner, "outbox relay step failed");
                    backoff.next_delay()
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
                () = &mut shutdown => return,
            }
        }
    }
}
