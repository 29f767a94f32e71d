//! The payment service's saga step asked twice for one saga: as after a
//! re-driven saga or a replayed message, each under a new message id.
use idempotency::{Handler, IncomingMessage};
use outbox::OutboxMessage;
use payment::consumers::CheckoutHandler;
use test_support::{TestApp, user_with};

use crate::helpers::{credit_of, reserved, spawn_app};

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
async fn a_charge_asked_twice_for_one_saga_charges_once_and_answers_the_same() {
    let app = spawn_app().await;
    let user = user_with(&app, 100).await;
    let event = reserved(&user, 30);

    let first = ask(&app, events::message(&event)).await;
    let again = ask(&app, events::message(&event)).await;

    assert_eq!(first.event_type, "PaymentSucceeded");
    assert_eq!(again.event_type, "PaymentSucceeded");
    assert_eq!(credit_of(&app, &user).await, 70, "charged once");
}

#[tokio::test]
async fn a_refused_charge_asked_again_is_refused_again_though_credit_arrived() {
    let app = spawn_app().await;
    let user = user_with(&app, 10).await;
    let event = reserved(&user, 30);
    let first = ask(&app, events::message(&event)).await;
    app.post(&format!("/payment/add_funds/{user}/100")).await;

    let again = ask(&app, events::message(&event)).await;

    assert_eq!(first.event_type, "PaymentFailed");
    assert_eq!(again.event_type, "PaymentFailed");
    assert_eq!(again.payload["reason"], first.payload["reason"]);
    assert_eq!(credit_of(&app, &user).await, 110, "nothing charged");
}

#[tokio::test]
async fn a_user_id_that_is_no_id_is_refused_like_an_unknown_user() {
    let app = spawn_app().await;
    let event = reserved("no/such user", 30);

    let answer = ask(&app, events::message(&event)).await;

    assert_eq!(answer.event_type, "PaymentFailed");
    let reason = answer.payload["reason"].as_str().expect("a reason");
    assert!(reason.contains("no/such user"), "{reason}");
}
