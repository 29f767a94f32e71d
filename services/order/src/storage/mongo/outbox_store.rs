//! The outbox collection as the relay's store (`outbox::OutboxStore`), so
//! the one relay of the `outbox` crate publishes it: a sweep leases
//! aggregates, and its claim maps the positions the relay names rows by
//! back to message ids.
use std::time::Duration;

use mongodb::bson;
use mongodb::error::Error;
use outbox::{OutboxStore, Stored};

use super::documents::OutboxDocument;
use super::outbox_collection as outbox_events;
use super::setup::Collections;

/// The outbox collection, leased under one relay's name.
#[derive(Debug, Clone)]
pub struct MongoOutbox {
    collections: Collections,
    /// This relay's name on its leases: unique per process and run.
    owner: String,
}

impl MongoOutbox {
    /// `name` labels the relay (e.g. `order-1 relay`).
    pub fn new(collections: Collections, name: &str) -> Self {
        MongoOutbox {
            collections,
            owner: format!("{name} {}", uuid::Uuid::new_v4()),
        }
    }
}

/// A sweep's leased aggregates, and the message id of each event it gave
/// the relay: MongoDB has no global positions, so a row's position is its
/// index here.
#[derive(Debug, Default)]
pub struct MongoClaim {
    aggregates: Vec<String>,
    message_ids: Vec<bson::Uuid>,
}

impl MongoClaim {
    /// The claim of `aggregates` and its rows, numbered in the order of
    /// `events`: each aggregate's in `seq` order, so the positions of one
    /// aggregate's events increase with their `seq`, as the relay's rounds
    /// expect.
    fn new(aggregates: Vec<String>, events: Vec<OutboxDocument>) -> (Self, Vec<Stored>) {
        let rows = events
            .iter()
            .zip(0..)
            .map(|(event, position)| Stored::new(position, event.message()))
            .collect();
        let message_ids = events.iter().map(|event| event.message_id).collect();
        (
            MongoClaim {
                aggregates,
                message_ids,
            },
            rows,
        )
    }

    /// The message ids of the rows at `positions`; a position this claim
    /// did not give out names none.
    fn message_ids(&self, positions: &[i64]) -> Vec<bson::Uuid> {
        positions
            .iter()
            .filter_map(|&position| usize::try_from(position).ok())
            .filter_map(|index| self.message_ids.get(index).copied())
            .collect()
    }
}

impl OutboxStore for MongoOutbox {
    type Claim = MongoClaim;
    type Error = Error;

    /// The store's commits wake the relay rather than hand rows over.
    const SWEEP_WHEN_WOKEN: bool = true;
    const LEASE: Option<Duration> = Some(outbox_events::LEASE);

    /// Leases aggregates whatever their events' age: with no hand-over, no
    /// young event is left to the relay of the process that committed it.
    async fn claim(&self, limit: i64, _min_age: Duration) -> Result<(MongoClaim, Vec<Stored>), Error> {
        let aggregates = outbox_events::claim(&self.collections, &self.owner, limit).await?;
        if aggregates.is_empty() {
            return Ok((MongoClaim::default(), Vec::new()));
        }
        match outbox_events::events_of(&self.collections, &aggregates, limit).await {
            Ok(events) => Ok(MongoClaim::new(aggregates, events)),
            Err(error) => {
                // Should the release fail as well, the leases lapse.
                let _ = outbox_events::release(&self.collections, &self.owner, &aggregates).await;
                Err(error)
            }
        }
    }

    /// Gives the aggregates back even when the delete failed: their events
    /// then go out again, from any relay, rather than wait for the leases.
    async fn settle(&self, claim: MongoClaim, confirmed: &[i64]) -> Result<(), Error> {
        let deleted = outbox_events::delete(&self.collections, &claim.message_ids(confirmed)).await;
        let released = self.abandon(claim).await;
        deleted.and(released)
    }

    async fn abandon(&self, claim: MongoClaim) -> Result<(), Error> {
        outbox_events::release(&self.collections, &self.owner, &claim.aggregates).await
    }

    /// The store's commits hand no rows over, so the relay publishes none
    /// outside a claim and never has any to delete here.
    async fn delete(&self, _positions: &[i64]) -> Result<(), Error> {
        Ok(())
    }

    async fn backlog(&self) -> Result<(i64, f64), Error> {
        outbox_events::backlog(&self.collections).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use outbox::OutboxMessage;

    fn event(aggregate: &str, seq: i64) -> OutboxDocument {
        let message = OutboxMessage::new("order", "k", "E", 1, aggregate, &seq).expect("a message");
        OutboxDocument::new(&message, seq).expect("a document")
    }

    fn claim_of(events: &[OutboxDocument]) -> (MongoClaim, Vec<Stored>) {
        MongoClaim::new(vec!["a".into(), "b".into()], events.to_vec())
    }

    #[test]
    fn positions_follow_each_aggregates_seq_and_carry_the_messages() {
        let events = [event("a", 1), event("a", 2), event("b", 1)];

        let (_, rows) = claim_of(&events);

        let positions: Vec<i64> = rows.iter().map(|row| row.position).collect();
        assert_eq!(positions, vec![0, 1, 2]);
        let messages: Vec<OutboxMessage> = events.iter().map(OutboxDocument::message).collect();
        let handed: Vec<OutboxMessage> = rows.into_iter().map(|row| row.message).collect();
        assert_eq!(handed, messages);
    }

    #[test]
    fn confirmed_positions_name_their_events_message_ids() {
        let events = [event("a", 1), event("a", 2), event("b", 1)];
        let (claim, _) = claim_of(&events);

        let ids = claim.message_ids(&[0, 2]);

        assert_eq!(ids, vec![events[0].message_id, events[2].message_id]);
    }

    #[test]
    fn a_position_the_claim_did_not_give_out_names_no_event() {
        let (claim, _) = claim_of(&[event("a", 1)]);

        assert!(claim.message_ids(&[-1, 1, 7]).is_empty());
        assert!(MongoClaim::default().message_ids(&[0]).is_empty());
    }
}
