//! A sweep's claim between its publish and its end.
use crate::broker::PublishError;
use crate::outbox_store::OutboxStore;
use crate::pg_outbox::PgOutbox;

use super::error::{RelayError, outcome};

/// Rows claimed by a sweep and published but not yet deleted: the state a
/// relay is in when it dies after publishing. [`Claimed::abandon`] (or a
/// drop, once the claim lapses) leaves the rows to be published again;
/// [`Claimed::commit`] deletes the confirmed ones.
#[derive(Debug)]
pub struct Claimed<'a, S: OutboxStore = PgOutbox> {
    pub(super) store: &'a S,
    pub(super) claim: S::Claim,
    pub(super) confirmed: Vec<i64>,
    pub(super) failure: Option<(usize, PublishError)>,
}

impl<S: OutboxStore> Claimed<'_, S> {
    pub fn published(&self) -> usize {
        self.confirmed.len()
    }

    /// Gives the rows back unpublished-as-far-as-the-store-knows, as a
    /// relay that dies here would, and waits until they are.
    pub async fn abandon(self) -> Result<(), RelayError<S::Error>> {
        self.store.abandon(self.claim).await.map_err(RelayError::Database)
    }

    /// Deletes the rows the broker confirmed and ends the claim. The rows
    /// it did not confirm stay and are reported as an error.
    pub async fn commit(self) -> Result<usize, RelayError<S::Error>> {
        self.store
            .settle(self.claim, &self.confirmed)
            .await
            .map_err(RelayError::Database)?;
        outcome(self.confirmed.len(), self.failure)
    }
}
