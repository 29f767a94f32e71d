use idempotency::http::request;
use platform::domain::Quantity;
use platform::http::{respond, with_state};
use serde::Serialize;
use warp::{Filter, Rejection, Reply};

use super::State;
use crate::domain::{ItemId, Order, OrderId, OrderStatus, UserId};
use crate::error::OrderError;
use crate::peers::Peers;
use crate::storage::{OrderWrites, effect, json_result};

pub fn routes(state: State) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let create = warp::path!("orders" / "create" / String)
        .and(warp::post())
        .and(request())
        .and(with_state(state.clone()))
        .then(|user: String, request, state: State| async move {
            let peers = state.peers.clone();
            let create = effect(move |writes| {
                let (peers, user) = (peers.clone(), user.clone());
                Box::pin(async move { json_result(create(writes, peers, user).await) })
            });
            state.store.execute(request, create).await.into_response()
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
        .then(
            |order: String, item: String, quantity: String, request, state: State| async move {
                let peers = state.peers.clone();
                let add = effect(move |writes| {
                    let (peers, line) = (peers.clone(), (order.clone(), item.clone(), quantity.clone()));
                    Box::pin(async move { json_result(add_item(writes, peers, line).await) })
                });
                state.store.execute(request, add).await.into_response()
            },
        );
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

#[tracing::instrument(skip(writes, peers))]
async fn create(writes: &mut dyn OrderWrites, peers: Peers, user_id: String) -> Result<Created, OrderError> {
    let user_id = UserId::parse(&user_id)?;
    if !peers.payment.user_exists(&user_id).await? {
        return Err(OrderError::UserNotFound(user_id));
    }
    let order_id = OrderId::from_trusted(uuid::Uuid::new_v4().to_string());
    writes.insert_order(&order_id, &user_id).await?;
    Ok(Created { order_id })
}

#[tracing::instrument(skip(state))]
async fn find(order_id: String, state: State) -> Result<Order, OrderError> {
    let order_id = OrderId::parse(&order_id)?;
    state
        .store
        .find_order(&order_id)
        .await?
        .ok_or(OrderError::OrderNotFound(order_id))
}

/// Adds `quantity` of an item at the price the stock service holds now. The
/// order is checked before the stock service is asked, so a request for an
/// unknown or paid order costs no call to a peer.
#[tracing::instrument(skip(writes, peers))]
async fn add_item(
    writes: &mut dyn OrderWrites,
    peers: Peers,
    (order_id, item_id, quantity): (String, String, String),
) -> Result<LineAdded, OrderError> {
    let order_id = OrderId::parse(&order_id)?;
    let item_id = ItemId::parse(&item_id)?;
    let quantity = Quantity::parse(&quantity)?;
    ensure_open(writes, &order_id).await?;
    let price = peers.stock.price(&item_id).await?;
    let price = price.ok_or_else(|| OrderError::ItemNotFound(item_id.clone()))?;
    let cost = price
        .checked_mul(quantity.get())
        .ok_or_else(|| OrderError::CostOverflow(order_id.clone()))?;
    match writes.append_line(&order_id, &item_id, quantity, cost).await? {
        Some(total_cost) => Ok(LineAdded { order_id, total_cost }),
        // Paid or checked out since `ensure_open` looked.
        None => Err(ensure_open(writes, &order_id)
            .await
            .err()
            .unwrap_or(OrderError::CheckoutInProgress(order_id))),
    }
}

/// `Ok` when the order exists and may still change.
async fn ensure_open(writes: &mut dyn OrderWrites, order_id: &OrderId) -> Result<(), OrderError> {
    match writes.find_order(order_id).await? {
        None => Err(OrderError::OrderNotFound(order_id.clone())),
        Some(order) if order.paid => Err(OrderError::AlreadyPaid(order_id.clone())),
        Some(order) if order.status == OrderStatus::CheckingOut => {
            Err(OrderError::CheckoutInProgress(order_id.clone()))
        }
        Some(_) => Ok(()),
    }
}
