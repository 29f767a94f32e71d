//! From a commit to the relay, in memory: the rows a process has just
//! committed into its outbox, for its relay to publish at once (or, for a
//! store that hands no rows over, only a wake-up to sweep at once).
//!
//! The hand-over happens after the commit, never inside the business
//! transaction: PostgreSQL's `NOTIFY` takes one lock for the whole server at
//! commit and holds it until the commit is flushed, which made every saga
//! step of all three databases wait in one line. Handing over the rows
//! themselves also spares the relay a query to find them. The table stays
//! the record: a row is deleted only once the broker confirmed it, and rows
//! a process committed but never published (it died, or this queue was
//! full) are taken by a relay's sweep.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::store::Stored;

/// Rows handed over beyond this many wait for the sweep instead: the bound
/// on a relay's memory while the broker is away.
const CAPACITY: usize = 100_000;

/// A cloneable handle: whoever commits outbox rows calls
/// [`Handoff::committed`] (or [`Handoff::wake`]); the relay takes them.
#[derive(Debug, Clone, Default)]
pub struct Handoff {
    rows: Arc<Mutex<VecDeque<Stored>>>,
    ready: Arc<Notify>,
}

impl Handoff {
    /// Call after the commit that wrote `rows`.
    pub fn committed(&self, rows: Vec<Stored>) {
        if rows.is_empty() {
            return;
        }
        {
            let mut queue = self.rows.lock().unwrap_or_else(|e| e.into_inner());
            let room = CAPACITY.saturating_sub(queue.len());
            queue.extend(rows.into_iter().take(room));
        }
        self.wake();
    }

    /// Call after a commit whose rows are not handed over: for a store
    /// whose relay sweeps when woken
    /// ([`crate::OutboxStore::SWEEP_WHEN_WOKEN`]).
    pub fn wake(&self) {
        // `notify_one` keeps a permit when the relay is busy, so what was
        // committed meanwhile is not forgotten; many wake-ups wake it once.
        self.ready.notify_one();
    }

    /// Completes when rows may be waiting, or the relay was woken.
    pub(crate) async fn ready(&self) {
        self.ready.notified().await;
    }

    /// Up to `limit` rows, oldest first.
    pub(crate) fn take(&self, limit: usize) -> Vec<Stored> {
        let mut queue = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        let count = limit.min(queue.len());
        queue.drain(..count).collect()
    }

    /// Puts rows that could not be published back in front, to be tried
    /// again first.
    pub(crate) fn put_back(&self, rows: Vec<Stored>) {
        let mut queue = self.rows.lock().unwrap_or_else(|e| e.into_inner());
        for row in rows.into_iter().rev() {
            queue.push_front(row);
        }
        queue.truncate(CAPACITY);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OutboxMessage;
    use futures::FutureExt;

    fn row(position: i64) -> Stored {
        let message = OutboxMessage::new("e", "k", "T", 1, "a", &position).expect("serialisable");
        Stored::new(position, message)
    }

    fn positions(rows: &[Stored]) -> Vec<i64> {
        rows.iter().map(|r| r.position).collect()
    }

    #[test]
    fn rows_come_out_oldest_first_and_put_back_rows_first() {
        let handoff = Handoff::default();
        handoff.committed(vec![row(1), row(2)]);
        handoff.committed(vec![row(3)]);

        let first = handoff.take(2);
        handoff.put_back(first);

        assert_eq!(positions(&handoff.take(10)), vec![1, 2, 3]);
        assert!(handoff.is_empty());
    }

    #[test]
    fn a_hand_over_before_waiting_is_kept_and_many_wake_once() {
        let handoff = Handoff::default();

        handoff.committed(vec![row(1)]);
        handoff.committed(vec![row(2)]);

        assert!(handoff.ready().now_or_never().is_some());
        assert!(handoff.ready().now_or_never().is_none());
    }

    #[test]
    fn a_wake_up_without_rows_wakes_the_relay_and_hands_nothing_over() {
        let handoff = Handoff::default();

        handoff.wake();

        assert!(handoff.ready().now_or_never().is_some());
        assert!(handoff.is_empty());
    }
}
