//! The relay over a store other than the `outbox` table, as a service whose
//! outbox lives elsewhere runs it (the order service's MongoDB store): an
//! in-memory store whose commits hand no rows over and only wake the relay,
//! against the real RabbitMQ in a fresh namespace per test.
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use outbox::topology::{QueueSpec, Topology};
use outbox::{BrokerSettings, OutboxMessage, OutboxStore, Relay, RelayError, RelaySettings, Stored};
use platform::testing::wait_until;

/// An outbox in memory. `LEASED`: its claims lapse at once, so that no
/// publish fits in one.
#[derive(Debug, Clone, Default)]
struct MemoryOutbox<const LEASED: bool> {
    rows: Arc<Mutex<Vec<Stored>>>,
    claims: Arc<AtomicUsize>,
    abandoned: Arc<AtomicUsize>,
}

impl<const LEASED: bool> MemoryOutbox<LEASED> {
    fn commit(&self, rows: Vec<Stored>) {
        self.rows.lock().expect("not poisoned").extend(rows);
    }

    fn waiting(&self) -> usize {
        self.rows.lock().expect("not poisoned").len()
    }
}

impl<const LEASED: bool> OutboxStore for MemoryOutbox<LEASED> {
    type Claim = ();
    type Error = Infallible;

    const SWEEP_WHEN_WOKEN: bool = true;
    const LEASE: Option<Duration> = if LEASED { Some(Duration::ZERO) } else { None };

    async fn claim(&self, limit: i64, _min_age: Duration) -> Result<((), Vec<Stored>), Infallible> {
        let rows = self.rows.lock().expect("not poisoned");
        self.claims.fetch_add(1, Ordering::SeqCst);
        let limit = usize::try_from(limit).expect("a positive batch size");
        Ok(((), rows.iter().take(limit).cloned().collect()))
    }

    async fn settle(&self, _claim: (), confirmed: &[i64]) -> Result<(), Infallible> {
        self.delete(confirmed).await
    }

    async fn abandon(&self, _claim: ()) -> Result<(), Infallible> {
        self.abandoned.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn delete(&self, positions: &[i64]) -> Result<(), Infallible> {
        let mut rows = self.rows.lock().expect("not poisoned");
        rows.retain(|row| !positions.contains(&row.position));
        Ok(())
    }

    async fn backlog(&self) -> Result<(i64, f64), Infallible> {
        Ok((self.waiting() as i64, 0.0))
    }
}

fn broker() -> BrokerSettings {
    BrokerSettings::from_env().expect("broker settings").isolated()
}

/// An exchange with a queue bound to all of it: every publish is routed,
/// so the broker confirms it.
fn topology() -> Topology {
    Topology {
        exchanges: vec!["events".into()],
        queues: vec![QueueSpec {
            name: "everything".into(),
            bindings: vec![("events".into(), "#".into())],
        }],
    }
}

fn relay<const LEASED: bool>(
    store: &MemoryOutbox<LEASED>,
    settings: RelaySettings,
) -> Relay<MemoryOutbox<LEASED>> {
    Relay::with_store(store.clone(), broker(), settings, topology(), "memory relay")
}

fn row(position: i64, aggregate: &str) -> Stored {
    let payload = serde_json::json!({ "aggregate": aggregate, "position": position });
    let message = OutboxMessage::new("events", "test.happened", "TestHappened", 1, aggregate, &payload)
        .expect("serialisable");
    Stored::new(position, message)
}

#[tokio::test]
async fn a_sweep_publishes_its_claim_and_settles_what_the_broker_confirmed() {
    let store = MemoryOutbox::<false>::default();
    store.commit(vec![row(1, "a"), row(2, "a"), row(3, "b")]);
    let mut relay = relay(&store, RelaySettings::from_env().expect("relay settings"));

    assert_eq!(relay.relay_once().await.expect("relayed"), 3);

    assert_eq!(store.waiting(), 0);
}

#[tokio::test]
async fn a_store_that_sweeps_when_woken_is_swept_at_once_on_a_wake_up() {
    let store = MemoryOutbox::<false>::default();
    let hour = Duration::from_secs(3600);
    let mut settings = RelaySettings::from_env().expect("relay settings");
    (settings.poll_interval, settings.sweep_after) = (hour, hour);
    let relay = relay(&store, settings);
    let handoff = relay.handoff();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(relay.run(async {
        let _ = stopped.await;
    }));
    // The sweep a relay starts with; the next one is an hour away.
    wait_until(10, || async { store.claims.load(Ordering::SeqCst) > 0 }).await;

    store.commit(vec![row(1, "a"), row(2, "b")]);
    handoff.wake();

    wait_until(10, || async { store.waiting() == 0 }).await;
}

#[tokio::test]
async fn a_publish_that_would_outlive_the_lease_is_given_up_and_the_claim_given_back() {
    let store = MemoryOutbox::<true>::default();
    store.commit(vec![row(1, "a")]);
    let mut relay = relay(&store, RelaySettings::from_env().expect("relay settings"));

    let relayed = relay.relay_once().await;

    assert!(
        matches!(relayed, Err(RelayError::ConfirmTimeout(_))),
        "{relayed:?}"
    );
    assert_eq!(store.abandoned.load(Ordering::SeqCst), 1);
    assert_eq!(store.waiting(), 1);
}
