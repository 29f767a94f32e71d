//! The reservation's one-statement form for a batch of checkouts: it writes
//! every reservation, inbox record and `StockReserved` together, or nothing,
//! and leaves every other batch to the transaction, which decides the
//! checkouts one by one in delivery order.
use events::CheckoutRequested;
use idempotency::{IncomingMessage, Outcome};
use stock::consumers::CheckoutHandler;
use test_support::{applied_as_a_batch, events_written, handled_alone, handled_together, item_with};

use crate::helpers::{checkout, rows, spawn_app, stock_of};

const CONSUMER: &str = "stock.checkout";

fn delivered(requested: &CheckoutRequested) -> IncomingMessage {
    IncomingMessage::first_delivery_of(&events::message(requested))
}

#[tokio::test]
async fn a_batch_of_checkouts_is_reserved_recorded_and_answered_in_one_statement_once() {
    let app = spawn_app().await;
    let (a, b) = (item_with(&app, 5, 10).await, item_with(&app, 5, 10).await);
    let messages = [checkout(&a, 2), checkout(&a, 3), checkout(&b, 1)].map(|c| delivered(&c));

    let first = handled_together(&CheckoutHandler, &app, CONSUMER, &messages)
        .await
        .expect("applied");
    let again = handled_together(&CheckoutHandler, &app, CONSUMER, &messages).await;

    assert_eq!(first.len(), 3);
    assert!(
        first
            .iter()
            .all(|stored| stored.message.event_type == "StockReserved")
    );
    assert!(again.is_none(), "messages seen before write nothing");
    assert_eq!(
        (stock_of(&app, &a).await, stock_of(&app, &b).await),
        (5, 9),
        "taken once"
    );
    assert_eq!(rows(&app).await, (3, 3, 3, 0));
}

#[tokio::test]
async fn a_batch_the_stock_covers_only_in_part_is_decided_one_by_one_in_delivery_order() {
    let app = spawn_app().await;
    let item = item_with(&app, 5, 5).await;
    let messages = [checkout(&item, 3), checkout(&item, 3)].map(|c| delivered(&c));

    let written = handled_together(&CheckoutHandler, &app, CONSUMER, &messages).await;
    let nothing = rows(&app).await;
    let outcomes = applied_as_a_batch(CheckoutHandler, &app, CONSUMER, &messages).await;

    assert!(written.is_none(), "each is covered alone, both together are not");
    assert_eq!(nothing, (0, 0, 0, 0));
    assert_eq!(outcomes, [Outcome::Applied, Outcome::Applied]);
    assert_eq!(
        stock_of(&app, &item).await,
        2,
        "the first taken, the second refused"
    );
    assert_eq!(events_written(&app).await, ["StockReserved", "StockRejected"]);
    assert_eq!(rows(&app).await, (2, 2, 1, 1));
}

#[tokio::test]
async fn a_batch_holding_a_message_seen_before_applies_only_the_others_once() {
    let app = spawn_app().await;
    let item = item_with(&app, 5, 10).await;
    let messages = [checkout(&item, 2), checkout(&item, 3)].map(|c| delivered(&c));
    assert!(
        handled_alone(&CheckoutHandler, &app, CONSUMER, &messages[0])
            .await
            .is_some()
    );

    let written = handled_together(&CheckoutHandler, &app, CONSUMER, &messages).await;
    let outcomes = applied_as_a_batch(CheckoutHandler, &app, CONSUMER, &messages).await;

    assert!(written.is_none());
    assert_eq!(outcomes, [Outcome::Duplicate, Outcome::Applied]);
    assert_eq!(stock_of(&app, &item).await, 5, "each taken once");
    assert_eq!(rows(&app).await, (2, 2, 2, 0));
}

#[tokio::test]
async fn a_saga_twice_in_one_batch_is_answered_once_by_the_transaction() {
    let app = spawn_app().await;
    let item = item_with(&app, 5, 10).await;
    let requested = checkout(&item, 3);
    let messages = [delivered(&requested), delivered(&requested)];

    let written = handled_together(&CheckoutHandler, &app, CONSUMER, &messages).await;
    let outcomes = applied_as_a_batch(CheckoutHandler, &app, CONSUMER, &messages).await;

    assert!(written.is_none());
    assert_eq!(outcomes, [Outcome::Applied, Outcome::Applied]);
    assert_eq!(stock_of(&app, &item).await, 7, "taken once");
    assert_eq!(events_written(&app).await, ["StockReserved", "StockReserved"]);
}
