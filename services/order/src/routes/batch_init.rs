use std::sync::Arc;

use idempotency::http::request;
use platform::domain::{Amount, BatchSize, InputError};
use platform::http::with_state;
use serde::Serialize;
use warp::{Filter, Rejection, Reply};

use crate::error::OrderError;
use crate::storage::{OrderStore, OrderWrites, effect, json_result};

pub fn route(store: Arc<dyn OrderStore>) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    warp::path!("orders" / "batch_init" / String / String / String / String)
        .and(warp::post())
        .and(request())
        .and(with_state(store))
        .then(
            |n: String,
             n_items: String,
             n_users: String,
             price: String,
             request,
             store: Arc<dyn OrderStore>| async move {
                let init = effect(move |writes| {
                    let sizes = (n.clone(), n_items.clone(), n_users.clone(), price.clone());
                    Box::pin(async move { json_result(batch_init(writes, sizes).await) })
                });
                store.execute(request, init).await.into_response()
            },
        )
}

#[derive(Debug, Serialize)]
struct Initialised {
    msg: String,
}

#[tracing::instrument(skip(writes))]
async fn batch_init(
    writes: &mut dyn OrderWrites,
    (n, n_items, n_users, item_price): (String, String, String, String),
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
    let left = writes.batch_init(n, n_items, n_users, total_cost).await?;
    let mut msg = format!(
        "orders 0..{} set to two items of 0..{} for users of 0..{}, total cost {total_cost}",
        n.get(),
        n_items.get(),
        n_users.get()
    );
    if left > 0 {
        msg.push_str(&format!(
            "; {left} orders being checked out were left as they are"
        ));
    }
    Ok(Initialised { msg })
}
