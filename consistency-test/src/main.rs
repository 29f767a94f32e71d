//! The webshop's consistency harness: it talks to the system only through
//! the public HTTP contract, so it checks any implementation of it.
//!
//! ```text
//! consistency-test consistency [--url URL] [--multi-item] [--fault-after N --fault-command CMD]
//! consistency-test latency     [--url URL] [--checkouts N] [--rate PER_SECOND]
//! ```
//! Exit status 0 only when every figure is 0.
mod client;
mod latency;
mod report;
mod scenario;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "Load the webshop through its HTTP contract and prove its invariants")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The course scenario: concurrent checkouts of scarce stock by users
    /// with little credit; reads the state back and counts inconsistencies.
    Consistency(scenario::Options),
    /// Checkout latency percentiles at a steady rate of payable checkouts.
    Latency(latency::Options),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Consistency(options) => {
            let report = scenario::run(&options).await?;
            println!("{report}");
            if !report.is_consistent() {
                anyhow::bail!("{} inconsistencies", report.total_inconsistencies());
            }
        }
        Command::Latency(options) => latency::run(&options).await?,
    }
    Ok(())
}
