use platform::domain::{Amount, BatchSize};
use platform::http::{respond, with_state};
use serde::Serialize;
use sqlx::PgPool;
use warp::{Filter, Rejection, Reply};

use crate::error::StockError;
use crate::storage;

pub fn route(pool: PgPool) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("stock" / "batch_init" / String / String / String)
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
    starting_stock: String,
    item_price: String,
    pool: PgPool,
) -> Result<Initialised, StockError> {
    let n = BatchSize::parse("n", &n, 0)?;
    let stock = Amount::parse("starting_stock", &starting_stock)?;
    let price = Amount::parse("item_price", &item_price)?;
    storage::batch_init(&pool, n, stock, price).await?;
    Ok(Initialised {
        msg: format!("items 0..{} set to stock {stock} and price {price}", n.get()),
    })
}
