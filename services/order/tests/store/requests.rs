//! Requests through `OrderStore::execute`: writes and `Idempotency-Key`.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use idempotency::http::{IdempotentRequest, KeyedAnswer};
use order::domain::{ItemId, OrderId, OrderStatus, UserId};
use order::error::OrderError;
use order::storage::{Effect, Opened, OrderStore, effect};
use platform::domain::{Amount, Quantity};
use serde_json::json;
use warp::http::StatusCode;

fn unkeyed() -> IdempotentRequest {
    IdempotentRequest {
        key: None,
        fingerprint: "POST /test".into(),
    }
}

fn keyed(key: &str, fingerprint: &str) -> IdempotentRequest {
    IdempotentRequest {
        key: Some(key.into()),
        fingerprint: fingerprint.into(),
    }
}

fn create(order: &str, user: &str) -> Effect {
    let (order, user) = (
        OrderId::from_trusted(order.into()),
        UserId::from_trusted(user.into()),
    );
    effect(move |writes| {
        let (order, user) = (order.clone(), user.clone());
        Box::pin(async move {
            writes.insert_order(&order, &user).await?;
            Ok(json!({ "order_id": order }))
        })
    })
}

fn add_line(order: &str, item: &str, quantity: i64, cost: i64) -> Effect {
    let (order, item) = (
        OrderId::from_trusted(order.into()),
        ItemId::from_trusted(item.into()),
    );
    let quantity = Quantity::parse(&quantity.to_string()).expect("a quantity");
    let cost = Amount::try_from(cost).expect("an amount");
    effect(move |writes| {
        let (order, item) = (order.clone(), item.clone());
        Box::pin(async move {
            match writes.append_line(&order, &item, quantity, cost).await? {
                Some(total) => Ok(json!({ "total_cost": total })),
                None => Err(OrderError::OrderNotFound(order)),
            }
        })
    })
}

/// Creates order `id` for user `u`.
pub async fn create_order(store: &Arc<dyn OrderStore>, id: &str) {
    let response = store.execute(unkeyed(), create(id, "u")).await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// Adds a line to order `id`, answering its status.
pub async fn add(store: &Arc<dyn OrderStore>, id: &str, item: &str, quantity: i64, cost: i64) -> StatusCode {
    store
        .execute(unkeyed(), add_line(id, item, quantity, cost))
        .await
        .status()
}

pub async fn a_created_order_is_found_empty_and_unpaid(Opened { store, .. }: Opened) {
    create_order(&store, "o-1").await;

    let order = store
        .find_order(&OrderId::from_trusted("o-1".into()))
        .await
        .expect("readable");

    let order = order.expect("the order exists");
    assert_eq!(
        (order.user_id.as_str(), order.paid, order.total_cost),
        ("u", false, 0)
    );
    assert!(order.items.is_empty());
    assert_eq!(order.status, OrderStatus::Open);
    let ghost = store.find_order(&OrderId::from_trusted("ghost".into())).await;
    assert!(ghost.expect("readable").is_none());
}

pub async fn lines_add_their_cost_and_an_overflow_changes_nothing(Opened { store, .. }: Opened) {
    create_order(&store, "o-1").await;

    assert_eq!(add(&store, "o-1", "a", 2, 6).await, StatusCode::OK);
    assert_eq!(add(&store, "o-1", "b", 1, 10).await, StatusCode::OK);
    let overflow = add(&store, "o-1", "c", 1, i64::MAX).await;
    let missing = add(&store, "ghost", "a", 1, 1).await;

    assert_eq!(overflow, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing, StatusCode::NOT_FOUND);
    let order = store
        .find_order(&OrderId::from_trusted("o-1".into()))
        .await
        .expect("readable");
    let order = order.expect("the order exists");
    assert_eq!(order.items, vec![("a".to_owned(), 2), ("b".to_owned(), 1)]);
    assert_eq!(order.total_cost, 16);
}

pub async fn a_keyed_request_runs_once_and_replays_its_answer(Opened { store, .. }: Opened) {
    create_order(&store, "o-1").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let counted = |runs: Arc<AtomicUsize>| {
        let add = add_line("o-1", "a", 1, 5);
        effect(move |writes| {
            runs.fetch_add(1, Ordering::SeqCst);
            add(writes)
        })
    };

    let first = store
        .execute(keyed("k-1", "POST /add"), counted(runs.clone()))
        .await;
    let repeat = store
        .execute(keyed("k-1", "POST /add"), counted(runs.clone()))
        .await;
    let other = store
        .execute(keyed("k-1", "POST /other"), counted(runs.clone()))
        .await;

    assert_eq!(
        (first.status(), repeat.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    assert!(matches!(first, KeyedAnswer::Ran { .. }), "ran: {first:?}");
    assert!(
        matches!(repeat, KeyedAnswer::Replayed { .. }),
        "replayed: {repeat:?}"
    );
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let order = store
        .find_order(&OrderId::from_trusted("o-1".into()))
        .await
        .expect("readable");
    assert_eq!(order.expect("the order exists").total_cost, 5);
}

pub async fn a_refusal_is_final_for_its_key(Opened { store, .. }: Opened) {
    let refused = store
        .execute(keyed("k-2", "POST /add"), add_line("ghost", "a", 1, 1))
        .await;
    create_order(&store, "ghost").await;

    let repeat = store
        .execute(keyed("k-2", "POST /add"), add_line("ghost", "a", 1, 1))
        .await;

    assert_eq!(
        (refused.status(), repeat.status()),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert!(
        matches!(repeat, KeyedAnswer::Replayed { .. }),
        "replayed: {repeat:?}"
    );
    let order = store
        .find_order(&OrderId::from_trusted("ghost".into()))
        .await
        .expect("readable");
    assert_eq!(order.expect("created since").total_cost, 0);
}
