//! The outbox collection: events enqueued in the transaction of the change
//! they describe, claimed by relays one aggregate at a time through leases.
use std::time::Duration;

use futures::TryStreamExt;
use mongodb::ClientSession;
use mongodb::bson::{self, Document, doc};
use outbox::OutboxMessage;

use super::documents::OutboxDocument;
use super::setup::Collections;
use super::transaction::is_duplicate_key;

/// How long a relay owns the aggregates it claimed. One that dies holding
/// them delays their events by this much; the others then take over.
pub const LEASE: Duration = Duration::from_secs(30);

/// Writes `message` into the outbox inside `session`'s transaction, as the
/// `seq`-th event of its aggregate.
pub async fn enqueue(
    collections: &Collections,
    session: &mut ClientSession,
    message: &OutboxMessage,
    seq: i64,
) -> Result<(), mongodb::error::Error> {
    let document = bson::to_document(&OutboxDocument::new(message, seq)?)?;
    collections.outbox.insert_one(document).session(session).await?;
    Ok(())
}

/// Leases up to `limit` aggregates with waiting events, oldest first, that
/// no other relay holds; returns their ids. A lease is a document per
/// aggregate: taking an expired one updates it, taking a missing one inserts
/// it, and a live one refuses the insert with a duplicate key.
pub async fn claim(
    collections: &Collections,
    owner: &str,
    limit: i64,
) -> Result<Vec<String>, mongodb::error::Error> {
    let oldest_first = [
        doc! { "$group": { "_id": "$aggregate_id", "oldest": { "$min": "$enqueued_at" } } },
        doc! { "$sort": { "oldest": 1 } },
        doc! { "$limit": limit },
    ];
    let candidates: Vec<Document> = collections
        .outbox
        .aggregate(oldest_first)
        .await?
        .try_collect()
        .await?;
    let now = bson::DateTime::now();
    let until = bson::DateTime::from_millis(now.timestamp_millis() + LEASE.as_millis() as i64);
    let mut leased = Vec::with_capacity(candidates.len());
    for aggregate in candidates.iter().filter_map(|c| c.get_str("_id").ok()) {
        let expired = doc! { "_id": aggregate, "until": { "$lt": now } };
        let take = doc! { "$set": { "owner": owner, "until": until } };
        match collections
            .outbox_leases
            .update_one(expired, take)
            .upsert(true)
            .await
        {
            Ok(_) => leased.push(aggregate.to_owned()),
            Err(error) if is_duplicate_key(&error) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(leased)
}

/// The waiting events of `aggregates`, each aggregate's in `seq` order.
pub async fn events_of(
    collections: &Collections,
    aggregates: &[String],
    limit: i64,
) -> Result<Vec<OutboxDocument>, mongodb::error::Error> {
    let documents: Vec<Document> = collections
        .outbox
        .find(doc! { "aggregate_id": { "$in": aggregates } })
        .sort(doc! { "aggregate_id": 1, "seq": 1 })
        .limit(limit)
        .await?
        .try_collect()
        .await?;
    documents
        .into_iter()
        .map(|document| Ok(bson::from_document(document)?))
        .collect()
}

/// The events that may leave the outbox after a publish: of each aggregate,
/// those confirmed before its first unconfirmed one. An event behind an
/// unconfirmed one stays, so the next attempt sends both again in order
/// (a duplicate the consumers' inbox absorbs) rather than the later alone.
pub fn deletable(batch: &[OutboxDocument], confirmed: &[usize]) -> Vec<bson::Uuid> {
    let mut blocked: Vec<&str> = Vec::new();
    let mut done = Vec::new();
    for (index, event) in batch.iter().enumerate() {
        if blocked.contains(&event.aggregate_id.as_str()) {
            continue;
        }
        if confirmed.contains(&index) {
            done.push(event.message_id);
        } else {
            blocked.push(&event.aggregate_id);
        }
    }
    done
}

pub async fn delete(
    collections: &Collections,
    published: &[bson::Uuid],
) -> Result<(), mongodb::error::Error> {
    if !published.is_empty() {
        collections
            .outbox
            .delete_many(doc! { "_id": { "$in": published } })
            .await?;
    }
    Ok(())
}

/// Gives the aggregates back at once rather than when the leases expire.
pub async fn release(
    collections: &Collections,
    owner: &str,
    aggregates: &[String],
) -> Result<(), mongodb::error::Error> {
    let mine = doc! { "_id": { "$in": aggregates }, "owner": owner };
    collections.outbox_leases.delete_many(mine).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(aggregate: &str, seq: i64) -> OutboxDocument {
        let message = OutboxMessage::new("order", "k", "E", 1, aggregate, &seq).expect("a message");
        OutboxDocument::new(&message, seq).expect("a document")
    }

    #[test]
    fn every_confirmed_event_leaves_when_all_were_confirmed() {
        let batch = [event("a", 1), event("a", 2), event("b", 1)];

        let done = deletable(&batch, &[0, 1, 2]);

        assert_eq!(done, batch.iter().map(|e| e.message_id).collect::<Vec<_>>());
    }

    #[test]
    fn events_behind_an_unconfirmed_one_of_their_aggregate_stay() {
        let batch = [
            event("a", 1),
            event("a", 2),
            event("a", 3),
            event("b", 1),
            event("b", 2),
        ];

        let done = deletable(&batch, &[0, 2, 3, 4]);

        let expected = [&batch[0], &batch[3], &batch[4]].map(|e| e.message_id);
        assert_eq!(done, expected);
    }

    #[test]
    fn nothing_leaves_when_nothing_was_confirmed() {
        assert!(deletable(&[event("a", 1), event("b", 1)], &[]).is_empty());
    }
}
