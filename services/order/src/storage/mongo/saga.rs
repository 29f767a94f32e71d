//! The checkout saga on MongoDB: each step is one multi-document
//! transaction over the order, the outbox and the inbox.
use std::time::Duration;

use futures::TryStreamExt;
use idempotency::Outcome;
use mongodb::ClientSession;
use mongodb::bson::{self, Bson, Document, doc};
use mongodb::options::ReturnDocument;
use uuid::Uuid;

use super::documents::TimelineDocument;
use super::orders::{order_of, without_timeline};
use super::outbox_collection as outbox_events;
use super::setup::Collections;
use super::transaction::{Finish, in_transaction, is_duplicate_key};
use crate::domain::{NewSaga, OrderId, OrderStatus, Plan, SagaEnd, SagaStep, Started, plan, redrive};
use crate::error::OrderError;
use crate::storage::StoreError;

/// Concurrent checkouts of one order conflict on its document; the losers
/// start over, read `checking_out`, and join the saga.
pub async fn start_or_join(collections: &Collections, id: &OrderId) -> Result<Started, OrderError> {
    in_transaction(&collections.client, |mut session| async move {
        let result = start_attempt(collections, id, &mut session).await;
        (session, result)
    })
    .await?
}

async fn start_attempt(
    collections: &Collections,
    id: &OrderId,
    session: &mut ClientSession,
) -> Result<Finish<Result<Started, OrderError>>, mongodb::error::Error> {
    let found = collections
        .orders
        .find_one(doc! { "_id": id.as_str() })
        .projection(without_timeline())
        .session(&mut *session)
        .await?;
    let decided = order_of(found).and_then(|order| plan(id, order.as_ref()));
    let NewSaga { event, entry } = match decided {
        Ok(Plan::Start(saga)) => *saga,
        Ok(Plan::Answer(started)) => return Ok(Finish::Abort(Ok(started))),
        Err(OrderError::Database(StoreError::MongoDb(error))) => return Err(error),
        Err(refused) => return Ok(Finish::Abort(Err(refused))),
    };
    let start = doc! {
        "$set": {
            "status": OrderStatus::CheckingOut,
            "saga_id": event.saga_id.to_string(),
            "failure_reason": null,
            "saga_driven_at": bson::DateTime::now(),
        },
        "$inc": { "outbox_seq": 1_i64 },
        "$push": { "timeline": bson::to_bson(&TimelineDocument::from(&entry))? },
    };
    let started = collections
        .orders
        .find_one_and_update(
            doc! { "_id": id.as_str(), "status": { "$in": [OrderStatus::Open, OrderStatus::Failed] } },
            start,
        )
        .projection(doc! { "outbox_seq": 1 })
        .return_document(ReturnDocument::After)
        .session(&mut *session)
        .await?;
    // The read above saw the order open in this transaction's snapshot; a
    // concurrent change would have been a write conflict, not a miss.
    let seq = started
        .and_then(|order| order.get_i64("outbox_seq").ok())
        .unwrap_or(1);
    outbox_events::enqueue(collections, session, &events::message(&event), seq).await?;
    Ok(Finish::Commit(Ok(Started::Running(Some(event.saga_id)))))
}

pub async fn apply_step(
    collections: &Collections,
    consumer: &str,
    message_id: Uuid,
    step: &SagaStep,
) -> Result<Outcome, OrderError> {
    let outcome = in_transaction(&collections.client, |mut session| async move {
        let result = apply_attempt(collections, consumer, message_id, step, &mut session).await;
        (session, result)
    })
    .await?;
    Ok(outcome)
}

