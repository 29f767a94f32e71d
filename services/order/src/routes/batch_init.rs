use platform::domain::{Amount, BatchSize, InputError};
use platform::http::{respond, with_state};
use serde::Serialize;
use sqlx::PgPool;
use warp::{Filter, Rejection, Reply};

use crate::error::OrderError;
use crate::storage;

pub fn route(pool: PgPool) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("orders" / "batch_init" / String / String / String / String)
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
async fn batch_init(
    n: String,
    n_items: String,
    n_users: String,
    item_price: String,
    pool: PgPool,
) -> Result<Initialised, OrderError> {
    let n = BatchSize::parse("n", &n, 0)?;
    let n_items = BatchSize::parse("n_items", &n_items, 1)?;
    let n_users = BatchSize::parse("n_users", &n_users, 1)?;
    let price = Amount::parse("item_price", &item_price)?;
    // Each order holds two items at this price.
    let total_cost = price.checked_mul(2).ok_or_else(|| InputError::OutOfRange {
        field: "item_price",
        value: item_price.clone(),
        min: 0,
        max: i64::MAX / 2,
    })?;
    storage::batch_init(&pool, n, n_items, n_users, total_cost).await?;
    Ok(Initialised {
        msg: format!(
            "orders 0..{} set to two items of 0..{} for users of 0..{}, total cost {total_cost}",
            n.get(),
            n_items.get(),
            n_users.get()
        ),
    })
}
