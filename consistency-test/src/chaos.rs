//! The scenarios while faults are injected on a schedule: one fault per
//! round, each repaired before the next round starts, every round on fresh
//! items, users and orders so its figures are its own.
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;
use tokio::sync::oneshot;

use crate::client::Shop;
use crate::fault;
use crate::progress::Phase;
use crate::report::Report;
use crate::scenario::{self, Shape, Trigger, World};

#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(flatten)]
    urls: crate::client::Urls,
    /// Faults, in the order they are injected; each name is given to the
    /// inject and repair commands.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "kill:stock-1,kill:payment-1,kill:order-1,broker,database"
    )]
    faults: Vec<String>,
    /// Run every fault in the single-item scenario and in the multi-item one.
    #[arg(long)]
    multi_item_too: bool,
    /// Users, orders and concurrent checkouts per round.
    #[arg(long, default_value_t = 1000)]
    checkouts: usize,
    /// Inject the fault once this many checkouts of the round have answered.
    #[arg(long, default_value_t = 200)]
    fault_after: usize,
    /// How long the system stays broken before the repair command runs.
    #[arg(long, default_value_t = 1.0)]
    hold_secs: f64,
    /// `{fault}` is replaced by the fault's name.
    #[arg(long, default_value = "deploy/local/fault.sh inject {fault}")]
    inject: String,
    #[arg(long, default_value = "deploy/local/fault.sh repair {fault}")]
    repair: String,
    /// How long to wait for health before a round, and for every saga to
    /// end after the repair, before giving up.
    #[arg(long, default_value_t = 120)]
    settle_timeout_secs: u64,
    /// Where to write the report as JSON.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct Round {
    pub fault: String,
    /// From the inject command's start to the repair command's end.
    pub broken_secs: f64,
    /// From the repair command's end until every saga of the round had ended.
    pub repair_to_final_secs: f64,
    pub result: Report,
}

#[derive(Debug, Default, Serialize)]
pub struct ChaosReport {
    pub rounds: Vec<Round>,
}

impl ChaosReport {
    pub fn total_inconsistencies(&self) -> u64 {
        self.rounds.iter().map(|r| r.result.total_inconsistencies()).sum()
    }
}

pub async fn run(options: &Options) -> anyhow::Result<ChaosReport> {
    let shop = options.urls.shop()?;
    let settle = Duration::from_secs(options.settle_timeout_secs);
    let mut shapes = vec![false];
    if options.multi_item_too {
        shapes.push(true);
    }
    let mut report = ChaosReport::default();
    for multi_item in shapes {
        for fault in &options.faults {
            let shape = Shape {
                checkouts: options.checkouts,
                stock: options.checkouts as i64 / 10,
                multi_item,
                setup_concurrency: 64,
            };
            eprintln!("chaos: {fault} during the {} scenario", shape.name());
            wait_until_healthy(&shop, settle).await?;
            let round = round(&shop, &shape, fault, options, settle)
                .await
                .with_context(|| format!("round {fault}, {}", shape.name()))?;
            eprintln!("{round}");
            report.rounds.push(round);
        }
    }
    Ok(report)
}

async fn round(
    shop: &Shop,
    shape: &Shape,
    fault: &str,
    options: &Options,
    settle: Duration,
) -> anyhow::Result<Round> {
    let world = scenario::set_up(shop, shape).await?;
    let plan = fault::Plan {
        inject: options.inject.replace("{fault}", fault),
        hold: Duration::from_secs_f64(options.hold_secs),
        repair: Some(options.repair.replace("{fault}", fault)),
    };
    let (now, signal) = oneshot::channel();
    let injecting = tokio::spawn(fault::when_signalled(signal, plan));
    let trigger = Trigger {
        after: options.fault_after,
        now,
    };
    let checkouts = scenario::check_out_all(shop, &world, Some(trigger)).await;
    let Some(injected) = injecting.await?? else {
        bail!(
            "the fault was never injected: fewer than {} checkouts answered",
            options.fault_after
        );
    };
    let final_at = match sagas_final_at(shop, &world, settle).await? {
        Some(at) => at.max(checkouts.last_answer),
        None => checkouts.last_answer,
    };
    let mut result = Report::compare(shop, &world, &checkouts).await?;
    result.scenario = shape.name().to_owned();
    result.in_flight_at_fault = Some(injected.in_flight);
    result.in_flight_once_broken = Some(injected.in_flight_once_broken);
    Ok(Round {
        fault: fault.to_owned(),
        broken_secs: injected
            .repaired_at
            .duration_since(injected.injected_at)
            .as_secs_f64(),
        repair_to_final_secs: final_at
            .saturating_duration_since(injected.repaired_at)
            .as_secs_f64(),
        result,
    })
}

/// When no saga of the round was still running, read through the status
/// endpoint; `None` when the system has no such endpoint, so the last
/// answer is all there is to go by.
async fn sagas_final_at(shop: &Shop, world: &World, timeout: Duration) -> anyhow::Result<Option<Instant>> {
    let deadline = Instant::now() + timeout;
    let mut running: Vec<&str> = world.orders.iter().map(|o| o.id.as_str()).collect();
    loop {
        let states = stream::iter(running.iter().copied())
            .map(|id| async move { anyhow::Ok((id, shop.saga_state(id).await?)) })
            .buffer_unordered(64)
            .try_collect::<Vec<_>>()
            .await?;
        if states.iter().any(|(_, state)| state.is_none()) {
            return Ok(None);
        }
        running = states
            .into_iter()
            .filter(|(_, state)| state.as_deref() == Some("checking_out"))
            .map(|(id, _)| id)
            .collect();
        if running.is_empty() {
            return Ok(Some(Instant::now()));
        }
        if Instant::now() > deadline {
            bail!(
                "{} sagas still running {timeout:?} after the repair",
                running.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_until_healthy(shop: &Shop, timeout: Duration) -> anyhow::Result<()> {
    let phase = Phase::new("waiting for health", 1);
    let deadline = Instant::now() + timeout;
    while !shop.is_healthy().await {
        if Instant::now() > deadline {
            bail!("the system was not healthy within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    phase.finish("every service healthy");
    Ok(())
}

impl fmt::Display for Round {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.result;
        write!(
            f,
            "{:<16} {:<12} {:>8.1} s {:>15} {:>15} {:>13} {:>6} {:>7} {:>12.2}",
            self.fault,
            r.scenario,
            self.broken_secs,
            format!(
                "{} / {}",
                r.in_flight_at_fault.unwrap_or(0),
                r.in_flight_once_broken.unwrap_or(0)
            ),
            r.total_inconsistencies(),
            r.other_answers,
            r.succeeded,
            r.refused,
            self.repair_to_final_secs
        )
    }
}

impl fmt::Display for ChaosReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<16} {:<12} {:>10} {:>15} {:>15} {:>13} {:>6} {:>7} {:>12}",
            "fault",
            "scenario",
            "broken for",
            "in flight*",
            "inconsistencies",
            "other answers",
            "2xx",
            "4xx",
            "repair→final"
        )?;
        for round in &self.rounds {
            writeln!(f, "{round} s")?;
        }
        let failed = self.rounds.iter().filter(|r| !r.result.is_consistent()).count();
        writeln!(
            f,
            "* checkouts not answered when the inject command started / when it had returned"
        )?;
        write!(f, "chaos: {} passed, {failed} failed", self.rounds.len() - failed)
    }
}
