use idempotency::http::{execute, request};
use platform::database::DbError;
use platform::domain::Quantity;
use platform::http::{respond, with_state};
use serde::Serialize;
use sqlx::PgConnection;
use warp::{Filter, Rejection, Reply};

use super::State;
use crate::domain::{ItemId, Order, OrderId, UserId};
use crate::error::OrderError;
use crate::peers::Peers;
use crate::storage;

pub fn routes(state: State) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let create = warp::path!("orders" / "create" / String)
        .and(warp::post())
        .and(request())
        .and(with_state(state.clone()))
        .then(|user, request, state: State| async move {
            let peers = state.peers.clone();
            execute(&state.pool, request, move |conn| {
                Box::pin(create(conn, peers, user))
            })
            .await
        });
    let find = warp::path!("orders" / "find" / String)
        .and(warp::get())
        .and(with_state(state.clone()))
        .then(find)
        .map(respond);
    let add_item = warp::path!("orders" / "addItem" / String / String / String)
        .and(warp::post())
        .and(request())
        .and(with_state(state))
        .then(|order, item, quantity, request, state: State| async move {
            let peers = state.peers.clone();
            execute(&state.pool, request, move |conn| {
                Box::pin(add_item(conn, peers, order, item, quantity))
            })
            .await
        });
    create.or(find).unify().or(add_item).unify()
}

#[derive(Debug, Serialize)]
struct Created {
    order_id: OrderId,
}

#[derive(Debug, Serialize)]
struct LineAdded {
    order_id: OrderId,
    total_cost: i64,
}

#[tracing::instrument(skip(conn, peers))]
async fn create(conn: &mut PgConnection, peers: Peers, user_id: String) -> Result<Created, OrderError> {
    let user_id = UserId::parse(&user_id)?;
    if !peers.payment.user_exists(&user_id).await? {
        return Err(OrderError::UserNotFound(user_id));
    }
    let order_id = OrderId::from_trusted(uuid::Uuid::new_v4().to_string());
    storage::insert_order(conn, &order_id, &user_id).await?;
    Ok(Created { order_id })
}

#[tracing::instrument(skip(state))]
async fn find(order_id: String, state: State) -> Result<Order, OrderError> {
    let order_id = OrderId::parse(&order_id)?;
    storage::find_order(&state.pool, &order_id)
        .await?
        .ok_or(OrderError::OrderNotFound(order_id))
}

/// Adds `quantity` of an item at the price the stock service holds now. The
/// order is checked before the stock service is asked, so a request for an
/// unknown or paid order costs no call to a peer.
#[tracing::instrument(skip(conn, peers))]
async fn add_item(
    conn: &mut PgConnection,
    peers: Peers,
    order_id: String,
    item_id: String,
    quantity: String,
) -> Result<LineAdded, OrderError> {
    let order_id = OrderId::parse(&order_id)?;
    let item_id = ItemId::parse(&item_id)?;
    let quantity = Quantity::parse(&quantity)?;
    ensure_open(conn, &order_id).await?;
    let price = peers.stock.price(&item_id).await?;
    let price = price.ok_or_else(|| OrderError::ItemNotFound(item_id.clone()))?;
    let cost = price
        .checked_mul(quantity.get())
        .ok_or_else(|| OrderError::CostOverflow(order_id.clone()))?;
    match storage::append_line(&mut *conn, &order_id, &item_id, quantity, cost).await {
        Ok(Some(total_cost)) => Ok(LineAdded { order_id, total_cost }),
        // Paid or checked out since `ensure_open` looked.
        Ok(None) => Err(ensure_open(conn, &order_id)
            .await
            .err()
            .unwrap_or(OrderError::CheckoutInProgress(order_id))),
        Err(DbError::OutOfRange) => Err(OrderError::CostOverflow(order_id)),
        Err(other) => Err(other.into()),
    }
}

/// `Ok` when the order exists and may still change.
async fn ensure_open(conn: &mut PgConnection, order_id: &OrderId) -> Result<(), OrderError> {
    match storage::find_order(conn, order_id).await? {
        None => Err(OrderError::OrderNotFound(order_id.clone())),
        Some(order) if order.paid => Err(OrderError::AlreadyPaid(order_id.clone())),
        Some(order) if order.status == "checking_out" => {
            Err(OrderError::CheckoutInProgress(order_id.clone()))
        }
        Some(_) => Ok(()),
    }
}
