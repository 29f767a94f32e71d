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
    /// inject and repair commands. `<fault>@<secs>` holds that fault for
    /// that long instead of `--hold-secs` (e.g. `database@60`).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "kill:stock-1,kill:payment-1,kill:order-1,broker,database,database@60,broker-kill@10,broker-cut:order-1,broker-cut:stock-1"
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
    /// Counts the messages in the parking lots after each round: prints
    /// `<queue> <messages>` lines, of which those of queues ending in
    /// `.parked` and starting with `<amqp namespace>.` are summed. The
    /// default asks the broker `make up` runs on, the machine's node or the
    /// three-node cluster.
    #[arg(long, default_value = "deploy/local/fault.sh list-queues")]
    list_queues: String,
    #[arg(long, env = "AMQP_NAMESPACE", default_value = "webshop")]
    amqp_namespace: String,
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
    /// From the repair command's end until every saga of the round had ended
    /// (or until the settle timeout, when some never did).
    pub repair_to_final_secs: f64,
    /// Orders of the round still checking out at the settle timeout.
    pub not_final: usize,
    /// Checkouts that answered neither 2xx nor 4xx (a fault longer than the
    /// checkout's wait bound answers 503, "check it out again") and were
    /// checked out again once the sagas were final, as such a client does;
    /// the report counts the answer of that second checkout.
    pub asked_again: usize,
    /// Messages in the namespace's parking lots after the round; `None` when
    /// they could not be listed.
    pub parked: Option<u64>,
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

impl Round {
    /// Consistent, every saga final, nothing parked.
    pub fn passed(&self) -> bool {
        self.result.is_consistent() && self.not_final == 0 && self.parked.unwrap_or(0) == 0
    }
}

/// A fault's name and how long it is held: `name@secs`, or `default`.
fn fault_and_hold(spec: &str, default: f64) -> anyhow::Result<(&str, Duration)> {
    let (name, secs) = match spec.split_once('@') {
        Some((name, secs)) => (
            name,
            secs.parse::<f64>().with_context(|| format!("hold of {spec}"))?,
        ),
        None => (spec, default),
    };
    Ok((name, Duration::from_secs_f64(secs)))
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
    let (name, hold) = fault_and_hold(fault, options.hold_secs)?;
    let plan = fault::Plan {
        inject: options.inject.replace("{fault}", name),
        hold,
        repair: Some(options.repair.replace("{fault}", name)),
    };
    let (now, signal) = oneshot::channel();
    let injecting = tokio::spawn(fault::when_signalled(signal, plan));
    let trigger = Trigger {
        after: options.fault_after,
        now,
    };
    let mut checkouts = scenario::check_out_all(shop, &world, Some(trigger)).await;
    let Some(injected) = injecting.await?? else {
        bail!(
            "the fault was never injected: fewer than {} checkouts answered",
            options.fault_after
        );
    };
    let ended = sagas_final_at(shop, &world, settle).await?;
    let final_at = match ended.at {
        Some(at) => at.max(checkouts.last_answer),
        None => checkouts.last_answer,
    };
    let parked = parked_messages(&options.list_queues, &options.amqp_namespace).await;
    let asked_again = ask_again(shop, &world, &mut checkouts).await;
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
        not_final: ended.still_running,
        asked_again,
        parked,
        result,
    })
}

/// The messages in the namespace's parking lots, as `list_queues` prints
/// them; `None` (and a warning) when it cannot.
async fn parked_messages(list_queues: &str, namespace: &str) -> Option<u64> {
    let listed = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(list_queues)
        .output()
        .await;
    let output = match listed {
        Ok(output) if output.status.success() => output.stdout,
        Ok(output) => {
            eprintln!("chaos: `{list_queues}` failed: {}", output.status);
            return None;
        }
        Err(error) => {
            eprintln!("chaos: `{list_queues}` did not run: {error}");
            return None;
        }
    };
    let prefix = format!("{namespace}.");
    let parked = String::from_utf8_lossy(&output)
        .lines()
        .filter_map(|line| line.split_once(char::is_whitespace))
        .filter(|(queue, _)| queue.starts_with(&prefix) && queue.ends_with(".parked"))
        .filter_map(|(_, messages)| messages.trim().parse::<u64>().ok())
        .sum();
    Some(parked)
}

