//! `GET /<prefix>/health`, the same for every service.
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::http::error_reply;

/// How long the database may take to answer `SELECT 1` before the replica
/// counts as unhealthy; shorter than the gateway's and `make up`'s patience.
const DATABASE_PING_TIMEOUT: Duration = Duration::from_secs(2);

/// 200 only while the service's database answers and its consumer is
/// connected to the broker (`broker` is set by the consumer): `make up` and
/// Kubernetes' probes use it to tell a replica that can serve from one that
/// merely runs.
pub fn route(
    prefix: &'static str,
    pool: PgPool,
    broker: Arc<AtomicBool>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    probed(
        prefix,
        move || {
            let pool = pool.clone();
            async move { crate::database::is_reachable(&pool, DATABASE_PING_TIMEOUT).await }
        },
        broker,
    )
}

/// [`route`] for a service whose database is not a `PgPool`: `database`
/// answers whether it is reachable within `DATABASE_PING_TIMEOUT`.
pub fn probed<P, F>(
    prefix: &'static str,
    database: P,
    broker: Arc<AtomicBool>,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone
where
    P: Fn() -> F + Clone + Send + Sync + 'static,
    F: Future<Output = bool> + Send,
{
    warp::path(prefix)
        .and(warp::path("health"))
        .and(warp::path::end())
        .and(warp::get())
        .then(move || health(prefix, database(), broker.clone()))
}

async fn health(
    prefix: &'static str,
    database: impl Future<Output = bool>,
    broker: Arc<AtomicBool>,
) -> Response {
    let reachable = tokio::time::timeout(DATABASE_PING_TIMEOUT, database).await;
    if !matches!(reachable, Ok(true)) {
        let message = format!("the {prefix} database is unreachable");
        return error_reply(StatusCode::SERVICE_UNAVAILABLE, &message);
    }
    if !broker.load(Ordering::Relaxed) {
        let message = format!("the {prefix} service is not connected to the broker");
        return error_reply(StatusCode::SERVICE_UNAVAILABLE, &message);
    }
    warp::reply::json(&serde_json::json!({"status": "ok"})).into_response()
}
