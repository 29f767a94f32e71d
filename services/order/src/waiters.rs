//! Who waits for which order's outcome. The order consumer settles the
//! waiters of this replica directly; the store's outcome listener
//! (`OrderStore::listen_for_ended_sagas`) passes on what the other replicas'
//! consumers announce.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use uuid::Uuid;

use crate::domain::{Ended, SagaEnd};

/// The waiting requests of this replica, by order id.
#[derive(Debug, Clone, Default)]
pub struct Waiters {
    waiters: Arc<Mutex<HashMap<String, watch::Sender<News>>>>,
}

/// What a waiting request hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum News {
    /// The order's saga may have ended: read the order to know.
    Reread,
    /// This saga of the order ended so.
    Ended { saga_id: Uuid, end: SagaEnd },
}

/// A request's interest in one order; dropping it forgets the interest.
#[derive(Debug)]
pub struct Waiter {
    waiters: Waiters,
    order_id: String,
    receiver: watch::Receiver<News>,
}

impl Waiters {
    /// Subscribe before reading the order's state, so that an outcome
    /// announced in between is not missed.
    pub fn subscribe(&self, order_id: &str) -> Waiter {
        let mut waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        let sender = waiters
            .entry(order_id.to_owned())
            .or_insert_with(|| watch::channel(News::Reread).0);
        Waiter {
            waiters: self.clone(),
            order_id: order_id.to_owned(),
            receiver: sender.subscribe(),
        }
    }

    /// Wakes the requests waiting on `order_id`, whose saga may have ended.
    pub fn wake(&self, order_id: &str) {
        self.tell(order_id, News::Reread);
    }

    /// Tells the requests waiting on each ended saga's order how it ended.
    /// Returns the ended sagas nobody here waits for: those to announce to
    /// the other replicas. (Two checkouts of one order waiting on two
    /// replicas at once are rare; the one not told learns the outcome at
    /// its periodic re-read.)
    pub fn settle(&self, ended: &[Ended]) -> Vec<Ended> {
        ended
            .iter()
            .filter(|ended| {
                let news = News::Ended {
                    saga_id: ended.saga_id,
                    end: ended.end.clone(),
                };
                !self.tell(&ended.order_id, news)
            })
            .cloned()
            .collect()
    }

    /// After a gap in listening, any outcome may have been missed.
    pub fn wake_all(&self) {
        let waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        waiters.values().for_each(|sender| {
            sender.send_replace(News::Reread);
        });
    }

    /// `true` when someone waits on `order_id`.
    fn tell(&self, order_id: &str, news: News) -> bool {
        let waiters = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sender) = waiters.get(order_id) else {
            return false;
        };
        sender.send_replace(news);
        true
    }
}

impl Waiter {
    /// Completes with the next news of the order.
    pub async fn changed(&mut self) -> News {
        if self.receiver.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
        self.receiver.borrow_and_update().clone()
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        let mut waiters = self.waiters.waiters.lock().unwrap_or_else(|e| e.into_inner());
        // This subscription's receiver still counts until the drop ends.
        if waiters
            .get(&self.order_id)
            .is_some_and(|s| s.receiver_count() <= 1)
        {
            waiters.remove(&self.order_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[test]
    fn a_waiter_here_is_told_how_its_saga_ended_and_the_others_are_left_to_announce() {
        let waiters = Waiters::default();
        let mut waiting = waiters.subscribe("here");
        let (here, elsewhere) = (
            Ended::of("here", SagaEnd::Paid),
            Ended::of("there", SagaEnd::Paid),
        );

        let unheard = waiters.settle(&[here.clone(), elsewhere.clone()]);

        assert_eq!(unheard, vec![elsewhere]);
        let news = waiting.changed().now_or_never();
        assert_eq!(
            news,
            Some(News::Ended {
                saga_id: here.saga_id,
                end: SagaEnd::Paid
            })
        );
    }

    #[test]
    fn a_forgotten_interest_hears_nothing() {
        let waiters = Waiters::default();
        drop(waiters.subscribe("gone"));

        let unheard = waiters.settle(&[Ended::of("gone", SagaEnd::Failed("no".into()))]);

        assert_eq!(unheard.len(), 1);
    }
}
