//! The reservation's one-statement form, for a checkout that arrives alone:
//! it writes the reservation, the inbox record and `StockReserved`
//! together, or nothing, and leaves every other case to the transactional
//! path.
use futures::future::join_all;
use idempotency::{Handler, IncomingMessage};
use outbox::Stored;
use stock::consumers::CheckoutHandler;
use test_support::{TestApp, handled_alone, item_with};

use crate::helpers::{checkout, rows, spawn_app, stock_of};

const CONSUMER: &str = "stock.checkout";

async fn alone(app: &TestApp, message: &IncomingMessage) -> Option<Vec<Stored>> {
    handled_alone(&CheckoutHandler, app, CONSUMER, message).await
}

#[tokio::test]
async fn a_lone_checkout_is_reserved_recorded_and_answered_in_one_statement_once() {
    let app = spawn_app().await;
    let item = item_with(&app, 5, 10).await;
    let message = IncomingMessage::first_delivery_of(&events::message(&checkout(&item, 3)));

    let first = alone(&app, &message).await.expect("applied");
    let again = alone(&app, &message).await;

    assert_eq!(first.len(), 1);
    assert_eq!(first[0].message.event_type, "StockReserved");
    assert!(again.is_none(), "a message seen before writes nothing");
    assert_eq!(stock_of(&app, &item).await, 7, "taken once");
    assert_eq!(rows(&app).await, (1, 1, 1, 0));
}

#[tokio::test]
async fn a_lone_checkout_the_stock_does_not_cover_writes_nothing_and_the_transaction_refuses_it() {
    let app = spawn_app().await;
    let item = item_with(&app, 5, 1).await;
    let message = IncomingMessage::first_delivery_of(&events::message(&checkout(&item, 3)));

    let written = alone(&app, &message).await;
    let nothing = rows(&app).await;
    let mut tx = app.pool.begin().await.expect("tx");
    let emitted = CheckoutHandler.handle(&mut tx, &message).await.expect("handled");
    tx.commit().await.expect("committed");

    assert!(written.is_none());
    assert_eq!(nothing, (0, 0, 0, 0));
    assert_eq!(emitted[0].event_type, "StockRejected");
    assert_eq!(stock_of(&app, &item).await, 1, "nothing taken");
}

#[tokio::test]
async fn a_saga_answered_before_is_not_taken_again_under_a_new_message() {
    let app = spawn_app().await;
    let item = item_with(&app, 5, 10).await;
    let requested = checkout(&item, 3);
    let first = IncomingMessage::first_delivery_of(&events::message(&requested));
    let again = IncomingMessage::first_delivery_of(&events::message(&requested));

    assert!(alone(&app, &first).await.is_some());
    assert!(alone(&app, &again).await.is_none());
    assert_eq!(stock_of(&app, &item).await, 7, "taken once");
}

#[tokio::test]
async fn twenty_lone_checkouts_of_one_item_at_once_take_exactly_the_stock() {
    let app = spawn_app().await;
    let item = item_with(&app, 5, 10).await;
    let messages: Vec<_> = (0..20)
        .map(|_| IncomingMessage::first_delivery_of(&events::message(&checkout(&item, 1))))
        .collect();

    let written = join_all(messages.iter().map(|message| alone(&app, message))).await;

    let reserved = written.iter().filter(|w| w.is_some()).count();
    assert_eq!(reserved, 10);
    assert_eq!(stock_of(&app, &item).await, 0);
    assert_eq!(rows(&app).await, (10, 10, 10, 0));
}
