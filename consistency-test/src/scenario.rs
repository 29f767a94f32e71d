//! The course scenario: set up items, users and orders through the API,
//! check all orders out at once (optionally with a fault in the middle), read
//! the state back through the API right after the last answer and compare it
//! with the answers.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::stream::{self, StreamExt, TryStreamExt};
use reqwest::StatusCode;
use tokio::sync::oneshot;

use crate::client::Shop;
use crate::fault;
use crate::progress::Phase;
use crate::report::{Answers, Report};

/// The shape of one scenario run.
#[derive(Debug, Clone, clap::Args)]
pub struct Shape {
    /// How many users, orders and concurrent checkouts.
    #[arg(long, default_value_t = 1000)]
    pub checkouts: usize,
    /// Single-item scenario: the item's stock (each order wants one unit).
    #[arg(long, default_value_t = 100)]
    pub stock: i64,
    /// Orders of 1-4 different items of six, quantities 1-2, some scarce.
    #[arg(long)]
    pub multi_item: bool,
    /// Concurrent requests while setting up.
    #[arg(long, default_value_t = 64)]
    pub setup_concurrency: usize,
}

impl Shape {
    pub fn name(&self) -> &'static str {
        if self.multi_item {
            "multi-item"
        } else {
            "single-item"
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(flatten)]
    urls: crate::client::Urls,
    #[command(flatten)]
    shape: Shape,
    /// Run `--fault-command` once this many checkouts have answered.
    #[arg(long, requires = "fault_command")]
    fault_after: Option<usize>,
    /// A shell command that injects a fault and repairs it (e.g. kills a
    /// replica and restarts it); the state is read after it has finished.
    #[arg(long)]
    fault_command: Option<String>,
    /// Where to write the report as JSON.
    #[arg(long)]
    pub report: Option<std::path::PathBuf>,
}

/// What was set up: items with their starting stock and price, and one
/// user with one order per checkout.
#[derive(Debug)]
pub struct World {
    pub items: Vec<(String, i64, i64)>,
    pub orders: Vec<Order>,
}

#[derive(Debug)]
pub struct Order {
    pub id: String,
    pub user: String,
    pub credit: i64,
    /// (index into `items`, quantity)
    pub lines: Vec<(usize, i64)>,
    pub cost: i64,
}

pub async fn run(options: &Options) -> anyhow::Result<Report> {
    let shop = options.urls.shop()?;
    let world = set_up(&shop, &options.shape).await.context("setting up")?;
    let trigger = options.fault_after.zip(options.fault_command.clone());
    let (checkouts, injected) = match trigger {
        Some((after, command)) => {
            let plan = fault::Plan {
                inject: command,
                hold: Duration::ZERO,
                repair: None,
            };
            let (now, signal) = oneshot::channel();
            let fault = tokio::spawn(fault::when_signalled(signal, plan));
            let checkouts = check_out_all(&shop, &world, Some(Trigger { after, now })).await;
            (checkouts, fault.await??)
        }
        None => (check_out_all(&shop, &world, None).await, None),
    };
    let mut report = Report::compare(&shop, &world, &checkouts).await?;
    report.scenario = options.shape.name().to_owned();
    report.in_flight_at_fault = injected.map(|i| i.in_flight);
    report.in_flight_once_broken = injected.map(|i| i.in_flight_once_broken);
    Ok(report)
}

pub async fn set_up(shop: &Shop, shape: &Shape) -> anyhow::Result<World> {
    let plan: Vec<(i64, i64)> = if shape.multi_item {
        vec![(1, 5), (2, 20), (3, 200), (4, 3), (5, 50), (6, 1000)]
    } else {
        vec![(1, shape.stock)]
    };
    let mut items = Vec::new();
    for (price, stock) in plan {
        items.push((shop.create_item(price, stock).await?, stock, price));
    }
    let orders: Vec<(i64, Vec<(usize, i64)>)> = (0..shape.checkouts)
        .map(|n| {
            if shape.multi_item {
                let lines = (0..1 + n % 4).map(|k| ((n * 7 + k * 3) % items.len(), 1 + ((n + k) % 2) as i64));
                (if n % 7 == 0 { 2 } else { 40 }, merge(lines.collect()))
            } else {
                (1, vec![(0, 1)])
            }
        })
        .collect();
    let phase = Phase::new(&format!("set up ({})", shape.name()), orders.len());
    let (items_ref, phase_ref) = (&items, &phase);
    let orders = stream::iter(orders)
        .map(|(credit, lines)| async move {
            let user = shop.create_user(credit).await?;
            let wanted: Vec<(String, i64)> =
                lines.iter().map(|(i, q)| (items_ref[*i].0.clone(), *q)).collect();
            let id = shop.create_order(&user, &wanted).await?;
            let cost = lines.iter().map(|(i, q)| items_ref[*i].2 * q).sum();
            phase_ref.advance(1);
            anyhow::Ok(Order {
                id,
                user,
                credit,
                lines,
                cost,
            })
        })
        .buffered(shape.setup_concurrency)
        .try_collect::<Vec<_>>()
        .await?;
    phase.finish(&format!(
        "{} items, {} users with one order each",
        items.len(),
        orders.len()
    ));
    Ok(World { items, orders })
}

/// One line per item: an order that names an item twice wants the sum.
fn merge(lines: Vec<(usize, i64)>) -> Vec<(usize, i64)> {
    let mut merged: Vec<(usize, i64)> = Vec::new();
    for (item, quantity) in lines {
        match merged.iter_mut().find(|(i, _)| *i == item) {
            Some(line) => line.1 += quantity,
            None => merged.push((item, quantity)),
        }
    }
    merged
}

/// Says "now", with a counter of the checkouts still in flight, once
/// `after` checkouts have answered.
#[derive(Debug)]
pub struct Trigger {
    pub after: usize,
    pub now: oneshot::Sender<fault::InFlight>,
}

/// Every checkout's answer, and when the last one came.
#[derive(Debug)]
pub struct Checkouts {
    pub answers: Answers,
    pub elapsed: Duration,
    pub last_answer: Instant,
}

/// Checks every order out at once, each checkout its own request.
pub async fn check_out_all(shop: &Shop, world: &World, trigger: Option<Trigger>) -> Checkouts {
    let started = Instant::now();
    let answered = Arc::new(AtomicUsize::new(0));
    let trigger = Mutex::new(trigger);
    let phase = Phase::new("checkouts", world.orders.len());
    let requests = world.orders.iter().map(|order| {
        let (answered, trigger, phase) = (&answered, &trigger, &phase);
        async move {
            let status: Option<StatusCode> = shop.checkout(&order.id).await;
            let count = answered.fetch_add(1, Ordering::SeqCst) + 1;
            phase.advance(1);
            if let Ok(mut slot) = trigger.lock()
                && slot.as_ref().is_some_and(|t| t.after == count)
                && let Some(t) = slot.take()
            {
                let _ = t.now.send(fault::InFlight {
                    total: world.orders.len(),
                    answered: answered.clone(),
                });
            }
            status
        }
    });
    let statuses = futures::future::join_all(requests).await;
    let elapsed = started.elapsed();
    let answers = Answers::new(statuses);
    phase.finish(&answers.summary());
    Checkouts {
        answers,
        elapsed,
        last_answer: Instant::now(),
    }
}
