//! Multi-document transactions, retried while the server calls a failure
//! transient: MongoDB does not queue a write behind a concurrent
//! transaction's as PostgreSQL's row locks do, it fails one of them with a
//! write conflict, and the loser starts over.
use std::future::Future;
use std::time::Duration;

use mongodb::error::{
    Error, ErrorKind, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT, WriteFailure,
};
use mongodb::{Client, ClientSession};
use outbox::Backoff;
use tokio::time::Instant;

/// How long a transaction is started over after conflicts before the
/// request gives up with a 503.
const RETRY_FOR: Duration = Duration::from_secs(10);

/// How often a commit whose result is unknown (a network error, a primary
/// stepping down) is sent again; commits are idempotent.
const COMMIT_ATTEMPTS: usize = 3;

/// The server's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11000;

/// What an attempt wants done with its transaction.
#[derive(Debug)]
pub enum Finish<T> {
    Commit(T),
    /// Nothing to keep (the attempt found its work done or refused it).
    Abort(T),
}

/// Runs `attempt` in a transaction until it commits, aborts, or fails for
/// good. The attempt gets the session by value and hands it back, so its
/// future may borrow the caller's data freely.
pub async fn in_transaction<T, F, Fut>(client: &Client, mut attempt: F) -> Result<T, Error>
where
    F: FnMut(ClientSession) -> Fut,
    Fut: Future<Output = (ClientSession, Result<Finish<T>, Error>)>,
{
    let mut session = client.start_session().await?;
    let deadline = Instant::now() + RETRY_FOR;
    let mut backoff = Backoff::new(Duration::from_millis(5), Duration::from_millis(200));
    loop {
        session.start_transaction().await?;
        let (returned, result) = attempt(session).await;
        session = returned;
        let error = match result {
            Ok(Finish::Commit(value)) => match commit(&mut session).await {
                Ok(()) => return Ok(value),
                Err(error) => error,
            },
            Ok(Finish::Abort(value)) => {
                abort(&mut session).await;
                return Ok(value);
            }
            Err(error) => error,
        };
        abort(&mut session).await;
        if !error.contains_label(TRANSIENT_TRANSACTION_ERROR) || Instant::now() >= deadline {
            return Err(error);
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

async fn commit(session: &mut ClientSession) -> Result<(), Error> {
    let mut attempts = 1;
    loop {
        match session.commit_transaction().await {
            Err(error)
                if error.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) && attempts < COMMIT_ATTEMPTS =>
            {
                attempts += 1;
            }
            other => return other,
        }
    }
}

/// Ends the transaction if the server has not already; an abort fails only
/// when nothing is left to abort, which is what the caller wants anyway.
async fn abort(session: &mut ClientSession) {
    if let Err(error) = session.abort_transaction().await {
        tracing::debug!(%error, "transaction already ended");
    }
}

/// Whether `error` is a unique index refusing a second document with the
/// same key.
pub fn is_duplicate_key(error: &Error) -> bool {
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(failure)) => failure.code == DUPLICATE_KEY,
        ErrorKind::Command(failure) => failure.code == DUPLICATE_KEY,
        _ => false,
    }
}
