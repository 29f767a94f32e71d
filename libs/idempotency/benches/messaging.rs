//! Relay throughput and commit-to-consumer latency, measured in one run on
//! the real PostgreSQL and RabbitMQ (`make bench-messaging`).
//!
//! - Throughput: `BENCH_EVENTS` (20 000) events committed up front, then the
//!   time until a relay has published them all and the outbox is empty;
//!   three runs, the median reported with each run.
//! - Latency: `BENCH_LATENCY_EVENTS` (2 000) events committed one per
//!   transaction at `BENCH_RATE` (500) per second while a relay and an
//!   idempotent consumer run, each handed to the relay after its commit as
//!   the services do; from just before each commit to the moment the
//!   consumer's handler sees the event. p50, p99 and max.
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use idempotency::{Consumer, Handler, HandlerError, IncomingMessage};
use outbox::topology::{QueueSpec, Topology};
use outbox::{BrokerSettings, OutboxMessage, Relay, RelaySettings};
use sqlx::{PgConnection, PgPool};

#[derive(Clone)]
struct Stopwatch(Arc<Mutex<Vec<Duration>>>);

impl Handler for Stopwatch {
    async fn handle(
        &self,
        _tx: &mut PgConnection,
        message: &IncomingMessage,
    ) -> Result<Vec<OutboxMessage>, HandlerError> {
        let body: serde_json::Value = message.json()?;
        let sent = Duration::from_micros(body["sent_us"].as_u64().unwrap_or(0));
        let latency = now_since_epoch().saturating_sub(sent);
        self.0.lock().map_err(|_| "poisoned lock")?.push(latency);
        Ok(Vec::new())
    }
}

fn now_since_epoch() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn event(sequence: u64) -> OutboxMessage {
    let payload =
        serde_json::json!({ "sequence": sequence, "sent_us": now_since_epoch().as_micros() as u64 });
    let aggregate = format!("order-{}", sequence % 1000);
    OutboxMessage::new(
        "events",
        "bench.happened",
        "BenchHappened",
        1,
        &aggregate,
        &payload,
    )
    .expect("JSON")
}

fn topology() -> Topology {
    Topology {
        exchanges: vec!["events".into()],
        queues: vec![QueueSpec {
            name: "bench".into(),
            bindings: vec![("events".into(), "#".into())],
        }],
    }
}

async fn fresh() -> (PgPool, BrokerSettings) {
    let pool = platform::testing::fresh_pool("bench", &[&outbox::MIGRATOR, &idempotency::MIGRATOR]).await;
    let broker = BrokerSettings::from_env().expect("broker settings").isolated();
    (pool, broker)
}

fn relay(pool: &PgPool, broker: &BrokerSettings) -> Relay {
    let settings = RelaySettings::from_env().expect("relay settings");
    Relay::new(pool.clone(), broker.clone(), settings, topology(), "bench relay")
}

async fn throughput_run(events: u64) -> f64 {
    let (pool, broker) = fresh().await;
    let mut tx = pool.begin().await.expect("tx");
    for sequence in 0..events {
        outbox::enqueue(&mut tx, &event(sequence))
            .await
            .expect("enqueued");
    }
    tx.commit().await.expect("committed");
    let mut relay = relay(&pool, &broker);
    relay.relay_once().await.expect("warm-up: connect and declare");
    let started = Instant::now();
    while relay.relay_once().await.expect("relayed") > 0 {}
    let elapsed = started.elapsed();
    assert_eq!(outbox::pending_count(&pool).await.expect("count"), 0);
    (events - 200) as f64 / elapsed.as_secs_f64()
}

async fn latency_run(events: u64, rate: u64) -> Vec<Duration> {
    let (pool, broker) = fresh().await;
    let seen = Stopwatch(Arc::new(Mutex::new(Vec::new())));
    let consumer = Consumer::new(
        "bench",
        pool.clone(),
        broker.clone(),
        topology(),
        seen.clone(),
        "bench",
    );
    let (stop, stopped) = tokio::sync::watch::channel(());
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<()>| async move {
        let _ = rx.changed().await;
    };
    let relay = relay(&pool, &broker);
    let handoff = relay.handoff();
    tokio::spawn(consumer.run(until_stopped(stopped.clone())));
    tokio::spawn(relay.run(until_stopped(stopped)));
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    for sequence in 0..events {
        ticks.tick().await;
        let mut tx = pool.begin().await.expect("tx");
        let stored = outbox::enqueue(&mut tx, &event(sequence))
            .await
            .expect("enqueued");
        tx.commit().await.expect("committed");
        handoff.committed(vec![stored]);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.0.lock().expect("lock").len() < events as usize && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(());
    let mut latencies = seen.0.lock().expect("lock").clone();
    latencies.sort();
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let events = env("BENCH_EVENTS", 20_000);
    let mut runs = Vec::new();
    for _ in 0..3 {
        runs.push(throughput_run(events).await);
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let shown: Vec<String> = runs.iter().map(|r| format!("{r:.0}")).collect();
    println!(
        "relay throughput: {:.0} events/s (median of 3 runs of {events} events: {})",
        sorted[1],
        shown.join(", ")
    );

    let (count, rate) = (env("BENCH_LATENCY_EVENTS", 2_000), env("BENCH_RATE", 500));
    let latencies = latency_run(count, rate).await;
    assert_eq!(latencies.len() as u64, count, "every event reached the consumer");
    println!(
        "commit-to-consumer latency ({count} events at {rate}/s): p50 {}, p99 {}, max {}",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 1.0))
    );
}
