//! The outcome listener of the PostgreSQL store: the consumer announces
//! ended sagas on the order database after its commit, and every replica
//! listens.
use std::future::Future;
use std::time::Duration;

use outbox::Backoff;
use platform::database::DbError;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};

use crate::checkout::Outcomes;

/// The channel the order consumer notifies when sagas end; every order
/// replica listens, so whichever holds the client's request answers it.
pub const OUTCOME_CHANNEL: &str = "checkout_outcome";

/// The longest payload `announce` sends in one notification (PostgreSQL
/// refuses 8 000 bytes or more).
const NOTIFICATION_BYTES: usize = 7_000;

/// Tells every replica's outcome listener that the sagas of `order_ids`
/// ended: a JSON array of ids per notification. Sent in a transaction of
/// its own after the business commit: a `NOTIFY` inside a transaction takes
/// a lock for the whole server at commit and holds it until the commit is
/// flushed, which serialised every saga step. A notification lost in a
/// crash is caught by the waiters' periodic re-read.
pub async fn announce(executor: &mut PgConnection, order_ids: &[&str]) -> Result<(), DbError> {
    for payload in payloads(order_ids) {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(OUTCOME_CHANNEL)
            .bind(payload)
            .execute(&mut *executor)
            .await?;
    }
    Ok(())
}

/// The order ids an announcement names. A bare id is what replicas of an
/// earlier version send, one per notification.
pub fn announced(payload: &str) -> Vec<String> {
    serde_json::from_str(payload).unwrap_or_else(|_| vec![payload.to_owned()])
}

/// `order_ids` as JSON arrays, in as few payloads as fit.
fn payloads(order_ids: &[&str]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut size = 2;
    for id in order_ids {
        let id_size = serde_json::to_string(id).map_or(id.len() * 6, |quoted| quoted.len()) + 1;
        if !current.is_empty() && size + id_size > NOTIFICATION_BYTES {
            payloads.push(serde_json::to_string(&current).unwrap_or_default());
            (current, size) = (Vec::new(), 2);
        }
        current.push(id);
        size += id_size;
    }
    if !current.is_empty() {
        payloads.push(serde_json::to_string(&current).unwrap_or_default());
    }
    payloads
}

/// Listens for announced outcomes until `shutdown`, reconnecting with
/// backoff; after each (re)connect it wakes every waiter to re-read.
pub async fn listen(pool: PgPool, outcomes: Outcomes, shutdown: impl Future<Output = ()>) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            error = listen_once(&pool, &outcomes, &mut backoff) => {
                tracing::warn!(%error, "lost the checkout outcome listener");
            }
            () = &mut shutdown => return,
        }
        tokio::select! {
            () = tokio::time::sleep(backoff.next_delay()) => {}
            () = &mut shutdown => return,
        }
    }
}

async fn listen_once(pool: &PgPool, outcomes: &Outcomes, backoff: &mut Backoff) -> sqlx::Error {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(error) => return error,
    };
    if let Err(error) = listener.listen(OUTCOME_CHANNEL).await {
        return error;
    }
    backoff.reset();
    outcomes.wake_all();
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                for order_id in announced(notification.payload()) {
                    outcomes.wake(&order_id);
                }
            }
            Ok(None) => return sqlx::Error::PoolClosed,
            Err(error) => return error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_announced_in_as_few_payloads_as_fit() {
        let long = "x".repeat(3_000);
        let ids = ["1", "2", long.as_str(), long.as_str(), long.as_str()];

        let sent = payloads(&ids);

        assert_eq!(sent.len(), 2);
        assert!(sent.iter().all(|p| p.len() < NOTIFICATION_BYTES));
        let received: Vec<String> = sent.iter().flat_map(|p| announced(p)).collect();
        assert_eq!(received, ids);
        assert!(payloads(&[]).is_empty());
    }

    #[test]
    fn any_id_survives_an_announcement_and_a_bare_id_is_read_as_one() {
        let ids = ["a,b", "\"quoted\"", "[1]"];

        let received: Vec<String> = payloads(&ids).iter().flat_map(|p| announced(p)).collect();

        assert_eq!(received, ids);
        assert_eq!(announced("42"), vec!["42"]);
    }
}
