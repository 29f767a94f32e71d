//! `consistency-test floor`: what the saga's guarantees cost by themselves
//! on this machine, as a bound from below for the services' figures.
//!
//! The checkout's three hops (order → stock → payment → order) done by the
//! smallest program that keeps every guarantee the services keep, and
//! nothing else: each step one statement, and so one commit, writing its
//! effect, its inbox row and its next event's outbox row; persistent
//! messages to durable (by default quorum) queues, each publish confirmed
//! before its outbox row is deleted; deliveries taken in batches and acked
//! after the commit; the checkout answered when its last step committed. No
//! HTTP, no gateway, no saga state, timeline or watchdog, one process, one
//! AMQP connection, and three databases on the same server as the services'.
//!
//! What PostgreSQL and RabbitMQ spend per checkout here is about the least
//! the saga's design asks of them: a goal the floor misses at a load is out
//! of reach at that load, on this machine, for an implementation that asks
//! no less of them per checkout (four commits and three confirmed,
//! persistent messages at least).
mod broker;
mod store;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use lapin::{Connection, ConnectionProperties};
use serde::Serialize;
use tokio::task::JoinHandle;
use uuid::Uuid;

use self::broker::{Outgoing, QueueType, Relay, Step as Hop, Waiters};
use self::store::{Checkout, Databases, Tally};
use crate::bench::{GOAL_P50_AT_8_CLIENTS_MS, GOAL_P99_AT_HALF_PEAK_MS};
use crate::cpu::Snapshot;
use crate::stress::{self, Outcome, Sample, Step};

/// A checkout that takes longer has lost a message: the run stops.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, clap::Args)]
pub struct Options {
    /// Closed-loop steps: this many clients, each starting its next
    /// checkout when the previous one is final. An open-loop step at half
    /// the best of them follows, as in `make bench`.
    #[arg(long, value_delimiter = ',', default_value = "1,4,8,16,32,64,128")]
    concurrency: Vec<usize>,
    /// How long each step lasts.
    #[arg(long, default_value_t = 10.0)]
    step_secs: f64,
    /// Rows of each database; checkouts go round them.
    #[arg(long, default_value_t = 20_000)]
    scale: i64,
    /// The PostgreSQL server, without a database name.
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    database_url: String,
    /// The floor's databases are `<prefix>_order`, `_stock` and `_payment`,
    /// created at the start and dropped at the end.
    #[arg(long, default_value = "floor")]
    database_prefix: String,
    #[arg(
        long,
        env = "AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    amqp_url: String,
    /// The queues' type: `classic` asks what quorum queues cost beyond a
    /// single node's durable queue.
    #[arg(long, env = "AMQP_QUEUE_TYPE", value_enum, default_value = "quorum")]
    queue_type: QueueType,
    /// Where to write the report as JSON.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct FloorReport {
    pub queue_type: QueueType,
    pub steps: Vec<Step>,
    /// Checkouts started at half the best step's rate, whatever the
    /// answers' pace.
    pub half_peak: Step,
    /// Final checkouts of all steps.
    pub checkouts: u64,
    pub tally: Tally,
    /// How the tally differs from what the checkouts had to write; empty
    /// when each wrote everything once.
    pub differences: Vec<String>,
}

impl FloorReport {
    pub fn is_consistent(&self) -> bool {
        self.differences.is_empty()
    }
}

/// The three hops' consumers and relays, and what starts a checkout.
struct Saga {
    databases: Databases,
    connection: Connection,
    queues: [String; 3],
    order_relay: Relay,
    waiters: Waiters,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
    consumers: Vec<JoinHandle<anyhow::Result<()>>>,
    accounts: i64,
    next: AtomicU64,
}

