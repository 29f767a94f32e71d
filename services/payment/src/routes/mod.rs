//! The `/payment` contract. Every path keeps its prefix so the service
//! answers the same URLs behind the gateway and when called directly.
mod batch_init;
mod users;

use sqlx::PgPool;
use warp::{Filter, Rejection, Reply};

pub fn routes(pool: PgPool) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    users::routes(pool.clone())
        .or(batch_init::route(pool.clone()))
        .or(platform::health::route("payment", pool))
}
