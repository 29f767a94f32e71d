//! Starting, joining and ending sagas through the store.
use std::sync::Arc;

use chrono::Utc;
use futures::future::join_all;
use idempotency::Outcome;
use order::domain::Started;
use order::domain::{Ended, OrderId, OrderState, OrderStatus, SagaEnd, SagaStep, TimelineEntry};
use order::error::OrderError;
use order::storage::{Opened, OrderStore};
use uuid::Uuid;

use crate::requests::{add, create_order};

/// An order of two lines, ready for checkout.
pub async fn ready(store: &Arc<dyn OrderStore>, id: &str) -> OrderId {
    create_order(store, id).await;
    add(store, id, "a", 2, 4).await;
    add(store, id, "a", 1, 2).await;
    OrderId::from_trusted(id.into())
}

/// The saga id the order's latest checkout started.
async fn running_saga(store: &Arc<dyn OrderStore>, id: &OrderId) -> Uuid {
    let timeline = store.timeline(id).await.expect("readable");
    timeline.last().expect("a checkout was requested").saga_id
}

/// An order in `status` with no failure reason.
fn state(status: OrderStatus) -> OrderState {
    OrderState {
        status,
        failure_reason: None,
    }
}

fn step(order: &OrderId, saga_id: Uuid, event: &str, outcome: Option<SagaEnd>) -> SagaStep {
    SagaStep {
        order_id: order.to_string(),
        entry: TimelineEntry {
            saga_id,
            service: "payment".into(),
            event: event.into(),
            detail: None,
            at: Utc::now(),
        },
        outcome,
    }
}

pub async fn concurrent_checkouts_start_one_saga(Opened { store, .. }: Opened) {
    let id = ready(&store, "o-1").await;

    let answers = join_all((0..5).map(|_| store.start_or_join(&id))).await;

    let started = answers
        .iter()
        .filter(|answer| matches!(answer, Ok(Started::Running(Some(_)))))
        .count();
    let joined = answers
        .iter()
        .filter(|answer| matches!(answer, Ok(Started::Running(None))))
        .count();
    assert_eq!((started, joined), (1, 4), "{answers:?}");
    let timeline = store.timeline(&id).await.expect("readable");
    let events: Vec<&str> = timeline.iter().map(|entry| entry.event.as_str()).collect();
    assert_eq!(events, ["CheckoutRequested"]);
    let status = store
        .order_state(&id)
        .await
        .expect("readable")
        .expect("the order exists");
    assert_eq!(status, state(OrderStatus::CheckingOut));
    let ghost = store.start_or_join(&OrderId::from_trusted("ghost".into())).await;
    assert!(matches!(ghost, Err(OrderError::OrderNotFound(_))));
}

pub async fn a_final_step_ends_the_saga_once(Opened { store, .. }: Opened) {
    let id = ready(&store, "o-1").await;
    let started = store.start_or_join(&id).await.expect("started");
    let saga = running_saga(&store, &id).await;
    assert_eq!(started, Started::Running(Some(saga)));
    let (message, paid) = (
        Uuid::new_v4(),
        step(&id, saga, "PaymentSucceeded", Some(SagaEnd::Paid)),
    );

    let first = store
        .apply_step("order.checkout", message, &paid)
        .await
        .expect("applied");
    let again = store
        .apply_step("order.checkout", message, &paid)
        .await
        .expect("seen");

    assert_eq!((first, again), (Outcome::Applied, Outcome::Duplicate));
    let status = store
        .order_state(&id)
        .await
        .expect("readable")
        .expect("the order exists");
    assert_eq!(status, state(OrderStatus::Paid));
    let order = store
        .find_order(&id)
        .await
        .expect("readable")
        .expect("the order exists");
    assert!(order.paid);
    assert_eq!(store.timeline(&id).await.expect("readable").len(), 2);
    let later = store.start_or_join(&id).await.expect("answered");
    assert_eq!(later, Started::AlreadyPaid);
}

pub async fn a_step_of_an_earlier_saga_leaves_the_running_one_alone(Opened { store, .. }: Opened) {
    let id = ready(&store, "o-1").await;
    store.start_or_join(&id).await.expect("started");
    let first = running_saga(&store, &id).await;
    let failed = step(
        &id,
        first,
        "StockRejected",
        Some(SagaEnd::Failed("no stock".into())),
    );
    store
        .apply_step("order.checkout", Uuid::new_v4(), &failed)
        .await
        .expect("applied");
    store.start_or_join(&id).await.expect("started again");
    let second = running_saga(&store, &id).await;

    let late = step(&id, first, "PaymentSucceeded", Some(SagaEnd::Paid));
    store
        .apply_step("order.checkout", Uuid::new_v4(), &late)
        .await
        .expect("applied");

    assert_ne!(first, second);
    let status = store
        .order_state(&id)
        .await
        .expect("readable")
        .expect("the order exists");
    assert_eq!(status, state(OrderStatus::CheckingOut));
    let timeline = store.timeline(&id).await.expect("readable");
    let events: Vec<&str> = timeline.iter().map(|entry| entry.event.as_str()).collect();
    assert_eq!(
        events,
        [
            "CheckoutRequested",
            "StockRejected",
            "CheckoutRequested",
            "PaymentSucceeded"
        ]
    );
}

