//! `make bench`: the saga's checkout throughput at its best concurrency,
//! beside the ceiling a single PostgreSQL transaction sets for the same
//! checkout on the same machine in the same run, and the saga's latency at
//! half its peak load.
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use crate::monolith::{MonolithResult, Target};
use crate::stress::{Load, Run, Step, StressReport};

#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(flatten)]
    urls: crate::client::Urls,
    #[command(flatten)]
    load: Load,
    #[command(flatten)]
    monolith: Target,
    /// Where to write the report as JSON.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub saga: StressReport,
    pub best: Step,
    pub half_peak: Step,
    pub monolith: MonolithResult,
    pub ratio: f64,
}

pub async fn run(options: &Options) -> anyhow::Result<BenchReport> {
    let shop = options.urls.shop()?;
    let step = Duration::from_secs_f64(options.load.step_secs);
    let mut saga = Run::prepare(&shop, options.load.scale).await?;
    saga.closed_loop_steps(&shop, &options.load).await;
    let best = saga.best().context("no closed-loop step ran")?;
    eprintln!("half the peak load, open loop:");
    let half_peak = saga.open_loop(&shop, best.committed_per_sec / 2.0, step).await;
    eprintln!("monolith: pgbench with {} clients", best.concurrency);
    options.monolith.prepare(options.load.scale).await?;
    let monolith = options
        .monolith
        .run(options.load.scale, best.concurrency, step)
        .await?;
    let saga = saga.finish(&options.load.plots)?;
    Ok(BenchReport {
        ratio: best.committed_per_sec / monolith.committed_per_sec,
        saga,
        best,
        half_peak,
        monolith,
    })
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.saga)?;
        let (best, half) = (&self.best, &self.half_peak);
        writeln!(
            f,
            "saga checkout: {:.1} committed/s at {} clients (p50 {:.1} ms, p99 {:.1} ms)",
            best.committed_per_sec, best.concurrency, best.latency.p50_ms, best.latency.p99_ms
        )?;
        writeln!(
            f,
            "monolith checkout (one PostgreSQL transaction, pgbench, {} clients): {:.1} committed/s",
            self.monolith.clients, self.monolith.committed_per_sec
        )?;
        writeln!(
            f,
            "p99 at half the peak load ({:.0} checkouts/s, open loop): {:.1} ms (goal: at most 50 ms)",
            half.rate, half.latency.p99_ms
        )?;
        write!(f, "ratio saga/monolith: {:.2} (goal: at least 0.5)", self.ratio)
    }
}
