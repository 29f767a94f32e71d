use std::future::Future;

use outbox::OutboxMessage;
use sqlx::PgConnection;

use super::IncomingMessage;

/// Whatever made a handler fail; the message is retried, then parked with
/// this error's text.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// A service's reaction to one kind of message.
pub trait Handler: Send + Sync + 'static {
    /// Applies the message's effect with `tx`, which is a transaction the
    /// consumer commits after this returns `Ok` and rolls back otherwise,
    /// and returns the events the effect emits. The consumer writes them into
    /// the outbox through the same `tx` (one statement for a whole batch), so
    /// they are published if and only if the effect commits, and hands them
    /// to the process's relay after the commit.
    fn handle<'a>(
        &'a self,
        tx: &'a mut PgConnection,
        message: &'a IncomingMessage,
    ) -> impl Future<Output = Result<Vec<OutboxMessage>, HandlerError>> + Send + 'a;
}

/// What became of a message that was processed without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// First time seen: the effect was applied and committed.
    Applied,
    /// Seen before: nothing was done.
    Duplicate,
}

impl Outcome {
    /// What [`crate::inbox::record_all`]'s answer for a message means once
    /// the transaction committed.
    pub fn recorded_now(fresh: bool) -> Self {
        if fresh {
            Outcome::Applied
        } else {
            Outcome::Duplicate
        }
    }
}
