//! The relay: from the outbox table to the broker, at least once.
use std::future::Future;
use std::time::{Duration, Instant};

use platform::database::DbError;
use sqlx::{PgPool, Postgres, Transaction};

use crate::backoff::Backoff;
use crate::batch::BatchPublisher;
use crate::broker::PublishError;
use crate::settings::{BrokerSettings, RelaySettings};
use crate::store;
use crate::telemetry::{RelayMetrics, publish_span};
use crate::topology::Topology;
use crate::wakeup::Wakeup;

/// How often a running relay reads the outbox's backlog for its metrics.
const BACKLOG_REFRESH: Duration = Duration::from_secs(1);

/// Why a relay step did not publish everything it claimed. Every variant is
/// retried by [`Relay::run`] after a backoff.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("outbox database failure")]
    Database(#[from] DbError),
    #[error("broker unavailable")]
    Broker(#[from] lapin::Error),
    #[error("{count} messages were not confirmed by the broker; they stay in the outbox")]
    NotConfirmed {
        count: usize,
        #[source]
        first: PublishError,
    },
}

/// Publishes the outbox of one database. One per service process.
#[derive(Debug)]
pub struct Relay {
    pool: PgPool,
    settings: RelaySettings,
    publisher: BatchPublisher,
    /// The `service` attribute of the publish spans.
    service: &'static str,
    metrics: RelayMetrics,
    /// When the backlog gauges were last read, so they are read at most
    /// once per [`BACKLOG_REFRESH`] however busy the relay is.
    backlog_read: Option<Instant>,
    /// Rung by this process after each commit that enqueued something.
    wakeup: Wakeup,
}

/// Rows claimed and published but not yet deleted: the state a relay is in
/// when it dies after publishing. [`Claimed::abandon`] (or a drop) rolls
/// back and leaves the rows to be published again; [`Claimed::commit`]
/// deletes the confirmed ones.
#[derive(Debug)]
pub struct Claimed {
    tx: Transaction<'static, Postgres>,
    confirmed: Vec<i64>,
    failure: Option<(usize, PublishError)>,
}

impl Claimed {
    pub fn published(&self) -> usize {
        self.confirmed.len()
    }

    /// Gives the rows back unpublished-as-far-as-the-table-knows, as a relay
    /// that dies here would (its connection's end rolls back). Dropping a
    /// `Claimed` does the same, but only once the pool gets the connection
    /// back; this waits for it.
    pub async fn abandon(self) -> Result<(), RelayError> {
        self.tx.rollback().await.map_err(DbError::from)?;
        Ok(())
    }

    /// Deletes the rows the broker confirmed and commits. The rows it did not
    /// confirm stay and are reported as an error.
    pub async fn commit(mut self) -> Result<usize, RelayError> {
        store::delete(&mut self.tx, &self.confirmed).await?;
        self.tx.commit().await.map_err(DbError::from)?;
        match self.failure {
            Some((count, first)) => Err(RelayError::NotConfirmed { count, first }),
            None => Ok(self.confirmed.len()),
        }
    }
}

impl Relay {
    /// `name` labels the broker connection (e.g. `stock-1 relay`).
    pub fn new(
        pool: PgPool,
        broker: BrokerSettings,
        settings: RelaySettings,
        topology: Topology,
        name: &str,
    ) -> Self {
        Relay {
            pool,
            settings,
            publisher: BatchPublisher::new(broker, topology, name),
            service: "unknown",
            metrics: RelayMetrics::new(),
            backlog_read: None,
            wakeup: Wakeup::default(),
        }
    }

    /// What the process's committing code rings after each commit that
    /// enqueued something; give it to them before [`Relay::run`].
    pub fn wakeup(&self) -> Wakeup {
        self.wakeup.clone()
    }

    /// Waits on `wakeup` instead of a wake-up of its own, for a store that
    /// was built before its relay.
    pub fn woken_by(mut self, wakeup: Wakeup) -> Self {
        self.wakeup = wakeup;
        self
    }

    /// Reports to `telemetry`: its service names the publish spans, its
    /// registry gets the relay's metrics.
    pub fn with_telemetry(mut self, telemetry: &platform::telemetry::Telemetry) -> Self {
        self.metrics.register(telemetry);
        self.service = telemetry.service;
        self
    }

    /// One step: claim a batch, publish it, delete what was confirmed.
    /// Returns how many messages were published.
    pub async fn relay_once(&mut self) -> Result<usize, RelayError> {
        self.claim_and_publish().await?.commit().await
    }

    /// The first half of [`Relay::relay_once`]: claim and publish, and wait
    /// for every confirm, without deleting anything yet.
    pub async fn claim_and_publish(&mut self) -> Result<Claimed, RelayError> {
        let mut tx = self.pool.begin().await.map_err(DbError::from)?;
        let mut rows = store::claim(&mut tx, self.settings.batch_size).await?;
        // Each span ends, and so times its publish, when dropped after the
        // batch's confirms.
        let spans: Vec<_> = rows
            .iter_mut()
            .map(|row| publish_span(self.service, &mut row.message))
            .collect();
        let messages: Vec<_> = rows.iter().map(|row| &row.message).collect();
        let sent = Instant::now();
        let confirmations = self.publisher.publish(&messages).await?;
        for _ in &confirmations.confirmed {
            self.metrics.confirmed(sent.elapsed());
        }
        drop(spans);
        Ok(Claimed {
            tx,
            confirmed: confirmations
                .confirmed
                .iter()
                .map(|&i| rows[i].position)
                .collect(),
            failure: confirmations.failure,
        })
    }

    /// Relays until `shutdown` completes: after each wake-up, after
    /// `poll_interval` at the latest (the sweep for rows a dead process left
    /// behind), and again at once while steps keep finding events. Failures
    /// pause with bounded, jittered backoff.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        let mut backoff = Backoff::new(Duration::from_millis(50), self.settings.max_backoff);
        tokio::pin!(shutdown);
        loop {
            let step = self.relay_once().await;
            self.read_backlog().await;
            let pause = match step {
                // More may have been committed meanwhile; only a step that
                // finds nothing waits.
                Ok(count) if count > 0 => {
                    backoff.reset();
                    continue;
                }
                Ok(_) => {
                    backoff.reset();
                    None
                }
                Err(error) => {
                    tracing::warn!(error = %platform::http::error_chain(&error), relay = %self.publisher.name(), "outbox relay step failed");
                    Some(backoff.next_delay())
                }
            };
            tokio::select! {
                () = self.wait(pause) => {}
                () = &mut shutdown => return,
            }
        }
    }

    /// Refreshes the backlog gauges when they are older than
    /// [`BACKLOG_REFRESH`]; a failure leaves them as they were.
    async fn read_backlog(&mut self) {
        if self.backlog_read.is_some_and(|at| at.elapsed() < BACKLOG_REFRESH) {
            return;
        }
        self.backlog_read = Some(Instant::now());
        match store::backlog(&self.pool).await {
            Ok((count, oldest_age)) => self.metrics.backlog(count, oldest_age),
            Err(error) => tracing::debug!(%error, relay = %self.publisher.name(), "outbox backlog not read"),
        }
    }

    /// Sleeps for `pause` after a failure; otherwise until a wake-up or the
    /// poll interval, whichever comes first.
    async fn wait(&self, pause: Option<Duration>) {
        if let Some(pause) = pause {
            return tokio::time::sleep(pause).await;
        }
        tokio::select! {
            () = self.wakeup.woken() => {}
            () = tokio::time::sleep(self.settings.poll_interval) => {}
        }
    }
}
