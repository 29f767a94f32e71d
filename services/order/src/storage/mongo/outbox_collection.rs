//! The outbox collection: events enqueued in the transaction of the change
//! they describe, claimed by relays one aggregate at a time through leases.
use std::time::Duration;

use futures::TryStreamExt;
use mongodb::ClientSession;
use mongodb::bson::{self, Bson, Document, doc};
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
    if !aggregates.is_empty() {
        let mine = doc! { "_id": { "$in": aggregates }, "owner": owner };
        collections.outbox_leases.delete_many(mine).await?;
    }
    Ok(())
}

/// How many events wait, and the age in seconds of the oldest (0 if none).
pub async fn backlog(collections: &Collections) -> Result<(i64, f64), mongodb::error::Error> {
    let summary = [doc! {
        "$group": { "_id": null, "count": { "$sum": 1_i64 }, "oldest": { "$min": "$enqueued_at" } }
    }];
    let found: Option<Document> = collections.outbox.aggregate(summary).await?.try_next().await?;
    Ok(backlog_of(found.as_ref(), bson::DateTime::now()))
}

/// The backlog in the summary [`backlog`] reads, as of `now`; no summary
/// means an empty outbox.
fn backlog_of(summary: Option<&Document>, now: bson::DateTime) -> (i64, f64) {
    let Some(summary) = summary else {
        return (0, 0.0);
    };
    let count = match summary.get("count") {
        Some(Bson::Int64(count)) => *count,
        Some(Bson::Int32(count)) => i64::from(*count),
        _ => 0,
    };
    let age_ms = summary
        .get_datetime("oldest")
        .map_or(0, |oldest| now.timestamp_millis() - oldest.timestamp_millis());
    (count, age_ms.max(0) as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backlog_counts_the_events_and_ages_the_oldest() {
        let now = bson::DateTime::from_millis(10_000);
        let summary = doc! { "_id": null, "count": 3_i64, "oldest": bson::DateTime::from_millis(7_500) };

        assert_eq!(backlog_of(Some(&summary), now), (3, 2.5));
    }

    #[test]
    fn an_empty_outbox_has_no_backlog_and_a_clock_behind_no_negative_age() {
        let now = bson::DateTime::from_millis(10_000);
        let ahead = doc! { "count": 1_i32, "oldest": bson::DateTime::from_millis(10_200) };

        assert_eq!(backlog_of(None, now), (0, 0.0));
        assert_eq!(backlog_of(Some(&ahead), now), (1, 0.0));
    }
}
