//! The stock service's saga steps asked twice for one saga: as after a
//! re-driven saga or a replayed message, each under a new message id.
use chrono::Utc;
use events::PaymentFailed;
use idempotency::{Handler, IncomingMessage};
use outbox::OutboxMessage;
use stock::consumers::CheckoutHandler;
use test_support::{TestApp, item_with};

use crate::helpers::{checkout, spawn_app, stock_of};

/// Applies `message` (each a message of its own) as the consumer does, in
/// a transaction of its own, and returns the event it emits.
async fn ask(app: &TestApp, message: OutboxMessage) -> OutboxMessage {
    let incoming = IncomingMessage::first_delivery_of(&message);
    let mut tx = app.pool.begin().await.expect("tx");
    let mut emitted = CheckoutHandler.handle(&mut tx, &incoming).await.expect("handled");
    tx.commit().await.expect("committed");
    assert_eq!(emitted.len(), 1);
    emitted.remove(0)
}

#[tokio::test]
async fn a_checkout_asked_twice_for_one_saga_takes_once_and_answers_the_same() {
    let app = spawn_app().await;
    let item = item_with(&app, 5, 10).await;
    let requested = checkout(&item, 3);

    let first = ask(&app, events::message(&requested)).await;
    let again = ask(&app, events::message(&requested)).await;

    assert_eq!(first.event_type, "StockReserved");
    assert_eq!(again.event_type, "StockReserved");
    assert_eq!(stock_of(&app, &item).await, 7, "taken once");
}

#[tokio::test]
async fn a_refused_checkout_asked_again_is_refused_again_though_stock_arrived() {
    let app = spawn_app().await;
    let item = item_with(&app, 5, 1).await;
    let requested = checkout(&item, 3);
    let first = ask(&app, events::message(&requested)).await;
    app.post(&format!("/stock/add/{item}/10")).await;

    let again = ask(&app, events::message(&requested)).await;

    assert_eq!(first.event_type, "StockRejected");
    assert_eq!(again.event_type, "StockRejected");
    assert_eq!(again.payload["reason"], first.payload["reason"]);
    assert_eq!(stock_of(&app, &item).await, 11, "nothing taken");
}

#[tokio::test]
async fn a_release_asked_twice_gives_back_once() {
    let app = spawn_app().await;
    let item = item_with(&app, 5, 10).await;
    let requested = checkout(&item, 3);
    ask(&app, events::message(&requested)).await;
    let failed = PaymentFailed {
        order_id: requested.order_id.clone(),
        saga_id: requested.saga_id,
        reason: "user u-1 has less than 15 credit".into(),
        occurred_at: Utc::now(),
    };

    let first = ask(&app, events::message(&failed)).await;
    let again = ask(&app, events::message(&failed)).await;
    let asked_after = ask(&app, events::message(&requested)).await;

    assert_eq!(first.event_type, "StockReleased");
    assert_eq!(again.event_type, "StockReleased");
    assert_eq!(
        asked_after.event_type, "StockReserved",
        "the saga's answer stays the one it got"
    );
    assert_eq!(
        stock_of(&app, &item).await,
        10,
        "given back once, not taken again"
    );
}
