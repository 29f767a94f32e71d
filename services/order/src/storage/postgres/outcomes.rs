//! The outcome listener of the PostgreSQL store: `finish_saga` notifies on
//! the order database, and every replica listens.
use std::future::Future;
use std::time::Duration;

use outbox::Backoff;
use sqlx::PgPool;
use sqlx::postgres::PgListener;

use super::saga::OUTCOME_CHANNEL;
use crate::checkout::Outcomes;

/// Listens for announced outcomes until `shutdown`, reconnecting with
/// backoff; after each (re)connect it wakes every waiter to re-read.
pub async fn listen(pool: PgPool, outcomes: Outcomes, shutdown: impl Future<Output = ()>) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            error = listen_once(&pool, &outcomes, &mut backoff) => {
                tracing::warn!(%error, "lost the checkout outcome listener");
            }
            () = &mut shutdown => return,
        }
        tokio::select! {
            () = tokio::time::sleep(backoff.next_delay()) => {}
            () = &mut shutdown => return,
        }
    }
}

async fn listen_once(pool: &PgPool, outcomes: &Outcomes, backoff: &mut Backoff) -> sqlx::Error {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(error) => return error,
    };
    if let Err(error) = listener.listen(OUTCOME_CHANNEL).await {
        return error;
    }
    backoff.reset();
    outcomes.wake_all();
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => outcomes.wake(notification.payload()),
            Ok(None) => return sqlx::Error::PoolClosed,
            Err(error) => return error,
        }
    }
}