/// The PostgreSQL store tells its consumer which sagas a batch ended, and
/// how, so that the checkouts waiting for them are answered with no read;
/// a step of a saga that does not run ends nothing.
pub async fn applied_steps_report_the_sagas_they_ended(Opened { store, .. }: Opened) {
    let (id, other) = (ready(&store, "o-1").await, ready(&store, "o-2").await);
    store.start_or_join(&id).await.expect("started");
    store.start_or_join(&other).await.expect("started");
    let (saga, other_saga) = (
        running_saga(&store, &id).await,
        running_saga(&store, &other).await,
    );
    let steps = vec![
        (
            Uuid::new_v4(),
            step(
                &id,
                saga,
                "StockRejected",
                Some(SagaEnd::Failed("no stock".into())),
            ),
        ),
        (Uuid::new_v4(), step(&other, other_saga, "StockReserved", None)),
        (
            Uuid::new_v4(),
            step(&other, Uuid::now_v7(), "PaymentSucceeded", Some(SagaEnd::Paid)),
        ),
    ];

    let applied = store
        .apply_steps("order.checkout", &steps)
        .await
        .expect("applied");

    assert_eq!(applied.outcomes, vec![Outcome::Applied; 3]);
    assert_eq!(
        applied.ended,
        vec![Ended {
            order_id: id.to_string(),
            saga_id: saga,
            end: SagaEnd::Failed("no stock".into()),
        }]
    );
}

pub async fn batch_init_leaves_an_order_being_checked_out_as_it_is(Opened { store, .. }: Opened) {
    // batch_init writes orders "0", "1" and "2": "0" is in a checkout.
    let id = ready(&store, "0").await;
    store.start_or_join(&id).await.expect("started");
    let saga = running_saga(&store, &id).await;
    let before = store.find_order(&id).await.expect("readable").expect("exists");
    let sizes = |n: &str| platform::domain::BatchSize::parse("n", n, 0).expect("a size");
    let cost = platform::domain::Amount::try_from(10).expect("an amount");

    let answer = store
        .execute(
            idempotency::http::IdempotentRequest {
                key: None,
                fingerprint: "POST /orders/batch_init".into(),
            },
            order::storage::effect(move |writes| {
                Box::pin(async move {
                    let left = writes
                        .batch_init(sizes("3"), sizes("5"), sizes("5"), cost)
                        .await?;
                    assert_eq!(left, 1, "one order was left as it was");
                    Ok(serde_json::json!({}))
                })
            }),
        )
        .await;

    assert_eq!(answer.status(), warp::http::StatusCode::OK);
    let after = store.find_order(&id).await.expect("readable").expect("exists");
    assert_eq!(
        (&after.status, &after.items, after.total_cost, &after.user_id),
        (&before.status, &before.items, before.total_cost, &before.user_id),
        "the order in a checkout is as the saga left it"
    );
    for other in ["1", "2"] {
        let order = store
            .find_order(&OrderId::from_trusted(other.into()))
            .await
            .expect("readable")
            .expect("batch_init wrote the orders not in a checkout");
        assert_eq!(order.total_cost, 10);
    }
    let paid = step(&id, saga, "PaymentSucceeded", Some(SagaEnd::Paid));
    store
        .apply_step("order.checkout", Uuid::new_v4(), &paid)
        .await
        .expect("applied");
    let status = store.order_state(&id).await.expect("readable").expect("exists");
    assert_eq!(status, state(OrderStatus::Paid), "the saga ends on its order");
}

pub async fn a_stalled_saga_is_driven_again_under_its_own_id(Opened { store, .. }: Opened) {
    let id = ready(&store, "o-1").await;
    store.start_or_join(&id).await.expect("started");
    let saga = running_saga(&store, &id).await;
    let hour = std::time::Duration::from_secs(3600);

    let not_yet = store.redrive_stalled(hour, 10).await.expect("looked");
    let driven = store
        .redrive_stalled(std::time::Duration::ZERO, 10)
        .await
        .expect("driven");
    let just_driven = store.redrive_stalled(hour, 10).await.expect("looked");

    assert!(not_yet.is_empty(), "{not_yet:?}");
    assert_eq!(driven, vec![saga]);
    assert!(just_driven.is_empty(), "not due again so soon");
    let timeline = store.timeline(&id).await.expect("readable");
    let requests: Vec<(Uuid, Option<&str>)> = timeline
        .iter()
        .filter(|entry| entry.event == "CheckoutRequested")
        .map(|entry| (entry.saga_id, entry.detail.as_deref()))
        .collect();
    assert_eq!(requests.len(), 2, "{timeline:?}");
    assert!(requests.iter().all(|(saga_id, _)| *saga_id == saga));
    assert!(
        requests[1]
            .1
            .is_some_and(|detail| detail.starts_with("driven again"))
    );
    let status = store.order_state(&id).await.expect("readable").expect("exists");
    assert_eq!(status, state(OrderStatus::CheckingOut));

    let paid = step(&id, saga, "PaymentSucceeded", Some(SagaEnd::Paid));
    store
        .apply_step("order.checkout", Uuid::new_v4(), &paid)
        .await
        .expect("applied");
    let after_end = store
        .redrive_stalled(std::time::Duration::ZERO, 10)
        .await
        .expect("looked");
    assert!(after_end.is_empty(), "an ended saga is never driven again");
}
