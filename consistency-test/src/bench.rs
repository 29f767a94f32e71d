//! `make bench`: the saga's checkout throughput at its best concurrency,
//! beside the ceiling a single PostgreSQL transaction sets for the same
//! checkout on the same machine in the same run (at the monolith's own best
//! concurrency), the saga's latency at half its peak load, and the CPU each
//! process spent per checkout in every step.
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::monolith::{MonolithReport, Target};
use crate::psql;
use crate::stress::{Load, Run, Step, StressReport};

/// The goals `make bench` is measured against: the p99 at half the peak
/// load, the p50 at 8 clients, and the saga's share of the monolith's
/// checkouts per second. The floor prints its figures beside the first two.
pub const GOAL_P99_AT_HALF_PEAK_MS: f64 = 50.0;
pub const GOAL_P50_AT_8_CLIENTS_MS: f64 = 15.0;
pub const GOAL_RATIO: f64 = 0.25;

#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(flatten)]
    urls: crate::client::Urls,
    #[command(flatten)]
    load: Load,
    #[command(flatten)]
    monolith: Target,
    /// The monolith's steps: pgbench with this many clients each (fewer
    /// when PostgreSQL has fewer connections left).
    #[arg(long, value_delimiter = ',', default_value = "4,8,16,32,64")]
    monolith_concurrency: Vec<usize>,
    /// The PostgreSQL server of the saga's databases, without a database
    /// name (a password from `PGPASSWORD` or `~/.pgpass` where none is
    /// given).
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    database_url: String,
    /// Vacuumed after batch_init, so the saga starts from tables in the
    /// state the monolith's do (its schema.sql ends with `VACUUM ANALYZE`).
    #[arg(long, value_delimiter = ',', default_value = "order_db,stock_db,payment_db")]
    saga_databases: Vec<String>,
    /// Where to write the report as JSON.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub saga: StressReport,
    pub best: Step,
    pub half_peak: Step,
    pub monolith: MonolithReport,
    /// Saga best over monolith best, in committed checkouts per second.
    pub ratio: f64,
}

pub async fn run(options: &Options) -> anyhow::Result<BenchReport> {
    let shop = options.urls.shop()?;
    let step = Duration::from_secs_f64(options.load.step_secs);
    let mut saga = Run::prepare(&shop, options.load.scale).await?;
    let vacuumed = psql::vacuum_analyze(&options.database_url, &options.saga_databases).await?;
    eprintln!(
        "VACUUM ANALYZE after batch_init: {} (of {})",
        vacuumed.join(", "),
        options.saga_databases.join(", ")
    );
    saga.closed_loop_steps(&shop, &options.load).await;
    let best = saga.best().context("no closed-loop step ran")?;
    eprintln!("half the peak load, open loop:");
    let half_peak = saga.open_loop(&shop, best.committed_per_sec / 2.0, step).await;
    let monolith = options
        .monolith
        .run(options.load.scale, &options.monolith_concurrency, step)
        .await?;
    let saga = saga.finish(&options.load.plots)?;
    Ok(BenchReport {
        ratio: best.committed_per_sec / monolith.best.committed_per_sec,
        saga,
        best,
        half_peak,
        monolith,
    })
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.saga, self.monolith)?;
        let (best, half, monolith) = (&self.best, &self.half_peak, &self.monolith.best);
        writeln!(
            f,
            "saga checkout: {:.1} committed/s at {} clients (p50 {:.1} ms, p99 {:.1} ms)",
            best.committed_per_sec, best.concurrency, best.latency.p50_ms, best.latency.p99_ms
        )?;
        writeln!(
            f,
            "monolith checkout (one PostgreSQL transaction, pgbench): {:.1} committed/s at {} clients",
            monolith.committed_per_sec, monolith.clients
        )?;
        writeln!(
            f,
            "p99 at half the peak load ({:.0} checkouts/s, open loop): {:.1} ms (goal: at most {GOAL_P99_AT_HALF_PEAK_MS} ms)",
            half.rate, half.latency.p99_ms
        )?;
        let at_8 = self.saga.steps.iter().find(|s| s.concurrency == 8);
        if let Some(step) = at_8 {
            writeln!(
                f,
                "checkout p50 at 8 clients: {:.1} ms (goal: at most {GOAL_P50_AT_8_CLIENTS_MS} ms)",
                step.latency.p50_ms
            )?;
        }
        write!(
            f,
            "ratio saga/monolith: {:.2} (goal: at least {GOAL_RATIO})",
            self.ratio
        )
    }
}
