//! A handler's one-statement forms and its batch path, called as the
//! consumer calls them, and what they wrote to the outbox.
use idempotency::consumer::PgInbox;
use idempotency::{ApplyOnce, Batched, Handler, IncomingMessage, Lone, Outcome, Together};
use outbox::Stored;

use crate::TestApp;

/// The handler's one-statement form for `message` arriving alone in the
/// inbox `consumer`: the events written, or `None` when it wrote nothing.
pub async fn handled_alone<H: Handler>(
    handler: &H,
    app: &TestApp,
    consumer: &str,
    message: &IncomingMessage,
) -> Option<Vec<Stored>> {
    let lone = Lone { consumer, message };
    handler
        .handle_alone(&app.pool, lone)
        .await
        .expect("no database fault")
}

/// The handler's one-statement form for `messages` as one batch of the
/// inbox `consumer`: the events written, or `None` when it wrote nothing.
pub async fn handled_together<H: Handler>(
    handler: &H,
    app: &TestApp,
    consumer: &str,
    messages: &[IncomingMessage],
) -> Option<Vec<Stored>> {
    let span = tracing::Span::none();
    let messages: Vec<_> = messages.iter().map(|message| (message, &span)).collect();
    let together = Together {
        consumer,
        messages: &messages,
    };
    handler
        .handle_together(&app.pool, together)
        .await
        .expect("no database fault")
}

/// `messages` applied as the consumer applies a batch: the one statement
/// first, then the transaction.
pub async fn applied_as_a_batch<H: Handler>(
    handler: H,
    app: &TestApp,
    consumer: &str,
    messages: &[IncomingMessage],
) -> Vec<Outcome> {
    let batch: Vec<_> = messages
        .iter()
        .map(|message| Batched {
            message: message.clone(),
            span: tracing::Span::none(),
        })
        .collect();
    PgInbox::new(app.pool.clone(), handler)
        .apply_batch(consumer, &batch)
        .await
        .expect("applied")
}

/// The event types in the service's outbox, in the order written.
pub async fn events_written(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT event_type FROM outbox ORDER BY position")
        .fetch_all(&app.pool)
        .await
        .expect("outbox readable")
}
