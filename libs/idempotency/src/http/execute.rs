use futures::future::BoxFuture;
use http::StatusCode;
use platform::database::DbError;
use platform::http::ApiError;
use serde::Serialize;
use sqlx::{Acquire, PgConnection, PgPool};
use warp::reply::Response;

use super::answer::KeyedAnswer;
use super::key::{IdempotencyKey, IdempotentRequest};
use super::store;

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

/// Runs `operation` at most once per `Idempotency-Key`, as an HTTP answer:
/// [`execute_keyed`], sent.
pub async fn execute<T, E>(
    pool: &PgPool,
    request: IdempotentRequest,
    operation: impl Operation<T, E>,
) -> Response
where
    T: Serialize,
    E: ApiError,
{
    execute_keyed(pool, request, operation).await.into_response()
}

/// Runs `operation` at most once per `Idempotency-Key`.
///
/// Without a key, it simply runs. With one, the key, a fingerprint of the
/// request and the answer are stored in the transaction of the effect: 2xx
/// and 4xx answers are final and replayed to any repeat; a 5xx is not stored,
/// so a retry may succeed. The same key with another request is a 422.
pub async fn execute_keyed<T, E>(
    pool: &PgPool,
    request: IdempotentRequest,
    operation: impl Operation<T, E>,
) -> KeyedAnswer
where
    T: Serialize,
    E: ApiError,
{
    let Some(raw_key) = request.key else {
        return match pool.acquire().await {
            Ok(mut conn) => ran(platform::http::answer(operation(&mut conn).await)),
            Err(error) => KeyedAnswer::unavailable(&error),
        };
    };
    let key = match IdempotencyKey::try_from(raw_key.as_str()) {
        Ok(key) => key,
        Err(message) => return KeyedAnswer::bad_key(message),
    };
    match execute_once(pool, &key, &request.fingerprint, operation).await {
        Ok(answer) => answer,
        Err(error) => KeyedAnswer::unavailable(&error),
    }
}

async fn execute_once<T, E, F>(
    pool: &PgPool,
    key: &IdempotencyKey,
    fingerprint: &str,
    operation: F,
) -> Result<KeyedAnswer, DbError>
where
    T: Serialize,
    E: ApiError,
    F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, E>> + Send,
{
    let mut tx = pool.begin().await?;
    if !store::claim(&mut tx, key.as_str(), fingerprint).await? {
        drop(tx);
        let saved = store::load(pool, key.as_str()).await?;
        return Ok(KeyedAnswer::replay(key, fingerprint, saved));
    }
    // A savepoint: a business error may have aborted the statement, and the
    // answer must still be stored in this transaction.
    let mut effect = tx.begin().await?;
    let (status, body) = platform::http::answer(operation(&mut effect).await);
    if status.is_server_error() {
        return Ok(KeyedAnswer::Ran { status, body });
    }
    if status.is_success() {
        effect.commit().await?;
    } else {
        effect.rollback().await?;
    }
    store::save(&mut tx, key.as_str(), status.as_u16(), &body).await?;
    tx.commit().await?;
    Ok(KeyedAnswer::Ran { status, body })
}

fn ran((status, body): (StatusCode, serde_json::Value)) -> KeyedAnswer {
    KeyedAnswer::Ran { status, body }
}
