//! The relay: from the outbox table to the broker, at least once.
use std::future::Future;
use std::time::Duration;

use platform::database::DbError;
use sqlx::postgres::PgListener;
use sqlx::{PgPool, Postgres, Transaction};

use crate::backoff::Backoff;
use crate::batch::BatchPublisher;
use crate::broker::PublishError;
use crate::settings::{BrokerSettings, RelaySettings};
use crate::store::{self, CHANNEL};
use crate::topology::Topology;

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
        }
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
        let rows = store::claim(&mut tx, self.settings.batch_size).await?;
        let messages: Vec<_> = rows.iter().map(|row| &row.message).collect();
        let confirmations = self.publisher.publish(&messages).await?;
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

    /// Relays until `shutdown` completes: after each commit notification,
    /// after `poll_interval` at the latest, and again at once while steps
    /// keep finding events. Failures pause with bounded, jittered backoff.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        let mut listener = self.listen().await;
        let mut backoff = Backoff::new(Duration::from_millis(50), self.settings.max_backoff);
        tokio::pin!(shutdown);
        loop {
            let pause = match self.relay_once().await {
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
                () = self.wait(&mut listener, pause) => {}
                () = &mut shutdown => return,
            }
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await.ok()?;
        listener.listen(CHANNEL).await.ok()?;
        Some(listener)
    }

    /// Sleeps for `pause` after a failure; otherwise until a notification or
    /// the poll interval, whichever comes first.
    async fn wait(&self, listener: &mut Option<PgListener>, pause: Option<Duration>) {
        if let Some(pause) = pause {
            return tokio::time::sleep(pause).await;
        }
        if listener.is_none() {
            *listener = self.listen().await;
        }
        let Some(active) = listener.as_mut() else {
            return tokio::time::sleep(self.settings.poll_interval).await;
        };
        match tokio::time::timeout(self.settings.poll_interval, active.recv()).await {
            // Many commits may have notified: one step handles them all.
            Ok(Ok(_)) => while active.next_buffered().is_some() {},
            Ok(Err(_)) => *listener = None,
            Err(_elapsed) => {}
        }
    }
}
