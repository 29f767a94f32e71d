//! Who waits for which order's outcome. The store's outcome listener
//! (`OrderStore::listen_for_outcomes`) wakes them.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

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

    /// Wakes the requests waiting on `order_id`, whose saga may have ended.
    pub fn wake(&self, order_id: &str) {
        let waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sender) = waiters.get(order_id) {
            sender.send_replace(());
        }
    }

    /// After a gap in listening, any outcome may have been missed.
    pub fn wake_all(&self) {
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
