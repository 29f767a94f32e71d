//! The relay against the real PostgreSQL and RabbitMQ: a fresh database and
//! a fresh broker namespace per test.
use std::collections::HashMap;
use std::time::Duration;

use lapin::options::{BasicAckOptions, BasicGetOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use outbox::topology::Topology;
use outbox::{BrokerSettings, OutboxMessage, Relay, RelayError, RelaySettings};
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
        .declare(&probe, &broker)
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
        let message = event(aggregate, sequence);
        let mut tx = self.pool.begin().await.expect("tx");
        outbox::enqueue(&mut tx, &message).await.expect("enqueued");
        tx.commit().await.expect("committed");
        message
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
async fn a_running_relay_publishes_at_each_wake_up_without_polling() {
    let bed = test_bed().await;
    let mut settings = RelaySettings::from_env().expect("relay settings");
    settings.poll_interval = Duration::from_secs(3600);
    let relay = Relay::new(
        bed.pool.clone(),
        bed.broker.clone(),
        settings,
        bed.topology.clone(),
        "waker",
    );
    let wakeup = relay.wakeup();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(relay.run(async {
        let _ = stopped.await;
    }));

    for sequence in 1..=3 {
        bed.enqueue("a", sequence).await;
        wakeup.wake();
        // Each row leaves long before the hour-long poll could take it.
        wait_until(|| async { outbox::pending_count(&bed.pool).await.expect("count") == 0 }).await;
    }

    assert_eq!(bed.drain().await.len(), 3);
    let _ = stop.send(());
    running.await.expect("relay stopped");
}

#[tokio::test]
async fn an_unreachable_broker_fails_the_step_and_loses_nothing() {
    let bed = test_bed().await;
    bed.enqueue("a", 1).await;
    let mut down = bed.broker.clone();
    down.url = "amqp://guest:guest@127.0.0.1:1/%2f".into();
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

/// Waits (at most ten seconds) until `condition` holds.
async fn wait_until<F, Fut>(condition: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let reached = platform::testing::eventually(Duration::from_secs(10), condition).await;
    assert!(reached, "condition not reached within ten seconds");
}
