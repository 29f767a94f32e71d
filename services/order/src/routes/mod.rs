//! The `/orders` contract. Every path keeps its prefix so the service answers
//! the same URLs behind the gateway and when called directly.
mod batch_init;
mod orders;

use sqlx::PgPool;
use warp::{Filter, Rejection, Reply};

use crate::peers::Peers;

/// What every handler may use.
#[derive(Debug, Clone)]
pub struct State {
    pub pool: PgPool,
    pub peers: Peers,
}

pub fn routes(state: State) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    orders::routes(state.clone())
        .or(batch_init::route(state.pool.clone()))
        .or(platform::health::route("orders", state.pool))
}
