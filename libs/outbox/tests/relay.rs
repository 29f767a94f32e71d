//! The relay against the real PostgreSQL and RabbitMQ: a fresh database and
//! a fresh broker namespace per test.
use std::collections::HashMap;
use std::time::Duration;

use lapin::options::{BasicAckOptions, BasicGetOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use outbox::topology::Topology;
use outbox::{BrokerSettings, Handoff, OutboxMessage, Relay, RelayError, RelaySettings, Stored};
use platform::testing::wait_until;
use sqlx::PgPool;

struct TestBed {
    pool: PgPool,
    broker: BrokerSettings,
    topology: Topology,
    /// Keeps the probe's connection open.
    _connection: Connection,
    probe: Channel,
}

async fn test_bed() -> TestBed {
    let pool = platform::testing::fresh_pool("outbox", &[&outbox::MIGRATOR]).await;
    let broker = BrokerSettings::from_env().expect("broker settings").isolated();
    let topology = Topology {
        exchanges: vec!["events".into()],
        queues: vec![],
    };
    let connection = outbox::broker::connect(&broker, "outbox test probe")
        .await
        .expect("RabbitMQ is running");
    let probe = connection.create_channel().await.expect("a channel");
    topology
        .declare(&connection, &broker)
        .await
        .expect("topology declared");
    // A plain queue: the services' queues have a single active consumer,
    // which rules out the basic.get the probe reads with.
    let queue = broker.name("probe");
    let options = QueueDeclareOptions {
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    probe
        .queue_declare(queue.as_str().into(), options, FieldTable::default())
        .await
        .expect("probe queue");
    probe
        .queue_bind(
            queue.as_str().into(),
            broker.name("events").into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("probe bound");
    TestBed {
        pool,
        broker,
        topology,
        _connection: connection,
        probe,
    }
}

impl TestBed {
    fn relay(&self) -> Relay {
        let settings = RelaySettings::from_env().expect("relay settings");
        Relay::new(
            self.pool.clone(),
            self.broker.clone(),
            settings,
            self.topology.clone(),
            "test relay",
        )
    }

    async fn enqueue(&self, aggregate: &str, sequence: u32) -> OutboxMessage {
        self.commit(aggregate, sequence).await.message
    }

    /// Commits one event and returns its row, to hand over or not.
    async fn commit(&self, aggregate: &str, sequence: u32) -> Stored {
        let mut tx = self.pool.begin().await.expect("tx");
        let stored = outbox::enqueue(&mut tx, &event(aggregate, sequence))
            .await
            .expect("enqueued");
        tx.commit().await.expect("committed");
        stored
    }

    /// A relay running in the background with these timings, and its
    /// hand-over; it stops when the sender is dropped.
    fn run_relay(
        &self,
        poll_interval: Duration,
        sweep_after: Duration,
    ) -> (Handoff, tokio::sync::oneshot::Sender<()>) {
        let mut settings = RelaySettings::from_env().expect("relay settings");
        (settings.poll_interval, settings.sweep_after) = (poll_interval, sweep_after);
        let relay = Relay::new(
            self.pool.clone(),
            self.broker.clone(),
            settings,
            self.topology.clone(),
            "running",
        );
        let handoff = relay.handoff();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(relay.run(async {
            let _ = stopped.await;
        }));
        (handoff, stop)
    }

    /// The `sequence` of every event in the probe queue now, in order.
    async fn sequences(&self) -> Vec<i64> {
        self.drain()
            .await
            .iter()
            .map(|(_, body)| body["sequence"].as_i64().expect("sequence"))
            .collect()
    }

    /// Everything in the probe queue now, acknowledged.
    async fn drain(&self) -> Vec<(String, serde_json::Value)> {
        let queue = self.broker.name("probe");
        let mut messages = Vec::new();
        while let Some(message) = self
            .probe
            .basic_get(queue.as_str().into(), BasicGetOptions::default())
            .await
            .expect("basic.get")
        {
            message
                .delivery
                .acker
                .ack(BasicAckOptions::default())
                .await
                .expect("ack");
            let id = message
                .delivery
                .properties
                .message_id()
                .clone()
                .expect("a message id");
            let body = serde_json::from_slice(&message.delivery.data).expect("JSON body");
            messages.push((id.to_string(), body));
        }
        messages
    }
}

fn event(aggregate: &str, sequence: u32) -> OutboxMessage {
    let payload = serde_json::json!({ "aggregate": aggregate, "sequence": sequence });
    OutboxMessage::new("events", "test.happened", "TestHappened", 1, aggregate, &payload)
        .expect("serialisable")
}

#[tokio::test]
async fn a_rolled_back_transaction_publishes_nothing() {
    let bed = test_bed().await;
    let mut tx = bed.pool.begin().await.expect("tx");
    outbox::enqueue(&mut tx, &event("a", 1)).await.expect("enqueued");

    tx.rollback().await.expect("rolled back");

    assert_eq!(bed.relay().relay_once().await.expect("relayed"), 0);
    assert!(bed.drain().await.is_empty());
}

#[tokio::test]
async fn a_committed_event_is_published_exactly_once_and_leaves_the_outbox() {
    let bed = test_bed().await;
    let message = bed.enqueue("a", 1).await;
    let mut relay = bed.relay();

    assert_eq!(relay.relay_once().await.expect("relayed"), 1);
    assert_eq!(relay.relay_once().await.expect("relayed"), 0);

    let published = bed.drain().await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].0, message.message_id.to_string());
    assert_eq!(published[0].1, message.payload);
    assert_eq!(outbox::pending_count(&bed.pool).await.expect("count"), 0);
}

#[tokio::test]
async fn a_relay_that_dies_after_publishing_leaves_the_row_to_be_published_again() {
    let bed = test_bed().await;
    let message = bed.enqueue("a", 1).await;
    let mut relay = bed.relay();

    let claimed = relay.claim_and_publish().await.expect("published");
    assert_eq!(claimed.published(), 1);
    claimed.abandon().await.expect("rolled back");

    assert_eq!(relay.relay_once().await.expect("relayed"), 1);
    let ids: Vec<String> = bed.drain().await.into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, vec![message.message_id.to_string(); 2]);
}

