//! The webshop's consistency, chaos and stress harness. It talks to the
//! system only through the public HTTP contract (one gateway URL, or one URL
//! per service), so it checks any implementation of that contract.
//!
//! ```text
//! consistency-test consistency [--multi-item] [--fault-after N --fault-command CMD]
//! consistency-test chaos       [--faults kill:stock-1,broker,...] [--multi-item-too]
//! consistency-test stress      [--scale N] [--concurrency 4,8,...] [--rate R]
//! consistency-test bench       [--scale N] [--concurrency 4,8,...] [--monolith-concurrency 4,8,...]
//! consistency-test floor       [--concurrency 1,8,...] [--step-secs S]
//! consistency-test scale       [--replicas 1,2,4] [--partitions 1,8] [--cpu-percent P]
//! ```
//! Every subcommand prints a summary, writes it as JSON with `--report FILE`,
//! and exits non-zero when an invariant was broken.
mod bench;
mod chaos;
mod client;
mod cpu;
mod fault;
mod floor;
mod latency;
mod monolith;
mod pgbench;
mod plot;
mod procfs;
mod progress;
mod psql;
mod report;
mod scale;
mod scenario;
mod stress;

use std::path::Path;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde::Serialize;

#[derive(Debug, Parser)]
#[command(about = "Load the webshop through its HTTP contract, break it, and prove its invariants")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The course scenario: concurrent checkouts of scarce stock by users
    /// with little credit; reads the state back and counts inconsistencies.
    Consistency(scenario::Options),
    /// The scenario once per fault: SIGKILL of replicas, broker and database
    /// restarts, each injected mid-run and repaired before the next.
    Chaos(chaos::Options),
    /// Checkouts of batch-initialised orders at stepped concurrency (or one
    /// open-loop rate): committed checkouts/s, latency percentiles, plots.
    Stress(stress::Options),
    /// The stress test at its best concurrency beside the same checkout as
    /// one PostgreSQL transaction (pgbench) at its own best: the ratio of
    /// the two, and the CPU and thread switches per checkout of each process.
    Bench(bench::Options),
    /// The checkout's three hops done by the smallest program that keeps the
    /// saga's guarantees, straight on PostgreSQL and RabbitMQ: what those
    /// guarantees cost by themselves, a bound from below for the services.
    Floor(floor::Options),
    /// Checkouts/s with 1, 2 and 4 replicas of each service, each replica
    /// capped at the same CPU share (a cgroup quota), once per design:
    /// one active consumer a stream, and partitioned streams.
    Scale(scale::Options),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Consistency(options) => {
            let report = scenario::run(&options).await?;
            println!("{report}");
            write_json(options.report.as_deref(), &report)?;
            if !report.is_consistent() {
                bail!("{} inconsistencies", report.total_inconsistencies());
            }
        }
        Command::Chaos(options) => {
            let report = chaos::run(&options).await?;
            println!("{report}");
            write_json(options.report.as_deref(), &report)?;
            let failed = report.rounds.iter().filter(|round| !round.passed()).count();
            if failed > 0 {
                bail!(
                    "{failed} rounds failed: {} inconsistencies, {} parked messages, {} sagas not final",
                    report.total_inconsistencies(),
                    report.rounds.iter().filter_map(|round| round.parked).sum::<u64>(),
                    report.rounds.iter().map(|round| round.not_final).sum::<usize>()
                );
            }
        }
        Command::Stress(options) => {
            let report = stress::run(&options).await?;
            println!("{report}");
            write_json(options.report.as_deref(), &report)?;
        }
        Command::Bench(options) => {
            let report = bench::run(&options).await?;
            println!("{report}");
            write_json(options.report.as_deref(), &report)?;
        }
        Command::Floor(options) => {
            let report = floor::run(&options).await?;
            println!("{report}");
            write_json(options.report.as_deref(), &report)?;
            if !report.is_consistent() {
                bail!("the floor's writes differ: {}", report.differences.join("; "));
            }
        }
        Command::Scale(options) => {
            let report = scale::run(&options).await?;
            println!("{report}");
            write_json(options.report.as_deref(), &report)?;
            if !report.failed.is_empty() {
                bail!("{} points failed", report.failed.len());
            }
        }
    }
    Ok(())
}

fn write_json(path: Option<&Path>, report: &impl Serialize) -> anyhow::Result<()> {
    let Some(path) = path else { return Ok(()) };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_vec_pretty(report)?)
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("report written to {}", path.display());
    Ok(())
}
