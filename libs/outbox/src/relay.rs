//! The relay: from the outbox to the broker, at least once, whichever store
//! the outbox lives in (`OutboxStore`). Its parts: `publish` (rounds per
//! aggregate, confirms, deadlines), `run` (the loop), `claimed` (a sweep's
//! claim between publish and delete), `error`.
mod claimed;
mod error;
mod publish;
mod run;

use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::batch::BatchPublisher;
use crate::handoff::Handoff;
use crate::outbox_store::OutboxStore;
use crate::pg_outbox::PgOutbox;
use crate::published::Published;
use crate::settings::{BrokerSettings, RelaySettings};
use crate::telemetry::RelayMetrics;
use crate::topology::Topology;

pub use claimed::Claimed;
pub use error::RelayError;
use error::outcome;
use publish::confirmed_positions;

/// Publishes the outbox of one store. One per service process.
#[derive(Debug)]
pub struct Relay<S = PgOutbox> {
    store: S,
    settings: RelaySettings,
    publisher: BatchPublisher,
    /// The `service` attribute of the publish spans.
    service: &'static str,
    metrics: RelayMetrics,
    /// When the backlog gauges were last read, so they are read at most
    /// once per second however busy the relay is.
    backlog_read: Option<Instant>,
    /// The rows this process committed, handed over after each commit.
    handoff: Handoff,
    /// What this relay published: its order check and pending deletes.
    published: Published,
}

impl Relay<PgOutbox> {
    /// The relay of the `outbox` table in `pool`'s database. `name` labels
    /// the broker connection (e.g. `stock-1 relay`).
    pub fn new(
        pool: PgPool,
        broker: BrokerSettings,
        settings: RelaySettings,
        topology: Topology,
        name: &str,
    ) -> Self {
        let store = PgOutbox::new(pool, &settings);
        Relay::with_store(store, broker, settings, topology, name)
    }
}

impl<S: OutboxStore> Relay<S> {
    /// The relay of an outbox kept elsewhere than in an `outbox` table.
    pub fn with_store(
        store: S,
        broker: BrokerSettings,
        settings: RelaySettings,
        topology: Topology,
        name: &str,
    ) -> Self {
        Relay {
            store,
            settings,
            publisher: BatchPublisher::new(broker, topology, name),
            service: "unknown",
            metrics: RelayMetrics::new(),
            backlog_read: None,
            handoff: Handoff::default(),
            published: Published::default(),
        }
    }

    /// Reports to `telemetry`: its service names the publish spans, its
    /// registry gets the relay's metrics.
    pub fn with_telemetry(mut self, telemetry: &platform::telemetry::Telemetry) -> Self {
        self.metrics.register(telemetry);
        self.service = telemetry.service;
        self
    }

    /// Where the process's committing code hands over the rows it committed
    /// (or wakes the relay); give it to them before [`Relay::run`].
    pub fn handoff(&self) -> Handoff {
        self.handoff.clone()
    }

    /// Takes the rows handed over to `handoff`, for a store that was built
    /// before its relay.
    pub fn with_handoff(mut self, handoff: Handoff) -> Self {
        self.handoff = handoff;
        self
    }

    /// One sweep over every waiting row, however young: claim a batch,
    /// publish it, delete what was confirmed. Returns how many were
    /// published. Tests drive the relay with this.
    pub async fn relay_once(&mut self) -> Result<usize, RelayError<S::Error>> {
        self.sweep_once(Duration::ZERO).await
    }

    /// The first half of [`Relay::relay_once`]: claim and publish, and wait
    /// for every confirm, without deleting anything yet.
    pub async fn claim_and_publish(&mut self) -> Result<Claimed<'_, S>, RelayError<S::Error>> {
        self.claim_and_publish_older_than(Duration::ZERO).await
    }

    async fn sweep_once(&mut self, min_age: Duration) -> Result<usize, RelayError<S::Error>> {
        let claimed = self.claim_and_publish_older_than(min_age).await?;
        let confirmed = claimed.confirmed.clone();
        let published = claimed.commit().await;
        self.published.remember(&confirmed);
        published
    }

    /// A failed publish gives the claim back at once, so that the rows do
    /// not wait for it to lapse.
    async fn claim_and_publish_older_than(
        &mut self,
        min_age: Duration,
    ) -> Result<Claimed<'_, S>, RelayError<S::Error>> {
        let limit = self.settings.batch_size;
        let (claim, mut rows) = self
            .store
            .claim(limit, min_age)
            .await
            .map_err(RelayError::Database)?;
        let confirmations = match self.publish_claimed(&mut rows).await {
            Ok(confirmations) => confirmations,
            Err(error) => {
                if let Err(abandoned) = self.store.abandon(claim).await {
                    tracing::debug!(error = %abandoned, "claim not given back; it lapses");
                }
                return Err(error);
            }
        };
        Ok(Claimed {
            store: &self.store,
            claim,
            confirmed: confirmed_positions(&rows, &confirmations),
            failure: confirmations.failure,
        })
    }

    /// Publishes a batch of the rows handed over, oldest first. A row with
    /// an older row of its aggregate that this relay did not publish is left
    /// to the sweep, and so is every later row of that aggregate. The
    /// confirmed rows are deleted once a batch's worth have gathered, or by
    /// [`Relay::run`] `delete_after` the first was confirmed. Returns how
    /// many were published.
    pub async fn publish_handed_over(&mut self) -> Result<usize, RelayError<S::Error>> {
        let limit = self.settings.batch_size.max(1) as usize;
        let rows = self.handoff.take(limit);
        let more_waiting = !self.handoff.is_empty();
        let mut rows = self.published.ready(rows, more_waiting);
        let confirmations = match self.publish(&mut rows).await {
            Ok(confirmations) => confirmations,
            Err(error) => {
                self.handoff.put_back(rows);
                return Err(error);
            }
        };
        let confirmed = confirmed_positions(&rows, &confirmations);
        self.published.confirmed(&confirmed);
        if self.published.undeleted().len() >= limit {
            self.delete_published().await?;
        }
        outcome(confirmed.len(), confirmations.failure)
    }

    /// Deletes the rows confirmed and not yet deleted. On failure they stay
    /// pending, to be deleted at the next step (or published again by a
    /// sweep if this process dies first).
    async fn delete_published(&mut self) -> Result<(), RelayError<S::Error>> {
        if self.published.undeleted().is_empty() {
            return Ok(());
        }
        self.store
            .delete(self.published.undeleted())
            .await
            .map_err(RelayError::Database)?;
        self.published.deleted();
        Ok(())
    }
}
