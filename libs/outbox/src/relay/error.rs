//! Why a relay step fell short, whichever store its outbox lives in.
use std::time::Duration;

use platform::database::DbError;

use crate::broker::PublishError;

/// Why a relay step did not publish everything it took. Every variant is
/// retried by [`crate::Relay::run`] after a backoff.
#[derive(Debug, thiserror::Error)]
pub enum RelayError<E = DbError> {
    /// The store's own error ([`crate::OutboxStore::Error`]).
    #[error("outbox database failure")]
    Database(#[source] E),
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

/// How many were published, or why some were not.
pub(super) fn outcome<E>(
    published: usize,
    failure: Option<(usize, PublishError)>,
) -> Result<usize, RelayError<E>> {
    match failure {
        Some((count, first)) => Err(RelayError::NotConfirmed { count, first }),
        None => Ok(published),
    }
}
