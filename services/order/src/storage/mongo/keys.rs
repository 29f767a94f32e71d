//! `Idempotency-Key` on MongoDB: the key document is inserted in the
//! transaction of the request's effect, its answer saved there too. A
//! concurrent request with the same key conflicts with that insert and is
//! retried until the first commits, then finds the key and replays.
use http::StatusCode;
use idempotency::http::{IdempotencyKey, IdempotentRequest, KeyedAnswer, SavedAnswer};
use mongodb::ClientSession;
use mongodb::bson::{self, Bson, Document, doc};

use super::setup::Collections;
use super::transaction::{Finish, in_transaction, is_duplicate_key};
use super::writes::MongoWrites;
use crate::error::OrderError;
use crate::storage::{Effect, StoreError};

/// What became of a keyed request.
enum Keyed {
    /// It ran: its status and body.
    Ran(StatusCode, serde_json::Value),
    /// The key was taken: replay what it holds.
    Taken,
}

pub async fn execute(collections: &Collections, request: IdempotentRequest, effect: Effect) -> KeyedAnswer {
    let Some(raw_key) = request.key else {
        return run_unkeyed(collections, &effect).await;
    };
    let key = match IdempotencyKey::try_from(raw_key.as_str()) {
        Ok(key) => key,
        Err(message) => return KeyedAnswer::bad_key(message),
    };
    match run_keyed(collections, &key, &request.fingerprint, &effect).await {
        Ok(Keyed::Ran(status, body)) => KeyedAnswer::Ran { status, body },
        Ok(Keyed::Taken) => match load(collections, &key).await {
            Ok(saved) => KeyedAnswer::replay(&key, &request.fingerprint, saved),
            Err(error) => KeyedAnswer::unavailable(&error),
        },
        Err(error) => KeyedAnswer::unavailable(&error),
    }
}

/// Without a key, each write stands alone, as in PostgreSQL outside a
/// transaction: every one of them changes a single document.
async fn run_unkeyed(collections: &Collections, effect: &Effect) -> KeyedAnswer {
    let answer = match collections.client.start_session().await {
        Ok(mut session) => {
            let mut writes = MongoWrites {
                collections,
                session: &mut session,
            };
            effect(&mut writes).await
        }
        Err(error) => Err(error.into()),
    };
    let (status, body) = platform::http::answer(answer);
    KeyedAnswer::Ran { status, body }
}

/// 2xx: effect and answer commit together. 4xx: the effect is dropped (our
/// operations refuse before they write) and the answer is stored alone.
/// 5xx: nothing is stored, so a retry may succeed.
async fn run_keyed(
    collections: &Collections,
    key: &IdempotencyKey,
    fingerprint: &str,
    effect: &Effect,
) -> Result<Keyed, mongodb::error::Error> {
    let ran = in_transaction(&collections.client, |mut session| async move {
        let result = attempt(collections, key, fingerprint, effect, &mut session).await;
        (session, result)
    })
    .await?;
    match ran {
        Keyed::Ran(status, body) if status.is_client_error() => {
            let document = key_document(key, fingerprint, status, &body)?;
            match collections.idempotency_keys.insert_one(document).await {
                Err(error) if is_duplicate_key(&error) => Ok(Keyed::Taken),
                other => other.map(|_| Keyed::Ran(status, body)),
            }
        }
        other => Ok(other),
    }
}

async fn attempt(
    collections: &Collections,
    key: &IdempotencyKey,
    fingerprint: &str,
    effect: &Effect,
    session: &mut ClientSession,
) -> Result<Finish<Keyed>, mongodb::error::Error> {
    let claim = key_document(key, fingerprint, StatusCode::ACCEPTED, &serde_json::Value::Null)?;
    match collections
        .idempotency_keys
        .insert_one(claim)
        .session(&mut *session)
        .await
    {
        Err(error) if is_duplicate_key(&error) => return Ok(Finish::Abort(Keyed::Taken)),
        other => other?,
    };
    let mut writes = MongoWrites { collections, session };
    let answer = effect(&mut writes).await;
    if let Err(OrderError::Database(StoreError::MongoDb(error))) = answer {
        // Also a conflict inside the effect: the transaction starts over.
        return Err(error);
    }
    let (status, body) = platform::http::answer(answer);
    if !status.is_success() {
        return Ok(Finish::Abort(Keyed::Ran(status, body)));
    }
    let saved = doc! { "$set": { "status": i32::from(status.as_u16()), "body": bson::to_bson(&body)? } };
    collections
        .idempotency_keys
        .update_one(doc! { "_id": key.as_str() }, saved)
        .session(&mut *writes.session)
        .await?;
    Ok(Finish::Commit(Keyed::Ran(status, body)))
}

fn key_document(
    key: &IdempotencyKey,
    fingerprint: &str,
    status: StatusCode,
    body: &serde_json::Value,
) -> Result<Document, mongodb::error::Error> {
    Ok(doc! {
        "_id": key.as_str(),
        "fingerprint": fingerprint,
        "status": i32::from(status.as_u16()),
        "body": bson::to_bson(body)?,
        "created_at": bson::DateTime::now(),
    })
}

async fn load(
    collections: &Collections,
    key: &IdempotencyKey,
) -> Result<Option<SavedAnswer>, mongodb::error::Error> {
    let found = collections
        .idempotency_keys
        .find_one(doc! { "_id": key.as_str() })
        .await?;
    Ok(found.map(|saved| SavedAnswer {
        fingerprint: saved.get_str("fingerprint").unwrap_or_default().to_owned(),
        status: saved.get_i32("status").unwrap_or(200) as i16,
        body: saved
            .get("body")
            .cloned()
            .unwrap_or(Bson::Null)
            .into_relaxed_extjson(),
    }))
}
