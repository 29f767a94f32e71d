//! The ceiling reference of `make bench`: the same checkout as one
//! PostgreSQL transaction over equivalent tables (`monolith/*.sql`), driven
//! by pgbench at stepped client counts, each no more than the server has
//! connections left for. The best step is the ceiling.
use std::fmt;
use std::time::Duration;

use anyhow::{Context, ensure};
use serde::Serialize;

use crate::cpu::{CpuUsage, Snapshot};
use crate::pgbench;
use crate::progress::Phase;
use crate::psql::{self, psql};

const SCHEMA: &str = include_str!("../monolith/schema.sql");
/// Connections left unused when pgbench's client count is chosen: room for
/// psql, autovacuum and a service pool that grows while pgbench runs.
const SPARE_CONNECTIONS: i64 = 5;
const PAID: &str = "SELECT count(*) FROM orders WHERE paid";
/// How many orders the sequence has handed out (checkout.sql takes each
/// order as `(nextval - 1) % scale`).
const HANDED_OUT: &str = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM next_order";

/// Where the reference database lives.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The PostgreSQL server, without a database name (a password from
    /// `PGPASSWORD` or `~/.pgpass` where none is given).
    #[arg(
        long,
        env = "MONOLITH_URL",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    monolith_url: String,
    /// Dropped and created again at every run.
    #[arg(long, default_value = "bench_monolith")]
    monolith_database: String,
}

/// One pgbench run at one client count.
#[derive(Debug, Clone, Serialize)]
pub struct MonolithStep {
    /// As asked for; `clients` is less when the server had fewer connections.
    pub requested_clients: usize,
    pub clients: usize,
    pub duration_secs: u64,
    /// Orders the step marked paid.
    pub committed: u64,
    pub committed_per_sec: f64,
    /// pgbench's own figures (they count a checkout of a paid order too).
    pub pgbench_tps: f64,
    pub pgbench_latency_average_ms: f64,
    /// The sequence went past the last order: some checkouts were repeats,
    /// so `committed_per_sec` is a floor.
    pub orders_ran_out: bool,
    pub cpu: CpuUsage,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonolithReport {
    pub steps: Vec<MonolithStep>,
    /// The step with the most committed checkouts per second.
    pub best: MonolithStep,
}

impl Target {
    fn url(&self) -> String {
        psql::url(&self.monolith_url, &self.monolith_database)
    }

    /// pgbench at each of `clients`, `duration` each, on a fresh database
    /// with `scale` items, users and orders; a fresh one again before a step
    /// whose checkouts the orders left might not last.
    pub async fn run(
        &self,
        scale: usize,
        clients: &[usize],
        duration: Duration,
    ) -> anyhow::Result<MonolithReport> {
        let seconds = duration.as_secs().max(1);
        self.prepare(scale).await?;
        let phase = Phase::new("monolith steps", clients.len());
        let mut steps: Vec<MonolithStep> = Vec::new();
        for &requested in clients {
            phase.advance(1);
            let clients = self.clamp(requested).await?;
            if steps.iter().any(|s| s.clients == clients) {
                eprintln!("monolith: {clients} clients measured already: step skipped");
                continue;
            }
            self.refill(scale, steps.last(), seconds).await?;
            let step = self.step(scale, requested, clients, seconds).await?;
            eprintln!("  {step}");
            steps.push(step);
        }
        phase.finish(&format!("{} steps", steps.len()));
        let best = steps
            .iter()
            .max_by(|a, b| a.committed_per_sec.total_cmp(&b.committed_per_sec))
            .cloned()
            .context("no monolith step ran")?;
        Ok(MonolithReport { steps, best })
    }

    /// A fresh database with `scale` items, users and orders, vacuumed.
    async fn prepare(&self, scale: usize) -> anyhow::Result<()> {
        let db = &self.monolith_database;
        psql(
            &psql::url(&self.monolith_url, "postgres"),
            &[
                "-c",
                &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
                "-c",
                &format!("CREATE DATABASE {db}"),
            ],
            None,
        )
        .await?;
        psql(
            &self.url(),
            &["-v", &format!("scale={scale}"), "-f", "-"],
            Some(SCHEMA),
        )
        .await?;
        Ok(())
    }

    /// A fresh database when the orders not handed out yet might not last
    /// the next step, judged by the step before it: a repeated order is not
    /// counted, so the step would read low.
    async fn refill(&self, scale: usize, last: Option<&MonolithStep>, seconds: u64) -> anyhow::Result<()> {
        // Throughput at most doubles from one step to the next.
        let need = last.map_or(0.0, |s| s.committed_per_sec * seconds as f64 * 2.0);
        let left = (scale as i64 - psql::number(&self.url(), HANDED_OUT).await?).max(0);
        if (left as f64) < need {
            eprintln!("monolith: {left} orders left, the next step may take {need:.0}: prepared afresh");
            self.prepare(scale).await?;
        }
        Ok(())
    }

    /// `requested` clients, or as many as the server has connections left
    /// for, less a margin.
    async fn clamp(&self, requested: usize) -> anyhow::Result<usize> {
        let free = psql::free_connections(&self.monolith_url).await?;
        let usable = free - SPARE_CONNECTIONS;
        ensure!(
            usable >= 1,
            "PostgreSQL has {free} connections free, none to spare for pgbench"
        );
        let clients = requested.min(usable as usize);
        if clients < requested {
            eprintln!(
                "monolith: {requested} clients clamped to {clients} (PostgreSQL has {free} connections free)"
            );
        }
        Ok(clients)
    }

    async fn step(
        &self,
        scale: usize,
        requested: usize,
        clients: usize,
        seconds: u64,
    ) -> anyhow::Result<MonolithStep> {
        let url = self.url();
        let paid_before = psql::number(&url, PAID).await?;
        let start = Snapshot::take();
        let figures = pgbench::run(&url, scale, clients, seconds).await?;
        let end = Snapshot::take();
        let committed = u64::try_from(psql::number(&url, PAID).await? - paid_before)?;
        let handed_out = psql::number(&url, HANDED_OUT).await?;
        let orders_ran_out = handed_out > scale as i64;
        if orders_ran_out {
            eprintln!("monolith: the {scale} orders ran out at {clients} clients; raise --scale");
        }
        Ok(MonolithStep {
            requested_clients: requested,
            clients,
            duration_secs: seconds,
            committed,
            committed_per_sec: committed as f64 / seconds as f64,
            pgbench_tps: figures.tps,
            pgbench_latency_average_ms: figures.latency_average_ms,
            orders_ran_out,
            cpu: end.since(&start, committed as usize),
        })
    }
}

impl fmt::Display for MonolithStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>4} clients: {:>7.1} committed/s  pgbench latency average {:>6.1} ms  pgbench tps {:.1}",
            self.clients, self.committed_per_sec, self.pgbench_latency_average_ms, self.pgbench_tps
        )?;
        if self.clients < self.requested_clients {
            write!(f, "  (asked for {})", self.requested_clients)?;
        }
        if self.orders_ran_out {
            write!(f, "  orders ran out: a floor")?;
        }
        write!(f, "\n{}", self.cpu)
    }
}

impl fmt::Display for MonolithReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "monolith steps (one PostgreSQL transaction per checkout, pgbench):"
        )?;
        for step in &self.steps {
            writeln!(f, "  {step}")?;
        }
        Ok(())
    }
}
