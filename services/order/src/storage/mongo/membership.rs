//! The consumer's membership (`idempotency::membership`) in the
//! `consumer_members` collection: one document a replica, `_id` the stream
//! and the member, times from the server's clock (`$$NOW`) alone.
use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use idempotency::membership::{Member, Membership, MembershipError};
use mongodb::bson::{Document, doc};
use mongodb::{Collection, Database};
use outbox::Partition;

/// A member silent for this many leases is deleted: long gone, not paused.
const FORGET_AFTER_LEASES: u32 = 20;

#[derive(Debug, Clone)]
pub struct MongoMembership {
    members: Collection<Document>,
}

impl MongoMembership {
    pub fn new(database: &Database) -> Self {
        MongoMembership {
            members: database.collection("consumer_members"),
        }
    }
}

/// The members of `stream` other than `member` whose last beat is newer
/// (`newer`) or older than `age` by the server's clock.
fn others(stream: &str, member: &str, age: Duration, newer: bool) -> Document {
    let since = doc! { "$subtract": ["$$NOW", age.as_millis() as i64] };
    let compare = if newer { "$gt" } else { "$lt" };
    doc! {
        "_id.stream": stream,
        "_id.member": { "$ne": member },
        "$expr": { compare: ["$seen_at", since] },
    }
}

/// The update of a beat: an aggregation pipeline, so `$$NOW` is the
/// server's time.
fn beat_update(held: &[Partition]) -> Vec<Document> {
    let held: Vec<i32> = held.iter().map(|&p| i32::from(p)).collect();
    vec![doc! { "$set": { "seen_at": "$$NOW", "held": held } }]
}

fn member_of(document: &Document) -> Option<Member> {
    let id = document.get_document("_id").ok()?.get_str("member").ok()?;
    let held = document
        .get_array("held")
        .ok()?
        .iter()
        .filter_map(|p| p.as_i32().and_then(|p| Partition::try_from(p).ok()))
        .collect();
    Some(Member {
        id: id.to_owned(),
        held,
    })
}

#[async_trait]
impl Membership for MongoMembership {
    async fn beat(
        &self,
        stream: &str,
        member: &str,
        held: &[Partition],
        lease: Duration,
    ) -> Result<Vec<Member>, MembershipError> {
        let id = doc! { "_id": { "stream": stream, "member": member } };
        self.members
            .update_one(id, beat_update(held))
            .upsert(true)
            .await?;
        self.members
            .delete_many(others(stream, member, lease * FORGET_AFTER_LEASES, false))
            .await?;
        let live: Vec<Document> = self
            .members
            .find(others(stream, member, lease, true))
            .await?
            .try_collect()
            .await?;
        Ok(live.iter().filter_map(member_of).collect())
    }

    async fn leave(&self, stream: &str, member: &str) -> Result<(), MembershipError> {
        let id = doc! { "_id": { "stream": stream, "member": member } };
        self.members.delete_one(id).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_members_are_those_seen_within_the_lease_by_the_servers_clock() {
        let filter = others("order.checkout", "me", Duration::from_secs(3), true);

        assert_eq!(
            filter,
            doc! {
                "_id.stream": "order.checkout",
                "_id.member": { "$ne": "me" },
                "$expr": { "$gt": ["$seen_at", { "$subtract": ["$$NOW", 3000_i64] }] },
            }
        );
    }

    #[test]
    fn a_beat_sets_the_servers_time_and_what_is_held() {
        assert_eq!(
            beat_update(&[1, 3]),
            vec![doc! { "$set": { "seen_at": "$$NOW", "held": [1, 3] } }]
        );
    }

    #[test]
    fn a_document_reads_back_as_the_member_and_its_partitions() {
        let document = doc! {
            "_id": { "stream": "order.checkout", "member": "order:8101 consumer 1a2b" },
            "seen_at": mongodb::bson::DateTime::now(),
            "held": [0, 2, 4],
        };

        assert_eq!(
            member_of(&document),
            Some(Member {
                id: "order:8101 consumer 1a2b".into(),
                held: vec![0, 2, 4],
            })
        );
    }
}