pub async fn run(options: &Options) -> anyhow::Result<FloorReport> {
    let clients = options.concurrency.iter().copied().max().unwrap_or(1);
    let saga = Arc::new(Saga::start(options, clients).await?);
    let mut steps = Vec::new();
    for &clients in &options.concurrency {
        let step = saga
            .closed_loop(clients, Duration::from_secs_f64(options.step_secs))
            .await?;
        eprintln!("  {step}");
        steps.push(step);
    }
    let best = stress::best(&steps).map_or(0.0, |step| step.committed_per_sec);
    let half_peak = saga
        .open_loop(best / 2.0, Duration::from_secs_f64(options.step_secs))
        .await?;
    eprintln!("  {half_peak}");
    let saga = Arc::into_inner(saga).context("a checkout outlived its step")?;
    let checkouts = saga.next.load(Ordering::Relaxed);
    let (tally, databases) = saga.stop().await?;
    databases.drop_all().await?;
    Ok(FloorReport {
        queue_type: options.queue_type,
        steps,
        half_peak,
        checkouts,
        differences: tally.differences(checkouts),
        tally,
    })
}

impl Saga {
    async fn start(options: &Options, clients: usize) -> anyhow::Result<Saga> {
        let pool_size = u32::try_from(clients.min(16)).unwrap_or(16);
        let databases = Databases::create(
            &options.database_url,
            &options.database_prefix,
            options.scale,
            pool_size,
        )
        .await?;
        let connection = Connection::connect(&options.amqp_url, ConnectionProperties::default())
            .await
            .context("connecting to RabbitMQ")?;
        let run = Uuid::new_v4().simple().to_string();
        let queues = ["stock", "payment", "order"].map(|to| format!("floor-{run}.{to}"));
        let channel = connection.create_channel().await?;
        for queue in &queues {
            broker::declare(&channel, queue, options.queue_type).await?;
        }
        let [to_stock, to_payment, to_order] = &queues;
        let (order_relay, order_task) = Relay::spawn(&connection, to_stock, databases.order.clone()).await?;
        let (stock_relay, stock_task) =
            Relay::spawn(&connection, to_payment, databases.stock.clone()).await?;
        let (payment_relay, payment_task) =
            Relay::spawn(&connection, to_order, databases.payment.clone()).await?;
        let waiters = Waiters::default();
        let consumers = vec![
            broker::consume(
                &connection,
                to_stock,
                Hop::Take {
                    pool: databases.stock.clone(),
                    relay: stock_relay,
                },
            )
            .await?,
            broker::consume(
                &connection,
                to_payment,
                Hop::Take {
                    pool: databases.payment.clone(),
                    relay: payment_relay,
                },
            )
            .await?,
            broker::consume(
                &connection,
                to_order,
                Hop::Finish {
                    pool: databases.order.clone(),
                    waiters: waiters.clone(),
                },
            )
            .await?,
        ];
        Ok(Saga {
            databases,
            connection,
            queues,
            order_relay,
            waiters,
            tasks: vec![order_task, stock_task, payment_task],
            consumers,
            accounts: options.scale.max(1),
            next: AtomicU64::new(0),
        })
    }

    /// `clients` loops, each starting its next checkout when the previous
    /// one is final, until `duration` has passed.
    async fn closed_loop(self: &Arc<Self>, clients: usize, duration: Duration) -> anyhow::Result<Step> {
        let cpu = Snapshot::take();
        let started = Instant::now();
        let deadline = started + duration;
        let loops: Vec<_> = (0..clients)
            .map(|_| {
                let saga = Arc::clone(self);
                tokio::spawn(async move {
                    let mut samples = Vec::new();
                    while Instant::now() < deadline {
                        let at_secs = started.elapsed().as_secs_f64();
                        let latency = saga.checkout().await?;
                        samples.push(Sample {
                            at_secs,
                            latency,
                            outcome: Outcome::Committed,
                        });
                    }
                    anyhow::Ok(samples)
                })
            })
            .collect();
        let mut samples = Vec::new();
        for finished in futures::future::join_all(loops).await {
            samples.extend(finished??);
        }
        let end = Snapshot::take();
        Ok(Step::of(clients, 0.0, started.elapsed(), &samples, [&cpu, &end]))
    }