#[tokio::test]
async fn two_relays_publish_each_event_once_and_each_aggregate_in_order() {
    let bed = test_bed().await;
    for sequence in 0..40 {
        for aggregate in ["a", "b", "c"] {
            bed.enqueue(aggregate, sequence).await;
        }
    }
    let (mut first, mut second) = (bed.relay(), bed.relay());

    let until_empty = async |relay: &mut Relay| {
        let mut total = 0;
        loop {
            match relay.relay_once().await.expect("relayed") {
                0 if outbox::pending_count(&bed.pool).await.expect("count") == 0 => return total,
                n => total += n,
            }
        }
    };
    let (a, b) = tokio::join!(until_empty(&mut first), until_empty(&mut second));

    assert_eq!(a + b, 120);
    let mut last: HashMap<String, i64> = HashMap::new();
    let published = bed.drain().await;
    assert_eq!(published.len(), 120);
    for (_, body) in published {
        let aggregate = body["aggregate"].as_str().expect("aggregate").to_owned();
        let sequence = body["sequence"].as_i64().expect("sequence");
        let previous = last.insert(aggregate.clone(), sequence).unwrap_or(-1);
        assert_eq!(sequence, previous + 1, "aggregate {aggregate} out of order");
    }
}

#[tokio::test]
async fn a_running_relay_publishes_what_is_handed_over_at_once_without_a_sweep() {
    let bed = test_bed().await;
    let hour = Duration::from_secs(3600);
    let (handoff, _stop) = bed.run_relay(hour, hour);

    for sequence in 1..=3 {
        let stored = bed.commit("a", sequence).await;
        handoff.committed(vec![stored]);
        // Rows younger than an hour are no sweep's: only the hand-over
        // can publish them.
        wait_until(10, || async {
            outbox::pending_count(&bed.pool).await.expect("count") == 0
        })
        .await;
    }

    assert_eq!(bed.drain().await.len(), 3);
}