async fn apply_attempt(
    collections: &Collections,
    consumer: &str,
    message_id: Uuid,
    step: &SagaStep,
    session: &mut ClientSession,
) -> Result<Finish<Outcome>, mongodb::error::Error> {
    let seen = doc! {
        "_id": { "consumer": consumer, "message_id": bson::Uuid::from_bytes(message_id.into_bytes()) },
        "processed_at": bson::DateTime::now(),
    };
    match collections.inbox.insert_one(seen).session(&mut *session).await {
        Err(error) if is_duplicate_key(&error) => return Ok(Finish::Abort(Outcome::Duplicate)),
        other => other?,
    };
    let line = bson::to_bson(&TimelineDocument::from(&step.entry))?;
    collections
        .orders
        .update_one(
            doc! { "_id": &step.order_id },
            doc! { "$push": { "timeline": line } },
        )
        .session(&mut *session)
        .await?;
    if let Some(end) = &step.outcome {
        // Only the saga that runs ends; an event of an older one is history.
        let running = doc! {
            "_id": &step.order_id,
            "saga_id": step.entry.saga_id.to_string(),
            "status": OrderStatus::CheckingOut,
        };
        let paid = *end == SagaEnd::Paid;
        let end = doc! { "$set": { "status": end.status(), "paid": paid, "failure_reason": end.failure() } };
        collections
            .orders
            .update_one(running, end)
            .session(&mut *session)
            .await?;
    }
    Ok(Finish::Commit(Outcome::Applied))
}

/// Drives again each saga driven last more than `after` ago (see
/// `OrderStore::redrive_stalled`). Each is claimed in a transaction of its
/// own, on the `saga_driven_at` it was read with, so that replicas doing
/// this at once drive it once.
pub async fn redrive_stalled(
    collections: &Collections,
    after: Duration,
    limit: i64,
) -> Result<Vec<Uuid>, OrderError> {
    let now = bson::DateTime::now().timestamp_millis();
    let cutoff = bson::DateTime::from_millis(now - after.as_millis() as i64);
    // `null` also matches an order started before this field existed.
    let due = doc! {
        "status": OrderStatus::CheckingOut,
        "$or": [ { "saga_driven_at": { "$lt": cutoff } }, { "saga_driven_at": null } ],
    };
    let stalled: Vec<Document> = collections
        .orders
        .find(due)
        .projection(without_timeline())
        .sort(doc! { "saga_driven_at": 1 })
        .limit(limit)
        .await?
        .try_collect()
        .await?;
    let mut driven = Vec::new();
    for document in stalled {
        let saga_id = document
            .get_str("saga_id")
            .ok()
            .and_then(|id| Uuid::parse_str(id).ok());
        let driven_at = document.get("saga_driven_at").cloned().unwrap_or(Bson::Null);
        let (Some(saga_id), Some(order)) = (saga_id, order_of(Some(document))?) else {
            continue;
        };
        let Some(saga) = redrive(&order, saga_id, after) else {
            continue;
        };
        let claimed = in_transaction(&collections.client, |mut session| {
            let (saga, driven_at) = (&saga, &driven_at);
            async move {
                let result = redrive_attempt(collections, saga, driven_at, &mut session).await;
                (session, result)
            }
        })
        .await?;
        if claimed {
            driven.push(saga_id);
        }
    }
    Ok(driven)
}

async fn redrive_attempt(
    collections: &Collections,
    saga: &NewSaga,
    driven_at: &Bson,
    session: &mut ClientSession,
) -> Result<Finish<bool>, mongodb::error::Error> {
    let unchanged = doc! {
        "_id": &saga.event.order_id,
        "status": OrderStatus::CheckingOut,
        "saga_id": saga.event.saga_id.to_string(),
        "saga_driven_at": driven_at.clone(),
    };
    let driven = doc! {
        "$set": { "saga_driven_at": bson::DateTime::now() },
        "$inc": { "outbox_seq": 1_i64 },
        "$push": { "timeline": bson::to_bson(&TimelineDocument::from(&saga.entry))? },
    };
    let claimed = collections
        .orders
        .find_one_and_update(unchanged, driven)
        .projection(doc! { "outbox_seq": 1 })
        .return_document(ReturnDocument::After)
        .session(&mut *session)
        .await?;
    let Some(order) = claimed else {
        return Ok(Finish::Abort(false));
    };
    let seq = order.get_i64("outbox_seq").unwrap_or(1);
    outbox_events::enqueue(collections, session, &events::message(&saga.event), seq).await?;
    Ok(Finish::Commit(true))
}
