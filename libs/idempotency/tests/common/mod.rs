//! A consumer test bed: a fresh database with the outbox, the inbox and an
//! `effects` table, a fresh broker namespace, a relay and a recording handler.
#![allow(dead_code)] // each test binary uses a different part of it

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use idempotency::{Consumer, Handler, HandlerError, IncomingMessage, Lone};
use outbox::topology::{QueueSpec, Topology};
use outbox::{BrokerSettings, Handoff, OutboxMessage, Relay, RelaySettings, Stored};
use platform::database::DbError;
pub use platform::testing::wait_until;
use sqlx::{PgConnection, PgPool};

pub const QUEUE: &str = "worker";

pub struct TestBed {
    pub pool: PgPool,
    pub broker: BrokerSettings,
    pub topology: Topology,
    /// Where `enqueue` and the consumer hand committed events, as a service
    /// does; the relays of `relay()` take them.
    pub handoff: Handoff,
    /// Tries the consumers' handlers failed during an outage.
    pub outage_failures: Arc<AtomicUsize>,
    /// Messages the consumers' handlers applied in one statement.
    pub applied_alone: Arc<AtomicUsize>,
}

/// Records each message it applies in `effects`, in the order applied, and
/// fails every message whose payload says `"poison": true` until `cures`
/// has a row. While `outage` has a row, every message fails as it does when
/// the database cannot be reached, and `outage_failures` counts the tries.
/// A lone message that is neither is applied in one statement, counted by
/// `applied_alone`, as the services' common cases are.
#[derive(Debug, Clone)]
pub struct Recorder {
    outage_failures: Arc<AtomicUsize>,
    applied_alone: Arc<AtomicUsize>,
    /// Recorded with each effect: which of a test's consumers applied it.
    replica: String,
}

impl Handler for Recorder {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        message: &IncomingMessage,
    ) -> Result<Vec<OutboxMessage>, HandlerError> {
        let down: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outage)")
            .fetch_one(&mut *tx)
            .await?;
        if down {
            self.outage_failures.fetch_add(1, Ordering::SeqCst);
            return Err(DbError::Unavailable(sqlx::Error::PoolTimedOut).into());
        }
        let body: serde_json::Value = message.json()?;
        let cured: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM cures)")
            .fetch_one(&mut *tx)
            .await?;
        if body["poison"] == true && !cured {
            return Err("poison: this message cannot be applied until a cure is recorded".into());
        }
        sqlx::query(
            "INSERT INTO effects (message_id, aggregate, sequence, transaction, replica) \
             VALUES ($1, $2, $3, txid_current(), $4)",
        )
        .bind(message.message_id)
        .bind(&message.aggregate_id)
        .bind(body["sequence"].as_i64().unwrap_or(-1))
        .bind(&self.replica)
        .execute(tx)
        .await?;
        Ok(Vec::new())
    }

    async fn handle_alone(&self, pool: &PgPool, lone: Lone<'_>) -> Result<Option<Vec<Stored>>, HandlerError> {
        let body: serde_json::Value = lone.message.json()?;
        if body["poison"] == true {
            return Ok(None);
        }
        let events = outbox::Rows::new(Vec::new());
        let answer = idempotency::applied_alone!(
            lone,
            events,
            "applied AS ( \
                 INSERT INTO effects (message_id, aggregate, sequence, transaction, replica) \
                 SELECT $10, $11, $12, txid_current(), $13 FROM unseen \
                 WHERE NOT EXISTS (SELECT 1 FROM outage) RETURNING serial)",
            &lone.message.aggregate_id,
            body["sequence"].as_i64().unwrap_or(-1),
            &self.replica
        )
        .fetch_all(pool)
        .await?;
        let written = Lone::written(events, answer);
        if written.is_some() {
            self.applied_alone.fetch_add(1, Ordering::SeqCst);
        }
        Ok(written)
    }
}

