//! The `/stock` contract. Every path keeps its prefix so the service answers
//! the same URLs behind the gateway and when called directly.
mod batch_init;
mod items;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use sqlx::PgPool;
use warp::{Filter, Rejection, Reply};

/// `broker` says whether the service's consumer is connected, for health.
pub fn routes(
    pool: PgPool,
    broker: Arc<AtomicBool>,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    items::routes(pool.clone())
        .or(batch_init::route(pool.clone()))
        .or(platform::health::route("stock", pool, broker))
        .or(platform::openapi::route("stock"))
}
