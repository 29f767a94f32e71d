use std::future::Future;

use outbox::{OutboxMessage, Stored};
use sqlx::{PgConnection, PgPool};

use super::{IncomingMessage, Lone, Together};

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

    /// The message's common case, for a message that arrives alone: one
    /// statement with no transaction, built with [`crate::applied_alone!`],
    /// that applies the effect, records the message in the inbox and writes
    /// the events, or writes nothing. `Some` with the events written when it
    /// applied the message. `None` when it wrote nothing: the message was
    /// seen before, or its case is not the common one (a refusal, a saga
    /// answered before); the consumer then applies it through
    /// [`Handler::handle`]. The default has no common case.
    fn handle_alone<'a>(
        &'a self,
        _pool: &'a PgPool,
        _lone: Lone<'a>,
    ) -> impl Future<Output = Result<Option<Vec<Stored>>, HandlerError>> + Send + 'a {
        async { Ok(None) }
    }

    /// [`Handler::handle_alone`] for a batch: one statement, built with
    /// [`crate::applied_together!`], that applies every message's effect,
    /// records them all and writes their events, or writes nothing. `None`
    /// when it wrote nothing (one was seen before, or the batch is not the
    /// common case as a whole); the consumer then applies the batch through
    /// [`Handler::handle`], in one transaction. The default has no common
    /// case.
    fn handle_together<'a>(
        &'a self,
        _pool: &'a PgPool,
        _together: Together<'a>,
    ) -> impl Future<Output = Result<Option<Vec<Stored>>, HandlerError>> + Send + 'a {
        async { Ok(None) }
    }
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
