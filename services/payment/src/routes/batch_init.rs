use platform::domain::{Amount, BatchSize};
use platform::http::{respond, with_state};
use serde::Serialize;
use sqlx::PgPool;
use warp::{Filter, Rejection, Reply};

use crate::error::PaymentError;
use crate::storage;

pub fn route(pool: PgPool) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("payment" / "batch_init" / String / String)
        .and(warp::post())
        .and(with_state(pool))
        .then(batch_init)
        .map(respond)
}

#[derive(Debug, Serialize)]
struct Initialised {
    msg: String,
}

#[tracing::instrument(skip(pool))]
async fn batch_init(n: String, starting_money: String, pool: PgPool) -> Result<Initialised, PaymentError> {
    let n = BatchSize::parse("n", &n, 0)?;
    let credit = Amount::parse("starting_money", &starting_money)?;
    storage::batch_init(&pool, n, credit).await?;
    Ok(Initialised {
        msg: format!("users 0..{} set to credit {credit}", n.get()),
    })
}
