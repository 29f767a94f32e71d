//! The charge's one-statement form for a batch of reservations: it writes
//! every payment, inbox record and `PaymentSucceeded` together, or nothing,
//! and leaves every other batch to the transaction, which decides the
//! charges one by one in delivery order.
use events::StockReserved;
use idempotency::consumer::PgInbox;
use idempotency::{ApplyOnce, Batched, Handler, IncomingMessage, Lone, Outcome, Together};
use outbox::Stored;
use payment::consumers::CheckoutHandler;
use test_support::{TestApp, user_with};

use crate::helpers::{credit_of, reserved, spawn_app};

const CONSUMER: &str = "payment.checkout";

fn delivered(reserved: &StockReserved) -> IncomingMessage {
    IncomingMessage::first_delivery_of(&events::message(reserved))
}

async fn together(app: &TestApp, messages: &[IncomingMessage]) -> Option<Vec<Stored>> {
    let span = tracing::Span::none();
    let messages: Vec<_> = messages.iter().map(|message| (message, &span)).collect();
    let together = Together {
        consumer: CONSUMER,
        messages: &messages,
    };
    CheckoutHandler
        .handle_together(&app.pool, together)
        .await
        .expect("no database fault")
}

/// The consumer's batch path: the one statement first, then the transaction.
async fn apply_batch(app: &TestApp, messages: &[IncomingMessage]) -> Vec<Outcome> {
    let batch: Vec<_> = messages
        .iter()
        .map(|message| Batched {
            message: message.clone(),
            span: tracing::Span::none(),
        })
        .collect();
    PgInbox::new(app.pool.clone(), CheckoutHandler)
        .apply_batch(CONSUMER, &batch)
        .await
        .expect("applied")
}

/// Rows of the inbox, the outbox, the payments and the refusals.
async fn rows(app: &TestApp) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM inbox), (SELECT count(*) FROM outbox), \
                (SELECT count(*) FROM payments), (SELECT count(*) FROM refusals)",
    )
    .fetch_one(&app.pool)
    .await
    .expect("counts")
}

async fn events_written(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT event_type FROM outbox ORDER BY position")
        .fetch_all(&app.pool)
        .await
        .expect("outbox readable")
}

#[tokio::test]
async fn a_batch_of_reservations_is_charged_recorded_and_answered_in_one_statement_once() {
    let app = spawn_app().await;
    let (ann, bob) = (user_with(&app, 100).await, user_with(&app, 100).await);
    let messages = [reserved(&ann, 20), reserved(&ann, 30), reserved(&bob, 10)].map(|r| delivered(&r));

    let first = together(&app, &messages).await.expect("applied");
    let again = together(&app, &messages).await;

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

    let written = together(&app, &messages).await;
    let nothing = rows(&app).await;
    let outcomes = apply_batch(&app, &messages).await;

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
    let lone = Lone {
        consumer: CONSUMER,
        message: &messages[0],
    };
    assert!(
        CheckoutHandler
            .handle_alone(&app.pool, lone)
            .await
            .expect("no fault")
            .is_some()
    );

    let written = together(&app, &messages).await;
    let outcomes = apply_batch(&app, &messages).await;

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

    let written = together(&app, &messages).await;
    let outcomes = apply_batch(&app, &messages).await;

    assert!(written.is_none());
    assert_eq!(outcomes, [Outcome::Applied, Outcome::Applied]);
    assert_eq!(credit_of(&app, &user).await, 70, "charged once");
    assert_eq!(
        events_written(&app).await,
        ["PaymentSucceeded", "PaymentSucceeded"]
    );
}
