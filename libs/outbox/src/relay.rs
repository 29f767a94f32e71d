//! The relay: from the outbox table to the broker, at least once.
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::{Duration, Instant};

use platform::database::DbError;
use sqlx::{PgPool, Postgres, Transaction};

use crate::backoff::Backoff;
use crate::batch::{BatchPublisher, Confirmations};
use crate::broker::PublishError;
use crate::claim;
use crate::handoff::Handoff;
use crate::published::Published;
use crate::settings::{BrokerSettings, RelaySettings};
use crate::store::{self, Stored};
use crate::telemetry::{RelayMetrics, publish_span};
use crate::topology::Topology;

/// How often a running relay reads the outbox's backlog for its metrics.
const BACKLOG_REFRESH: Duration = Duration::from_secs(1);

/// Why a relay step did not publish everything it took. Every variant is
/// retried by [`Relay::run`] after a backoff.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("outbox database failure")]
    Database(#[from] DbError),
    #[error("broker unavailable")]
    Broker(#[from] lapin::Error),
    #[error("the broker did not confirm a batch within {0:?}; its rows stay in the outbox")]
    ConfirmTimeout(Duration),
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
    /// The rows this process committed, handed over after each commit.
    handoff: Handoff,
    /// What this relay published: its order check and pending deletes.
    published: Published,
}

/// Rows claimed by a sweep and published but not yet deleted: the state a
/// relay is in when it dies after publishing. [`Claimed::abandon`] (or a
/// drop) rolls back and leaves the rows to be published again;
/// [`Claimed::commit`] deletes the confirmed ones.
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
        store::delete(&mut *self.tx, &self.confirmed).await?;
        self.tx.commit().await.map_err(DbError::from)?;
        outcome(self.confirmed.len(), self.failure)
    }
}

