//! The charge's one-statement form, for a reservation that arrives alone:
//! it writes the payment, the inbox record and `PaymentSucceeded` together,
//! or nothing, and leaves every other case to the transactional path.
use futures::future::join_all;
use idempotency::{Handler, IncomingMessage};
use outbox::Stored;
use payment::consumers::CheckoutHandler;
use test_support::{TestApp, handled_alone, user_with};

use crate::helpers::{credit_of, reserved, rows, spawn_app};

const CONSUMER: &str = "payment.checkout";

fn reserved_alone(user: &str, total_cost: i64) -> IncomingMessage {
    IncomingMessage::first_delivery_of(&events::message(&reserved(user, total_cost)))
}

async fn alone(app: &TestApp, message: &IncomingMessage) -> Option<Vec<Stored>> {
    handled_alone(&CheckoutHandler, app, CONSUMER, message).await
}

#[tokio::test]
async fn a_lone_reservation_is_charged_recorded_and_answered_in_one_statement_once() {
    let app = spawn_app().await;
    let user = user_with(&app, 100).await;
    let message = reserved_alone(&user, 30);

    let first = alone(&app, &message).await.expect("applied");
    let again = alone(&app, &message).await;

    assert_eq!(first.len(), 1);
    assert_eq!(first[0].message.event_type, "PaymentSucceeded");
    assert!(again.is_none(), "a message seen before writes nothing");
    assert_eq!(credit_of(&app, &user).await, 70, "charged once");
    assert_eq!(rows(&app).await, (1, 1, 1, 0));
}

#[tokio::test]
async fn a_lone_reservation_the_user_cannot_pay_writes_nothing_and_the_transaction_refuses_it() {
    let app = spawn_app().await;
    let user = user_with(&app, 10).await;
    let message = reserved_alone(&user, 30);

    let written = alone(&app, &message).await;
    let nothing = rows(&app).await;
    let mut tx = app.pool.begin().await.expect("tx");
    let emitted = CheckoutHandler.handle(&mut tx, &message).await.expect("handled");
    tx.commit().await.expect("committed");

    assert!(written.is_none());
    assert_eq!(nothing, (0, 0, 0, 0));
    assert_eq!(emitted[0].event_type, "PaymentFailed");
    assert_eq!(credit_of(&app, &user).await, 10, "nothing charged");
}

#[tokio::test]
async fn a_lone_reservation_for_an_unknown_user_writes_nothing() {
    let app = spawn_app().await;

    let written = alone(&app, &reserved_alone("nobody", 30)).await;

    assert!(written.is_none());
    assert_eq!(rows(&app).await, (0, 0, 0, 0));
}

#[tokio::test]
async fn twenty_lone_charges_of_one_user_at_once_take_exactly_the_credit() {
    let app = spawn_app().await;
    let user = user_with(&app, 100).await;
    let messages: Vec<_> = (0..20).map(|_| reserved_alone(&user, 10)).collect();

    let written = join_all(messages.iter().map(|message| alone(&app, message))).await;

    let charged = written.iter().filter(|w| w.is_some()).count();
    assert_eq!(charged, 10);
    assert_eq!(credit_of(&app, &user).await, 0);
    assert_eq!(rows(&app).await, (10, 10, 10, 0));
}
