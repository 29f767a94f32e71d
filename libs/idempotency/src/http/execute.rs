use futures::future::BoxFuture;
use platform::database::DbError;
use platform::http::{ApiError, error_reply, json_response};
use serde::Serialize;
use sqlx::{Acquire, PgConnection, PgPool};
use warp::http::StatusCode;
use warp::reply::Response;

use super::key::{IdempotencyKey, IdempotentRequest};
use super::store::{self, SavedAnswer};

/// A request's effect, run on the connection (or inside the transaction)
/// that `execute` hands it.
pub trait Operation<T, E>:
    for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, E>> + Send
{
}

impl<F, T, E> Operation<T, E> for F where
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, E>> + Send
{
}

/// Header set on an answer that was replayed from an earlier request.
const REPLAYED: &str = "idempotent-replayed";

/// Runs `operation` at most once per `Idempotency-Key`.
///
/// Without a key, it simply runs. With one, the key, a fingerprint of the
/// request and the answer are stored in the transaction of the effect: 2xx
/// and 4xx answers are final and replayed to any repeat; a 5xx is not stored,
/// so a retry may succeed. The same key with another request is a 422.
pub async fn execute<T, E>(
    pool: &PgPool,
    request: IdempotentRequest,
    operation: impl Operation<T, E>,
) -> Response
where
    T: Serialize,
    E: ApiError,
{
    let Some(raw_key) = request.key else {
        return match pool.acquire().await {
            Ok(mut conn) => platform::http::respond(operation(&mut conn).await),
            Err(error) => unavailable(error.into()),
        };
    };
    let key = match IdempotencyKey::try_from(raw_key.as_str()) {
        Ok(key) => key,
        Err(message) => return error_reply(StatusCode::BAD_REQUEST, message),
    };
    match execute_once(pool, &key, &request.fingerprint, operation).await {
        Ok(response) => response,
        Err(error) => unavailable(error),
    }
}

async fn execute_once<T, E, F>(
    pool: &PgPool,
    key: &IdempotencyKey,
    fingerprint: &str,
    operation: F,
) -> Result<Response, DbError>
where
    T: Serialize,
    E: ApiError,
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, E>> + Send,
{
    let mut tx = pool.begin().await?;
    if !store::claim(&mut tx, key.as_str(), fingerprint).await? {
        drop(tx);
        return replay(pool, key, fingerprint).await;
    }
    // A savepoint: a business error may have aborted the statement, and the
    // answer must still be stored in this transaction.
    let mut effect = tx.begin().await?;
    let (status, body) = platform::http::answer(operation(&mut effect).await);
    if status.is_server_error() {
        return Ok(json_response(status, &body));
    }
    if status.is_success() {
        effect.commit().await?;
    } else {
        effect.rollback().await?;
    }
    store::save(&mut tx, key.as_str(), status.as_u16(), &body).await?;
    tx.commit().await?;
    Ok(json_response(status, &body))
}

async fn replay(pool: &PgPool, key: &IdempotencyKey, fingerprint: &str) -> Result<Response, DbError> {
    Ok(replay_answer(
        key,
        fingerprint,
        store::load(pool, key.as_str()).await?,
    ))
}

/// The answer to a repeat of a request whose key was found taken: the saved
/// answer, marked as replayed, when the request is the same; a 422 when the
/// key came with another request. For stores other than PostgreSQL too.
pub fn replay_answer(key: &IdempotencyKey, fingerprint: &str, saved: Option<SavedAnswer>) -> Response {
    let Some(saved) = saved else {
        // Pruned between our claim and this read: ask the client to retry.
        return error_reply(StatusCode::CONFLICT, "Idempotency-Key expired just now; retry");
    };
    if saved.fingerprint != fingerprint {
        let message = format!(
            "Idempotency-Key {} was used for another request ({})",
            key.as_str(),
            saved.fingerprint
        );
        return error_reply(StatusCode::UNPROCESSABLE_ENTITY, &message);
    }
    let status = StatusCode::from_u16(saved.status as u16).unwrap_or(StatusCode::OK);
    let mut response = json_response(status, &saved.body);
    response
        .headers_mut()
        .insert(REPLAYED, warp::http::HeaderValue::from_static("true"));
    response
}

fn unavailable(error: DbError) -> Response {
    tracing::error!(error = %platform::http::error_chain(&error), "request failed");
    error_reply(
        StatusCode::SERVICE_UNAVAILABLE,
        "the database is unavailable, try again later",
    )
}