#[tokio::test]
async fn an_insert_reports_the_older_rows_of_its_aggregate_still_waiting() {
    let bed = test_bed().await;
    let first = bed.commit("a", 1).await;
    bed.commit("b", 1).await;

    let second = bed.commit("a", 2).await;

    assert!(first.older.is_empty());
    assert_eq!(second.older, vec![first.position]);
}

#[tokio::test]
async fn rows_behind_rows_the_same_relay_publishes_go_at_once_in_order() {
    let bed = test_bed().await;
    let hour = Duration::from_secs(3600);
    let (handoff, _stop) = bed.run_relay(hour, hour);
    // The second was written while the first still waited: it names it.
    let rows = vec![bed.commit("a", 1).await, bed.commit("a", 2).await];

    handoff.committed(rows);

    wait_until(10, || async {
        outbox::pending_count(&bed.pool).await.expect("count") == 0
    })
    .await;
    let sequences = bed.sequences().await;
    assert_eq!(sequences, vec![1, 2]);
}

#[tokio::test]
async fn a_row_nobody_handed_over_is_swept_and_the_rows_behind_it_wait_for_it() {
    let bed = test_bed().await;
    // Committed by a process that died before publishing.
    let left = bed.commit("a", 1).await;
    let (handoff, _stop) = bed.run_relay(Duration::from_millis(50), Duration::from_millis(300));

    let behind = bed.commit("a", 2).await;
    handoff.committed(vec![behind]);

    wait_until(10, || async {
        outbox::pending_count(&bed.pool).await.expect("count") == 0
    })
    .await;
    let sequences = bed.sequences().await;
    assert_eq!(
        sequences,
        vec![1, 2],
        "the swept row {} went out first",
        left.position
    );
}

#[tokio::test]
async fn an_unreachable_broker_fails_the_step_and_loses_nothing() {
    let bed = test_bed().await;
    bed.enqueue("a", 1).await;
    let mut down = bed.broker.clone();
    down.urls = vec!["amqp://guest:guest@127.0.0.1:1/%2f".into()];
    let mut relay = Relay::new(
        bed.pool.clone(),
        down,
        RelaySettings::from_env().expect("settings"),
        bed.topology.clone(),
        "down",
    );

    assert!(matches!(relay.relay_once().await, Err(RelayError::Broker(_))));
    assert_eq!(outbox::pending_count(&bed.pool).await.expect("count"), 1);

    assert_eq!(bed.relay().relay_once().await.expect("relayed"), 1);
    assert_eq!(bed.drain().await.len(), 1);
}

#[tokio::test]
async fn a_row_behind_an_unconfirmed_row_of_its_aggregate_is_not_published() {
    let bed = test_bed().await;
    // An exchange no queue is bound to: a publish there is not confirmed
    // as delivered (it comes back unroutable).
    let options = lapin::options::ExchangeDeclareOptions {
        auto_delete: true,
        ..lapin::options::ExchangeDeclareOptions::default()
    };
    bed.probe
        .exchange_declare(
            bed.broker.name("nowhere").into(),
            lapin::ExchangeKind::Topic,
            options,
            FieldTable::default(),
        )
        .await
        .expect("exchange declared");
    let payload = serde_json::json!({ "aggregate": "a", "sequence": 1 });
    let lost = OutboxMessage::new("nowhere", "test.happened", "TestHappened", 1, "a", &payload)
        .expect("serialisable");
    let mut tx = bed.pool.begin().await.expect("tx");
    let first = outbox::enqueue(&mut tx, &lost).await.expect("enqueued");
    tx.commit().await.expect("committed");
    let rows = vec![first, bed.commit("a", 2).await, bed.commit("b", 3).await];
    let mut relay = bed.relay();
    relay.handoff().committed(rows);

    let published = relay.publish_handed_over().await;

    assert!(
        matches!(published, Err(RelayError::NotConfirmed { count: 1, .. })),
        "{published:?}"
    );
    assert_eq!(
        bed.sequences().await,
        vec![3],
        "a's second event waits for its first"
    );
}
