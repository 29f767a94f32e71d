use idempotency::http::{execute, request};
use platform::domain::{Amount, BatchSize};
use platform::http::with_state;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use warp::{Filter, Rejection, Reply};

use crate::error::StockError;
use crate::storage;

pub fn route(pool: PgPool) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("stock" / "batch_init" / String / String / String)
        .and(warp::post())
        .and(request())
        .and(with_state(pool))
        .then(|n, stock, price, request, pool: PgPool| async move {
            execute(&pool, request, move |conn| {
                Box::pin(batch_init(conn, n, stock, price))
            })
            .await
        })
}

#[derive(Debug, Serialize)]
struct Initialised {
    msg: String,
}

#[tracing::instrument(skip(conn))]
async fn batch_init(
    conn: &mut PgConnection,
    n: String,
    starting_stock: String,
    item_price: String,
) -> Result<Initialised, StockError> {
    let n = BatchSize::parse("n", &n, 0)?;
    let stock = Amount::parse("starting_stock", &starting_stock)?;
    let price = Amount::parse("item_price", &item_price)?;
    storage::batch_init(conn, n, stock, price).await?;
    Ok(Initialised {
        msg: format!("items 0..{} set to stock {stock} and price {price}", n.get()),
    })
}
