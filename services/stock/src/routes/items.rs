use idempotency::http::{execute, request};
use platform::domain::Amount;
use platform::http::{respond, with_state};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use warp::{Filter, Rejection, Reply};

use crate::domain::{ItemId, StockChanged, StockLevel};
use crate::error::StockError;
use crate::storage;

pub fn routes(pool: PgPool) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let create = warp::path!("stock" / "item" / "create" / String)
        .and(warp::post())
        .and(request())
        .and(with_state(pool.clone()))
        .then(|price, request, pool: PgPool| async move {
            execute(&pool, request, move |conn| Box::pin(create(conn, price))).await
        });
    let find = warp::path!("stock" / "find" / String)
        .and(warp::get())
        .and(with_state(pool.clone()))
        .then(find)
        .map(respond);
    let add = warp::path!("stock" / "add" / String / String)
        .and(warp::post())
        .and(request())
        .and(with_state(pool.clone()))
        .then(|item, amount, request, pool: PgPool| async move {
            execute(&pool, request, move |conn| {
                Box::pin(change_stock(conn, item, amount, Change::Add))
            })
            .await
        });
    let subtract = warp::path!("stock" / "subtract" / String / String)
        .and(warp::post())
        .and(request())
        .and(with_state(pool))
        .then(|item, amount, request, pool: PgPool| async move {
            execute(&pool, request, move |conn| {
                Box::pin(change_stock(conn, item, amount, Change::Subtract))
            })
            .await
        });
    create.or(find).unify().or(add).unify().or(subtract).unify()
}

#[derive(Debug, Serialize)]
struct Created {
    item_id: ItemId,
}

#[tracing::instrument(skip(conn))]
async fn create(conn: &mut PgConnection, price: String) -> Result<Created, StockError> {
    let price = Amount::parse("price", &price)?;
    let item_id = ItemId::from_trusted(uuid::Uuid::new_v4().to_string());
    storage::insert_item(conn, &item_id, price).await?;
    Ok(Created { item_id })
}

#[tracing::instrument(skip(pool))]
async fn find(item_id: String, pool: PgPool) -> Result<StockLevel, StockError> {
    let item_id = ItemId::parse(&item_id)?;
    storage::find_item(&pool, &item_id)
        .await?
        .ok_or(StockError::ItemNotFound(item_id))
}

/// Which way a request moves the stock.
#[derive(Debug, Clone, Copy)]
enum Change {
    Add,
    Subtract,
}

/// `add` and `subtract`: parse, change the stock, read the database's
/// verdict (not found, not enough stock, overflow).
#[tracing::instrument(skip(conn))]
async fn change_stock(
    conn: &mut PgConnection,
    item_id: String,
    amount: String,
    change: Change,
) -> Result<StockChanged, StockError> {
    let item_id = ItemId::parse(&item_id)?;
    let amount = Amount::parse("amount", &amount)?;
    let stock = match change {
        Change::Add => storage::add_stock(conn, &item_id, amount).await,
        Change::Subtract => storage::subtract_stock(conn, &item_id, amount).await,
    };
    let stock = stock.map_err(|e| StockError::from_stock_change(e, &item_id, amount))?;
    let stock = stock.ok_or_else(|| StockError::ItemNotFound(item_id.clone()))?;
    Ok(StockChanged::new(item_id, stock))
}
