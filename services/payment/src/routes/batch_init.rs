use idempotency::http::{execute, request};
use platform::domain::{Amount, BatchSize};
use platform::http::with_state;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use warp::{Filter, Rejection, Reply};

use crate::error::PaymentError;
use crate::storage;

pub fn route(pool: PgPool) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("payment" / "batch_init" / String / String)
        .and(warp::post())
        .and(request())
        .and(with_state(pool))
        .then(|n, money, request, pool: PgPool| async move {
            execute(&pool, request, move |conn| Box::pin(batch_init(conn, n, money))).await
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
    starting_money: String,
) -> Result<Initialised, PaymentError> {
    let n = BatchSize::parse("n", &n, 0)?;
    let credit = Amount::parse("starting_money", &starting_money)?;
    storage::batch_init(conn, n, credit).await?;
    Ok(Initialised {
        msg: format!("users 0..{} set to credit {credit}", n.get()),
    })
}
