//! The charge's one-statement form for a batch of reservations: it writes
//! every payment, inbox record and `PaymentSucceeded` together, or nothing,
//! and leaves every other batch to the transaction, which decides the
//! charges one by one in delivery order.
use events::StockReserved;
use idempotency::{IncomingMessage, Outcome};
use payment::consumers::CheckoutHandler;
use test_support::{applied_as_a_batch, events_written, handled_alone, handled_together, user_with};

use crate::helpers::{credit_of, reserved, rows, spawn_app};

const CONSUMER: &str = "payment.checkout";

fn delivered(reserved: &StockReserved) -> IncomingMessage {
    IncomingMessage::first_delivery_of(&events::message(reserved))
}

#[tokio::test]
async fn a_batch_of_reservations_is_charged_recorded_and_answered_in_one_statement_once() {
    let app = spawn_app().await;
    let (ann, bob) = (user_with(&app, 100).await, user_with(&app, 100).await);
    let messages = [reserved(&ann, 20), reserved(&ann, 30), reserved(&bob, 10)].map(|r| delivered(&r));

    let first = handled_together(&CheckoutHandler, &app, CONSUMER, &messages)
        .await
        .expect("applied");
    let again = handled_together(&CheckoutHandler, &app, CONSUMER, &messages).await;

    assert_eq!(first.len(), 3);
    assert!(
        first
            .iter()
            .all(|stored| stored.message.event_type == "PaymentSucceeded")
    );
    assert!(again.is_none(), "messages seen before write nothing");
    assert_eq!(
        (credit_of(&app, &ann).await, credit_of(&app, &bob).await),
        (50, 90),
        "charged once"
    );
    assert_eq!(rows(&app).await, (3, 3, 3, 0));
}

#[tokio::test]
async fn a_batch_a_user_can_pay_only_in_part_is_decided_one_by_one_in_delivery_order() {
    let app = spawn_app().await;
    let user = user_with(&app, 50).await;
    let messages = [reserved(&user, 30), reserved(&user, 30)].map(|r| delivered(&r));

    let written = handled_together(&CheckoutHandler, &app, CONSUMER, &messages).await;
    let nothing = rows(&app).await;
    let outcomes = applied_as_a_batch(CheckoutHandler, &app, CONSUMER, &messages).await;

    assert!(written.is_none(), "each is covered alone, both together are not");
    assert_eq!(nothing, (0, 0, 0, 0));
    assert_eq!(outcomes, [Outcome::Applied, Outcome::Applied]);
    assert_eq!(
        credit_of(&app, &user).await,
        20,
        "the first charged, the second refused"
    );
    assert_eq!(events_written(&app).await, ["PaymentSucceeded", "PaymentFailed"]);
    assert_eq!(rows(&app).await, (2, 2, 1, 1));
}

#[tokio::test]
async fn a_batch_holding_a_message_seen_before_applies_only_the_others_once() {
    let app = spawn_app().await;
    let user = user_with(&app, 100).await;
    let messages = [reserved(&user, 20), reserved(&user, 30)].map(|r| delivered(&r));
    assert!(
        handled_alone(&CheckoutHandler, &app, CONSUMER, &messages[0])
            .await
            .is_some()
    );

    let written = handled_together(&CheckoutHandler, &app, CONSUMER, &messages).await;
    let outcomes = applied_as_a_batch(CheckoutHandler, &app, CONSUMER, &messages).await;

    assert!(written.is_none());
    assert_eq!(outcomes, [Outcome::Duplicate, Outcome::Applied]);
    assert_eq!(credit_of(&app, &user).await, 50, "each charged once");
    assert_eq!(rows(&app).await, (2, 2, 2, 0));
}

#[tokio::test]
async fn a_saga_twice_in_one_batch_is_charged_once_by_the_transaction() {
    let app = spawn_app().await;
    let user = user_with(&app, 100).await;
    let reservation = reserved(&user, 30);
    let messages = [delivered(&reservation), delivered(&reservation)];

    let written = handled_together(&CheckoutHandler, &app, CONSUMER, &messages).await;
    let outcomes = applied_as_a_batch(CheckoutHandler, &app, CONSUMER, &messages).await;

    assert!(written.is_none());
    assert_eq!(outcomes, [Outcome::Applied, Outcome::Applied]);
    assert_eq!(credit_of(&app, &user).await, 70, "charged once");
    assert_eq!(
        events_written(&app).await,
        ["PaymentSucceeded", "PaymentSucceeded"]
    );
}