fn outcome(published: usize, failure: Option<(usize, PublishError)>) -> Result<usize, RelayError> {
    match failure {
        Some((count, first)) => Err(RelayError::NotConfirmed { count, first }),
        None => Ok(published),
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

    /// Where the process's committing code hands over the rows it committed;
    /// give it to them before [`Relay::run`].
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
    pub async fn relay_once(&mut self) -> Result<usize, RelayError> {
        self.sweep_once(Duration::ZERO).await
    }

    /// The first half of [`Relay::relay_once`]: claim and publish, and wait
    /// for every confirm, without deleting anything yet.
    pub async fn claim_and_publish(&mut self) -> Result<Claimed, RelayError> {
        self.claim_and_publish_older_than(Duration::ZERO).await
    }

    async fn sweep_once(&mut self, min_age: Duration) -> Result<usize, RelayError> {
        let claimed = self.claim_and_publish_older_than(min_age).await?;
        let confirmed = claimed.confirmed.clone();
        let published = claimed.commit().await;
        self.published.remember(&confirmed);
        published
    }

    async fn claim_and_publish_older_than(&mut self, min_age: Duration) -> Result<Claimed, RelayError> {
        let mut tx = self.pool.begin().await.map_err(DbError::from)?;
        claim::end_if_idle(&mut tx, self.settings.confirm_timeout * 2).await?;
        let limit = self.settings.batch_size;
        let mut rows = claim::claim(&mut tx, limit, min_age.as_secs_f64()).await?;
        let confirmations = self.publish(&mut rows).await?;
        Ok(Claimed {
            tx,
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
    pub async fn publish_handed_over(&mut self) -> Result<usize, RelayError> {
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
    async fn delete_published(&mut self) -> Result<(), RelayError> {
        if self.published.undeleted().is_empty() {
            return Ok(());
        }
        store::delete(&self.pool, self.published.undeleted()).await?;
        self.published.deleted();
        Ok(())
    }

    /// Publishes `rows` in their order, pipelined, each in a publish span
    /// that continues the trace the row was written in. Rows of one
    /// aggregate go in successive rounds, each waiting for the confirms of
    /// the one before, and a row whose earlier row of its aggregate was not
    /// confirmed is not published: a later event never overtakes an earlier
    /// one that may have to be sent again. Rows of different aggregates
    /// share a round, so a batch of distinct aggregates is one round.
    async fn publish(&mut self, rows: &mut [Stored]) -> Result<Confirmations, RelayError> {
        let mut confirmations = Confirmations::default();
        let mut failed: HashSet<String> = HashSet::new();
        for round in rounds(rows) {
            let round: Vec<usize> = round
                .into_iter()
                .filter(|&i| !failed.contains(&rows[i].message.aggregate_id))
                .collect();
            let confirmed = self.publish_round(rows, &round).await?;
            for (position, &index) in round.iter().enumerate() {
                if confirmed.confirmed.contains(&position) {
                    confirmations.confirmed.push(index);
                } else {
                    failed.insert(rows[index].message.aggregate_id.clone());
                }
            }
            if let Some((count, first)) = confirmed.failure {
                confirmations.not_confirmed(count, first);
            }
        }
        Ok(confirmations)
    }

    /// One round of [`Relay::publish`]: the rows at `indices`, pipelined,
    /// with a deadline on the broker's confirms.
    async fn publish_round(
        &mut self,
        rows: &mut [Stored],
        indices: &[usize],
    ) -> Result<Confirmations, RelayError> {
        // Each span ends, and so times its publish, when dropped after the
        // round's confirms.
        let spans: Vec<_> = indices
            .iter()
            .map(|&i| publish_span(self.service, &mut rows[i].message))
            .collect();
        let messages: Vec<_> = indices.iter().map(|&i| &rows[i].message).collect();
        let sent = Instant::now();
        let deadline = self.settings.confirm_timeout;
        let Ok(confirmations) = tokio::time::timeout(deadline, self.publisher.publish(&messages)).await
        else {
            self.publisher.reconnect();
            return Err(RelayError::ConfirmTimeout(deadline));
        };
        let confirmations = confirmations?;
        for _ in &confirmations.confirmed {
            self.metrics.confirmed(sent.elapsed());
        }
        drop(spans);
        Ok(confirmations)
    }

    /// Relays until `shutdown` completes: the rows handed over as soon as
    /// they come, their deletes `delete_after` the first was confirmed, and
    /// a sweep every `poll_interval` for rows older than `sweep_after` that
    /// no live process handed over. Failures pause with bounded, jittered
    /// backoff.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        let mut backoff = Backoff::new(Duration::from_millis(50), self.settings.max_backoff);
        let mut next_sweep = tokio::time::Instant::now();
        tokio::pin!(shutdown);
        loop {
            // Rows a failed step put back are tried again before waiting.
            let delete_due = self.published.delete_due(self.settings.delete_after);
            let step = if !self.handoff.is_empty() {
                self.drain_handoff().await
            } else {
                tokio::select! {
                    () = self.handoff.ready() => self.drain_handoff().await,
                    () = sleep_until(delete_due) => self.delete_published().await,
                    () = tokio::time::sleep_until(next_sweep) => {
                        next_sweep = tokio::time::Instant::now() + self.settings.poll_interval;
                        self.sweep().await
                    }
                    () = &mut shutdown => {
                        if let Err(error) = self.delete_published().await {
                            tracing::debug!(%error, "published rows left undeleted; a sweep sends them again");
                        }
                        return;
                    }
                }
            };
            self.read_backlog().await;
            let Err(error) = step else {
                backoff.reset();
                continue;
            };
            tracing::warn!(error = %platform::http::error_chain(&error), relay = %self.publisher.name(), "outbox relay step failed");
            tokio::select! {
                () = tokio::time::sleep(backoff.next_delay()) => {}
                () = &mut shutdown => return,
            }
        }
    }

    async fn drain_handoff(&mut self) -> Result<(), RelayError> {
        while !self.handoff.is_empty() {
            self.publish_handed_over().await?;
        }
        Ok(())
    }

    /// Deletes what this relay published first, so that the sweep does not
    /// take those rows for left behind.
    async fn sweep(&mut self) -> Result<(), RelayError> {
        self.delete_published().await?;
        while self.sweep_once(self.settings.sweep_after).await? > 0 {}
        Ok(())
    }

    /// Refreshes the backlog gauges when they are older than
    /// [`BACKLOG_REFRESH`]; a failure leaves them as they were.
    async fn read_backlog(&mut self) {
        if self.backlog_read.is_some_and(|at| at.elapsed() < BACKLOG_REFRESH) {
            return;
        }
        self.backlog_read = Some(Instant::now());
        match claim::backlog(&self.pool).await {
            Ok((count, oldest_age)) => self.metrics.backlog(count, oldest_age),
            Err(error) => tracing::debug!(%error, relay = %self.publisher.name(), "outbox backlog not read"),
        }
    }
}

/// Completes at `due`, or never when there is nothing due.
async fn sleep_until(due: Option<tokio::time::Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// The positions, within `rows`, the broker confirmed.
fn confirmed_positions(rows: &[Stored], confirmations: &Confirmations) -> Vec<i64> {
    confirmations
        .confirmed
        .iter()
        .map(|&i| rows[i].position)
        .collect()
}

/// Indices of `rows` in rounds: round `k` holds the `k`-th row of each
/// aggregate, in the rows' order.
fn rounds(rows: &[Stored]) -> Vec<Vec<usize>> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let round = seen.entry(row.message.aggregate_id.as_str()).or_default();
        if rounds.len() <= *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push(index);
        *round += 1;
    }
    rounds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::OutboxMessage;

    fn row(position: i64, aggregate: &str) -> Stored {
        let message =
            OutboxMessage::new("e", "k", "T", 1, aggregate, &serde_json::json!({})).expect("a message");
        Stored::new(position, message)
    }

    #[test]
    fn each_round_holds_one_row_of_an_aggregate_in_order() {
        let rows = [row(1, "a"), row(2, "b"), row(3, "a"), row(4, "a"), row(5, "c")];

        assert_eq!(rounds(&rows), vec![vec![0, 1, 4], vec![2], vec![3]]);
    }

    #[test]
    fn distinct_aggregates_are_one_round() {
        let rows = [row(1, "a"), row(2, "b"), row(3, "c")];

        assert_eq!(rounds(&rows), vec![vec![0, 1, 2]]);
    }
}
