//! Who waits for which order's outcome, and the listener that wakes them.
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use outbox::Backoff;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::watch;

use crate::storage::saga::OUTCOME_CHANNEL;

/// The waiting requests of this replica, by order id.
#[derive(Debug, Clone, Default)]
pub struct Outcomes {
    waiters: Arc<Mutex<HashMap<String, watch::Sender<()>>>>,
}

/// A request's interest in one order; wakes when that order's saga may have
/// ended. Dropping it forgets the interest.
#[derive(Debug)]
pub struct Subscription {
    outcomes: Outcomes,
    order_id: String,
    receiver: watch::Receiver<()>,
}

impl Outcomes {
    /// Subscribe before reading the order's state, so that an outcome
    /// announced in between is not missed.
    pub fn subscribe(&self, order_id: &str) -> Subscription {
        let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        let sender = waiters
            .entry(order_id.to_owned())
            .or_insert_with(|| watch::channel(()).0);
        Subscription {
            outcomes: self.clone(),
            order_id: order_id.to_owned(),
            receiver: sender.subscribe(),
        }
    }

    fn wake(&self, order_id: &str) {
        let waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = waiters.get(order_id) {
            sender.send_replace(());
        }
    }

    /// After a gap in listening, any outcome may have been missed.
    fn wake_all(&self) {
        let waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        waiters.values().for_each(|sender| {
            sender.send_replace(());
        });
    }
}

impl Subscription {
    /// Completes when the order's outcome may have changed.
    pub async fn changed(&mut self) {
        if self.receiver.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut waiters = self.outcomes.waiters.lock().unwrap_or_else(|e| e.into_inner());
        // This subscription's receiver still counts until the drop ends.
        if waiters
            .get(&self.order_id)
            .is_some_and(|s| s.receiver_count() <= 1)
        {
            waiters.remove(&self.order_id);
        }
    }
}

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
