//! Publishing a batch of rows, whoever took them: in rounds per aggregate,
//! with a deadline on the broker's confirms.
use std::collections::{HashMap, HashSet};
use std::time::Instant;

use crate::batch::Confirmations;
use crate::outbox_store::OutboxStore;
use crate::store::Stored;
use crate::telemetry::publish_span;

use super::{Relay, RelayError};

impl<S: OutboxStore> Relay<S> {
    /// [`Relay::publish`] for a sweep's rows, given up half-way through the
    /// claim's lease where the store's claims lapse.
    pub(super) async fn publish_claimed(
        &mut self,
        rows: &mut [Stored],
    ) -> Result<Confirmations, RelayError<S::Error>> {
        let Some(lease) = S::LEASE else {
            return self.publish(rows).await;
        };
        // A publish that outlived the lease could run beside another
        // relay's, which took the same events over.
        let deadline = lease / 2;
        let Ok(published) = tokio::time::timeout(deadline, self.publish(rows)).await else {
            self.publisher.reconnect();
            return Err(RelayError::ConfirmTimeout(deadline));
        };
        published
    }

    /// Publishes `rows` in their order, pipelined, each in a publish span
    /// that continues the trace the row was written in. Rows of one
    /// aggregate go in successive rounds, each waiting for the confirms of
    /// the one before, and a row whose earlier row of its aggregate was not
    /// confirmed is not published: a later event never overtakes an earlier
    /// one that may have to be sent again. Rows of different aggregates
    /// share a round, so a batch of distinct aggregates is one round.
    pub(super) async fn publish(
        &mut self,
        rows: &mut [Stored],
    ) -> Result<Confirmations, RelayError<S::Error>> {
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
    ) -> Result<Confirmations, RelayError<S::Error>> {
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
}

/// The positions, within `rows`, the broker confirmed.
pub(super) fn confirmed_positions(rows: &[Stored], confirmations: &Confirmations) -> Vec<i64> {
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
