//! The relay's loop: what it waits for, and what it does when each comes.
use std::future::Future;
use std::time::{Duration, Instant};

use crate::backoff::Backoff;
use crate::outbox_store::OutboxStore;

use super::{Relay, RelayError};

/// How often a running relay reads the outbox's backlog for its metrics.
const BACKLOG_REFRESH: Duration = Duration::from_secs(1);

impl<S: OutboxStore> Relay<S> {
    /// Relays until `shutdown` completes: the rows handed over as soon as
    /// they come, their deletes `delete_after` the first was confirmed, and
    /// a sweep every `poll_interval` for rows older than `sweep_after` that
    /// no live process handed over (at once when woken, for a store that
    /// sweeps when woken). Failures pause with bounded, jittered backoff.
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
                    () = self.handoff.ready() => self.woken().await,
                    () = sleep_until(delete_due) => self.delete_published().await,
                    () = tokio::time::sleep_until(next_sweep) => {
                        next_sweep = tokio::time::Instant::now() + self.settings.poll_interval;
                        self.sweep(self.settings.sweep_after).await
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

    /// The rows handed over; or, for a store whose commits only wake the
    /// relay, a sweep that takes what they committed, however young.
    async fn woken(&mut self) -> Result<(), RelayError<S::Error>> {
        if S::SWEEP_WHEN_WOKEN {
            self.sweep(Duration::ZERO).await
        } else {
            self.drain_handoff().await
        }
    }

    async fn drain_handoff(&mut self) -> Result<(), RelayError<S::Error>> {
        while !self.handoff.is_empty() {
            self.publish_handed_over().await?;
        }
        Ok(())
    }

    /// Deletes what this relay published first, so that the sweep does not
    /// take those rows for left behind.
    async fn sweep(&mut self, min_age: Duration) -> Result<(), RelayError<S::Error>> {
        self.delete_published().await?;
        while self.sweep_once(min_age).await? > 0 {}
        Ok(())
    }

    /// Refreshes the backlog gauges when they are older than
    /// [`BACKLOG_REFRESH`]; a failure leaves them as they were.
    async fn read_backlog(&mut self) {
        if self.backlog_read.is_some_and(|at| at.elapsed() < BACKLOG_REFRESH) {
            return;
        }
        self.backlog_read = Some(Instant::now());
        match self.store.backlog().await {
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