    /// A checkout started every `1/rate` seconds for `duration`.
    async fn open_loop(self: &Arc<Self>, rate: f64, duration: Duration) -> anyhow::Result<Step> {
        let cpu = Snapshot::take();
        let started = Instant::now();
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1.0)));
        let mut running = Vec::new();
        while started.elapsed() < duration {
            ticks.tick().await;
            let saga = Arc::clone(self);
            let at_secs = started.elapsed().as_secs_f64();
            running.push(tokio::spawn(async move {
                let latency = saga.checkout().await?;
                anyhow::Ok(Sample {
                    at_secs,
                    latency,
                    outcome: Outcome::Committed,
                })
            }));
        }
        let mut samples = Vec::new();
        for finished in futures::future::join_all(running).await {
            samples.push(finished??);
        }
        let end = Snapshot::take();
        Ok(Step::of(0, rate, started.elapsed(), &samples, [&cpu, &end]))
    }

    /// One checkout, from its first commit until its last step committed.
    async fn checkout(&self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let checkout = Checkout {
            id,
            account: (id % self.accounts as u64) as i64,
        };
        let final_ = self.waiters.wait_for(id);
        let body = serde_json::to_string(&checkout)?;
        let message_id = Uuid::new_v4();
        let outbox_id = store::start(&self.databases.order, checkout, message_id, &body).await?;
        self.order_relay.send(vec![Outgoing {
            outbox_id,
            message_id,
            body: body.into_bytes(),
        }])?;
        tokio::time::timeout(CHECKOUT_TIMEOUT, final_)
            .await
            .with_context(|| {
                format!("checkout {id} not final after {CHECKOUT_TIMEOUT:?}: a relay or consumer failed")
            })?
            .context("the order's consumer stopped")?;
        Ok(started.elapsed())
    }

    /// Stops the consumers (every checkout is final), lets each relay
    /// delete its confirmed rows, deletes the queues and tallies.
    async fn stop(self) -> anyhow::Result<(Tally, Databases)> {
        for consumer in &self.consumers {
            consumer.abort();
        }
        for consumer in self.consumers {
            if let Ok(result) = consumer.await {
                result?;
            }
        }
        drop(self.order_relay);
        for task in self.tasks {
            task.await??;
        }
        let channel = self.connection.create_channel().await?;
        for queue in &self.queues {
            broker::delete(&channel, queue).await?;
        }
        self.connection.close(200, "floor measured".into()).await?;
        let tally = self.databases.tally().await?;
        Ok((tally, self.databases))
    }
}

impl fmt::Display for FloorReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "floor: the saga's three hops with their guarantees and nothing else \
             (one process, one AMQP connection, one statement a step, {} queues):",
            self.queue_type.as_str()
        )?;
        for step in self.steps.iter().chain([&self.half_peak]) {
            writeln!(f, "  {step}")?;
        }
        if let Some(best) = stress::best(&self.steps) {
            writeln!(
                f,
                "floor peak: {:.1} committed/s at {} clients; p99 at half of it: {:.1} ms \
                 (the saga's goal: at most {GOAL_P99_AT_HALF_PEAK_MS} ms)",
                best.committed_per_sec, best.concurrency, self.half_peak.latency.p99_ms
            )?;
        }
        if let Some(step) = self.steps.iter().find(|step| step.concurrency == 8) {
            writeln!(
                f,
                "floor p50 at 8 clients: {:.1} ms (the saga's goal: at most {GOAL_P50_AT_8_CLIENTS_MS} ms)",
                step.latency.p50_ms
            )?;
        }
        if self.is_consistent() {
            write!(
                f,
                "each of the {} checkouts wrote everything once",
                self.checkouts
            )
        } else {
            write!(f, "the writes differ: {}", self.differences.join("; "))
        }
    }
}
