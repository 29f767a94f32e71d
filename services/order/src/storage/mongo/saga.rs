//! The checkout saga on MongoDB: each step is one multi-document
//! transaction over the order, the outbox and the inbox.
use idempotency::Outcome;
use mongodb::ClientSession;
use mongodb::bson::{self, doc};
use mongodb::options::ReturnDocument;
use uuid::Uuid;

use super::documents::TimelineDocument;
use super::orders::{order_of, without_timeline};
use super::outbox_collection as outbox_events;
use super::setup::Collections;
use super::transaction::{Finish, in_transaction, is_duplicate_key};
use crate::checkout::{NewSaga, Plan, Started, plan};
use crate::domain::{OrderId, SagaEnd, SagaStep};
use crate::error::OrderError;

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
        Err(OrderError::MongoDb(error)) => return Err(error),
        Err(refused) => return Ok(Finish::Abort(Err(refused))),
    };
    let start = doc! {
        "$set": { "status": "checking_out", "saga_id": event.saga_id.to_string(), "failure_reason": null },
        "$inc": { "outbox_seq": 1_i64 },
        "$push": { "timeline": bson::to_bson(&TimelineDocument::from(&entry))? },
    };
    let started = collections
        .orders
        .find_one_and_update(
            doc! { "_id": id.as_str(), "status": { "$in": ["open", "failed"] } },
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
            "status": "checking_out",
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
