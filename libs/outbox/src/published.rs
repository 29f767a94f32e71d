//! What a relay remembers of the rows it published: enough to keep each
//! aggregate's events in order without asking the table, and the confirmed
//! rows it has yet to delete.
//!
//! Each row handed over names the older rows of its aggregate its insert saw
//! ([`Stored::older`]). If this relay published every one of those, or
//! publishes them earlier in the same batch, the row may go now. Otherwise
//! an older row is someone else's (a dead process's, one the broker
//! refused): the row and every later row of its aggregate are left to the
//! sweep, which publishes each aggregate's head first.
use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use tokio::time::Instant;

use crate::store::{OLDER_REPORTED, Stored};

/// How many published positions are remembered: far more than are ever
/// handed over but not yet checked. A row whose older row was forgotten is
/// only sent by the sweep instead.
const REMEMBERED: usize = 65_536;

#[derive(Debug, Default)]
pub(crate) struct Published {
    /// Positions this relay published, the oldest first out.
    recent: HashSet<i64>,
    order: VecDeque<i64>,
    /// Confirmed, not yet deleted: deleted together, one statement for many
    /// batches.
    undeleted: Vec<i64>,
    /// When the oldest of `undeleted` was confirmed.
    undeleted_since: Option<Instant>,
    /// Aggregates with a row left to the sweep. Their later rows handed
    /// over with it, which could not see it (written by the same
    /// statement), must wait as well; rows written later see it themselves.
    held: HashSet<String>,
}

impl Published {
    /// Of `rows` (taken oldest first), those that may be published now, in
    /// order. `more_waiting`: rows remain handed over behind these.
    pub(crate) fn ready(&mut self, rows: Vec<Stored>, more_waiting: bool) -> Vec<Stored> {
        let mut going: HashSet<i64> = HashSet::new();
        let ready = rows
            .into_iter()
            .filter(|row| {
                let aggregate = &row.message.aggregate_id;
                let known = |older: &i64| self.recent.contains(older) || going.contains(older);
                let may_go = !self.held.contains(aggregate)
                    && row.older.len() < OLDER_REPORTED
                    && row.older.iter().all(known);
                if may_go {
                    going.insert(row.position);
                } else {
                    self.held.insert(aggregate.clone());
                }
                may_go
            })
            .collect();
        if !more_waiting {
            self.held.clear();
        }
        ready
    }

    /// Remembers rows the broker confirmed, still to be deleted.
    pub(crate) fn confirmed(&mut self, positions: &[i64]) {
        self.remember(positions);
        if !positions.is_empty() {
            self.undeleted_since.get_or_insert_with(Instant::now);
        }
        self.undeleted.extend_from_slice(positions);
    }

    /// Remembers rows published and deleted already (by a sweep).
    pub(crate) fn remember(&mut self, positions: &[i64]) {
        for &position in positions {
            if self.recent.insert(position) {
                self.order.push_back(position);
            }
        }
        while self.order.len() > REMEMBERED {
            if let Some(oldest) = self.order.pop_front() {
                self.recent.remove(&oldest);
            }
        }
    }

    pub(crate) fn undeleted(&self) -> &[i64] {
        &self.undeleted
    }

    /// When the rows waiting to be deleted should be, `after` the first
    /// was confirmed; `None` when none wait.
    pub(crate) fn delete_due(&self, after: Duration) -> Option<Instant> {
        self.undeleted_since.map(|since| since + after)
    }

    pub(crate) fn deleted(&mut self) {
        self.undeleted.clear();
        self.undeleted_since = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OutboxMessage;

    fn row(position: i64, aggregate: &str, older: &[i64]) -> Stored {
        let message = OutboxMessage::new("e", "k", "T", 1, aggregate, &position).expect("serialisable");
        Stored {
            older: older.to_vec(),
            ..Stored::new(position, message)
        }
    }

    fn positions(rows: &[Stored]) -> Vec<i64> {
        rows.iter().map(|r| r.position).collect()
    }

    #[test]
    fn a_row_whose_older_rows_this_relay_published_goes_at_once() {
        let mut published = Published::default();
        published.confirmed(&[1]);
        published.remember(&[2]);

        let ready = published.ready(vec![row(3, "a", &[1, 2]), row(4, "b", &[])], false);

        assert_eq!(positions(&ready), vec![3, 4]);
    }

    #[test]
    fn an_older_row_earlier_in_the_batch_goes_first_and_a_held_one_holds_its_aggregate() {
        let mut published = Published::default();

        let ready = published.ready(vec![row(1, "a", &[]), row(2, "a", &[1])], false);
        assert_eq!(positions(&ready), vec![1, 2]);

        // 5 waits behind 4, which nobody here published; 6 and 7 were
        // written with 5 in one statement and could not see it.
        let rows = vec![row(5, "b", &[4]), row(6, "b", &[]), row(8, "c", &[])];
        assert_eq!(positions(&published.ready(rows, true)), vec![8]);
        assert!(published.ready(vec![row(7, "b", &[])], false).is_empty());
        assert_eq!(
            positions(&published.ready(vec![row(9, "b", &[])], false)),
            vec![9]
        );
    }

    #[test]
    fn a_row_with_more_older_rows_than_reported_waits_for_the_sweep() {
        let mut published = Published::default();
        let older: Vec<i64> = (1..=OLDER_REPORTED as i64).collect();
        published.remember(&older);

        let ready = published.ready(vec![row(1_000, "a", &older)], false);

        assert!(ready.is_empty());
    }

    #[test]
    fn confirmed_rows_wait_to_be_deleted_and_old_memories_fade() {
        let mut published = Published::default();
        let after = Duration::from_millis(100);
        assert_eq!(published.delete_due(after), None);
        published.confirmed(&[1]);
        let due = published.delete_due(after).expect("rows wait");
        published.confirmed(&[2]);
        assert_eq!(published.undeleted(), &[1, 2]);
        assert_eq!(
            published.delete_due(after),
            Some(due),
            "the first row sets the time"
        );
        published.deleted();
        assert!(published.undeleted().is_empty());
        assert_eq!(published.delete_due(after), None);

        let many: Vec<i64> = (3..3 + REMEMBERED as i64).collect();
        published.remember(&many);

        assert!(published.ready(vec![row(0, "a", &[1])], false).is_empty());
        assert_eq!(
            positions(&published.ready(vec![row(0, "z", &[3])], false)),
            vec![0]
        );
    }
}