/// Checks out again every order whose checkout said nothing of its outcome,
/// and takes that answer; returns how many.
async fn ask_again(shop: &Shop, world: &World, checkouts: &mut scenario::Checkouts) -> usize {
    let unanswered = checkouts.answers.unanswered();
    let again: Vec<_> = stream::iter(unanswered.iter().copied())
        .map(|n| async move { (n, shop.checkout(&world.orders[n].id).await) })
        .buffer_unordered(64)
        .collect()
        .await;
    for (n, status) in again {
        checkouts.answers.answer(n, status);
    }
    unanswered.len()
}

/// When the round's sagas had all ended, if they did within the timeout,
/// and how many had not.
struct Ended {
    at: Option<Instant>,
    still_running: usize,
}

/// When no saga of the round was still running, read through the status
/// endpoint (no time when the system has no such endpoint, so the last
/// answer is all there is to go by), or how many still ran at `timeout`.
async fn sagas_final_at(shop: &Shop, world: &World, timeout: Duration) -> anyhow::Result<Ended> {
    let deadline = Instant::now() + timeout;
    let mut running: Vec<&str> = world.orders.iter().map(|o| o.id.as_str()).collect();
    loop {
        let states = stream::iter(running.iter().copied())
            .map(|id| async move { anyhow::Ok((id, shop.saga_state(id).await?)) })
            .buffer_unordered(64)
            .try_collect::<Vec<_>>()
            .await?;
        if states.iter().any(|(_, state)| state.is_none()) {
            return Ok(Ended {
                at: None,
                still_running: 0,
            });
        }
        running = states
            .into_iter()
            .filter(|(_, state)| state.as_deref() == Some("checking_out"))
            .map(|(id, _)| id)
            .collect();
        if running.is_empty() {
            return Ok(Ended {
                at: Some(Instant::now()),
                still_running: 0,
            });
        }
        if Instant::now() > deadline {
            eprintln!(
                "chaos: {} sagas still running {timeout:?} after the repair",
                running.len()
            );
            return Ok(Ended {
                at: None,
                still_running: running.len(),
            });
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
            "{:<20} {:<12} {:>8.1} s {:>15} {:>15} {:>13} {:>11} {:>6} {:>7} {:>7} {:>9} {:>12.2}",
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
            self.asked_again,
            r.succeeded,
            r.refused,
            self.parked.map_or("?".to_owned(), |parked| parked.to_string()),
            self.not_final,
            self.repair_to_final_secs
        )
    }
}

impl fmt::Display for ChaosReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:<12} {:>10} {:>15} {:>15} {:>13} {:>11} {:>6} {:>7} {:>7} {:>9} {:>12}",
            "fault",
            "scenario",
            "broken for",
            "in flight*",
            "inconsistencies",
            "other answers",
            "asked again",
            "2xx",
            "4xx",
            "parked",
            "not final",
            "repair→final"
        )?;
        for round in &self.rounds {
            writeln!(f, "{round} s")?;
        }
        let failed = self.rounds.iter().filter(|r| !r.passed()).count();
        writeln!(
            f,
            "* checkouts not answered when the inject command started / when it had returned"
        )?;
        write!(f, "chaos: {} passed, {failed} failed", self.rounds.len() - failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_may_name_how_long_it_is_held() {
        let (name, hold) = fault_and_hold("database@60", 1.0).expect("parsed");
        assert_eq!((name, hold), ("database", Duration::from_secs(60)));
        let (name, hold) = fault_and_hold("kill:stock-1", 1.5).expect("parsed");
        assert_eq!((name, hold), ("kill:stock-1", Duration::from_millis(1500)));
        assert!(fault_and_hold("database@soon", 1.0).is_err());
    }
}
