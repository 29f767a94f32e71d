//! `GET /<prefix>/health`, the same for every service.
use std::time::Duration;

use sqlx::PgPool;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use crate::http::{error_reply, with_state};

/// How long the database may take to answer `SELECT 1` before the replica
/// counts as unhealthy; shorter than the gateway's and `make up`'s patience.
const DATABASE_PING_TIMEOUT: Duration = Duration::from_secs(2);

/// 200 only while the service's database answers: `make up` and Kubernetes'
/// probes use it to tell a replica that can serve from one that merely runs.
pub fn route(
    prefix: &'static str,
    pool: PgPool,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path(prefix)
        .and(warp::path("health"))
        .and(warp::path::end())
        .and(warp::get())
        .and(with_state(pool))
        .then(move |pool: PgPool| health(prefix, pool))
}

async fn health(prefix: &'static str, pool: PgPool) -> Response {
    if crate::database::is_reachable(&pool, DATABASE_PING_TIMEOUT).await {
        warp::reply::json(&serde_json::json!({"status": "ok"})).into_response()
    } else {
        let message = format!("the {prefix} database is unreachable");
        error_reply(StatusCode::SERVICE_UNAVAILABLE, &message)
    }
}
