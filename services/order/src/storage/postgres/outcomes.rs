//! The outcome listener of the PostgreSQL store: the consumer announces
//! ended sagas on the order database after its commit, and every replica
//! listens.
use std::future::Future;
use std::time::Duration;

use outbox::Backoff;
use platform::database::DbError;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};

use crate::domain::Ended;
use crate::waiters::Waiters;

/// The channel the order consumer notifies when sagas end; every order
/// replica listens, so whichever holds the client's request answers it.
pub const OUTCOME_CHANNEL: &str = "checkout_outcome";

/// The longest payload `announce` sends in one notification (PostgreSQL
/// refuses 8 000 bytes or more).
const NOTIFICATION_BYTES: usize = 7_000;

/// Tells every replica's outcome listener how these sagas ended: a JSON
/// array of them per notification. Sent in a transaction of its own after
/// the business commit: a `NOTIFY` inside a transaction takes a lock for
/// the whole server at commit and holds it until the commit is flushed,
/// which serialised every saga step. A notification lost in a crash is
/// caught by the waiters' periodic re-read.
pub async fn announce(executor: &mut PgConnection, ended: &[Ended]) -> Result<(), DbError> {
    for payload in payloads(ended) {
        sqlx::query!("SELECT pg_notify($1, $2)", OUTCOME_CHANNEL, payload)
            .execute(&mut *executor)
            .await?;
    }
    Ok(())
}

/// What an announcement says: how sagas ended, or (from replicas of an
/// earlier version) only which orders' sagas did, as a JSON array of ids or
/// one bare id.
#[derive(Debug, PartialEq)]
pub enum Announced {
    Ended(Vec<Ended>),
    Orders(Vec<String>),
}

pub fn announced(payload: &str) -> Announced {
    if let Ok(ended) = serde_json::from_str(payload) {
        return Announced::Ended(ended);
    }
    Announced::Orders(serde_json::from_str(payload).unwrap_or_else(|_| vec![payload.to_owned()]))
}

/// `ended` as JSON arrays, in as few payloads as fit.
fn payloads(ended: &[Ended]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut size = 2;
    for one in ended {
        let Ok(json) = serde_json::to_string(one) else {
            continue;
        };
        if !current.is_empty() && size + json.len() + 1 > NOTIFICATION_BYTES {
            payloads.push(format!("[{}]", current.join(",")));
            (current, size) = (Vec::new(), 2);
        }
        size += json.len() + 1;
        current.push(json);
    }
    if !current.is_empty() {
        payloads.push(format!("[{}]", current.join(",")));
    }
    payloads
}

/// Listens for announced outcomes until `shutdown`, reconnecting with
/// backoff; after each (re)connect it wakes every waiter to re-read.
pub async fn listen(pool: PgPool, waiters: Waiters, shutdown: impl Future<Output = ()>) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            error = listen_once(&pool, &waiters, &mut backoff) => {
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

async fn listen_once(pool: &PgPool, waiters: &Waiters, backoff: &mut Backoff) -> sqlx::Error {
    let mut listener = match PgListener::connect_with(pool).await {
        Ok(listener) => listener,
        Err(error) => return error,
    };
    if let Err(error) = listener.listen(OUTCOME_CHANNEL).await {
        return error;
    }
    backoff.reset();
    waiters.wake_all();
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => match announced(notification.payload()) {
                Announced::Ended(ended) => {
                    waiters.settle(&ended);
                }
                Announced::Orders(order_ids) => order_ids.iter().for_each(|id| waiters.wake(id)),
            },
            Ok(None) => return sqlx::Error::PoolClosed,
            Err(error) => return error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SagaEnd;

    #[test]
    fn outcomes_are_announced_in_as_few_payloads_as_fit() {
        let long = "x".repeat(3_000);
        let all = vec![
            Ended::of("1", SagaEnd::Paid),
            Ended::of("a,\"b\"", SagaEnd::Failed("out of stock".into())),
            Ended::of(&long, SagaEnd::Paid),
            Ended::of(&long, SagaEnd::Paid),
            Ended::of(&long, SagaEnd::Failed(long.clone())),
        ];

        let sent = payloads(&all);

        assert_eq!(sent.len(), 2);
        assert!(sent.iter().all(|p| p.len() < NOTIFICATION_BYTES));
        let received: Vec<Ended> = sent
            .iter()
            .flat_map(|p| match announced(p) {
                Announced::Ended(ended) => ended,
                Announced::Orders(ids) => panic!("read as bare ids: {ids:?}"),
            })
            .collect();
        assert_eq!(received, all);
        assert!(payloads(&[]).is_empty());
    }

    #[test]
    fn an_earlier_version_s_announcements_name_orders() {
        assert_eq!(
            announced(r#"["a","b"]"#),
            Announced::Orders(vec!["a".into(), "b".into()])
        );
        assert_eq!(announced("42"), Announced::Orders(vec!["42".into()]));
    }
}