pub async fn test_bed() -> TestBed {
    let pool =
        platform::testing::fresh_pool("idempotency", &[&outbox::MIGRATOR, &idempotency::MIGRATOR]).await;
    sqlx::raw_sql(include_str!("../fixtures/test_bed.sql"))
        .execute(&pool)
        .await
        .expect("the test bed's tables");
    let mut broker = BrokerSettings::from_env().expect("broker settings").isolated();
    broker.retry_delay = Duration::from_millis(100);
    broker.max_deliveries = 3;
    let topology = Topology {
        exchanges: vec!["events".into()],
        queues: vec![QueueSpec {
            name: QUEUE.into(),
            bindings: vec![("events".into(), "#".into())],
        }],
    };
    // Declared up front, as a service does at start-up.
    let connection = outbox::broker::connect(&broker, "test bed")
        .await
        .expect("RabbitMQ is running");
    topology
        .declare(&connection, &broker)
        .await
        .expect("topology declared");
    TestBed {
        pool,
        broker,
        topology,
        handoff: Handoff::default(),
        outage_failures: Arc::default(),
        applied_alone: Arc::default(),
    }
}

pub fn event(aggregate: &str, sequence: i64) -> OutboxMessage {
    let payload = serde_json::json!({ "sequence": sequence });
    OutboxMessage::new("events", "test.happened", "TestHappened", 1, aggregate, &payload)
        .expect("serialisable")
}

pub fn poison(aggregate: &str) -> OutboxMessage {
    let payload = serde_json::json!({ "poison": true });
    OutboxMessage::new("events", "test.happened", "TestHappened", 1, aggregate, &payload)
        .expect("serialisable")
}

impl TestBed {
    pub fn consumer(&self) -> Consumer<Recorder> {
        self.replica("test consumer")
    }

    /// A consumer whose effects are recorded as `name`'s: one of several
    /// replicas of a service.
    pub fn replica(&self, name: &str) -> Consumer<Recorder> {
        Consumer::new(
            QUEUE,
            self.pool.clone(),
            self.broker.clone(),
            self.topology.clone(),
            Recorder {
                outage_failures: self.outage_failures.clone(),
                applied_alone: self.applied_alone.clone(),
                replica: name.to_owned(),
            },
            name,
        )
        .handing_off_to(self.handoff.clone())
    }

    pub fn relay(&self) -> Relay {
        let settings = RelaySettings::from_env().expect("relay settings");
        Relay::new(
            self.pool.clone(),
            self.broker.clone(),
            settings,
            self.topology.clone(),
            "test relay",
        )
        .with_handoff(self.handoff.clone())
    }

    pub async fn enqueue(&self, message: &OutboxMessage) {
        let mut tx = self.pool.begin().await.expect("tx");
        let stored = outbox::enqueue(&mut tx, message).await.expect("enqueued");
        tx.commit().await.expect("committed");
        self.handoff.committed(vec![stored]);
    }

    /// Messages whose effect was applied more than once.
    pub async fn applied_twice(&self) -> i64 {
        self.scalar("SELECT count(*) FROM (SELECT message_id FROM effects GROUP BY message_id HAVING count(*) > 1) twice")
            .await
    }

    /// Transactions that applied more than one message.
    pub async fn shared_transactions(&self) -> i64 {
        self.scalar("SELECT count(*) FROM (SELECT transaction FROM effects GROUP BY transaction HAVING count(*) > 1) shared")
            .await
    }

    pub async fn effects(&self) -> i64 {
        self.scalar("SELECT count(*) FROM effects").await
    }

    pub async fn scalar(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.pool)
            .await
            .expect("a count")
    }

    /// A relay running in the background until the result is dropped.
    pub fn run_relay(&self) -> Stop {
        let relay = self.relay();
        Stop::spawn(|stop| relay.run(stop))
    }

    /// The consumer running in the background until the result is dropped.
    pub fn run_consumer(&self) -> Stop {
        let consumer = self.consumer();
        Stop::spawn(|stop| consumer.run(stop))
    }
}

/// Stops a background relay or consumer when dropped.
pub struct Stop {
    _sender: tokio::sync::oneshot::Sender<()>,
}

impl Stop {
    fn spawn<F>(
        run: impl FnOnce(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) -> F,
    ) -> Stop
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let (sender, receiver) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(run(Box::pin(async move {
            let _ = receiver.await;
        })));
        Stop { _sender: sender }
    }
}
