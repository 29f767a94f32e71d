use std::future::Future;

use sqlx::PgConnection;

use super::IncomingMessage;

/// Whatever made a handler fail; the message is retried, then parked with
/// this error's text.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// A service's reaction to one kind of message.
pub trait Handler: Send + Sync + 'static {
    /// Applies the message's effect with `tx`, which is a transaction the
    /// consumer commits after this returns `Ok` and rolls back otherwise.
    /// Events the handler itself emits go into the outbox through the same
    /// `tx`, so they are published if and only if the effect commits.
    fn handle<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        message: &'a IncomingMessage,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send + 'a;
}

/// What became of a message that was processed without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// First time seen: the effect was applied and committed.
    Applied,
    /// Seen before: nothing was done.
    Duplicate,
}
