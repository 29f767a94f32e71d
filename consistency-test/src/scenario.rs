//! The scenario: set up items, users and orders through the API, check all
//! orders out at once (optionally with a fault in the middle), read the
//! state back through the API and compare it with the answers.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use futures::stream::{self, StreamExt, TryStreamExt};
use reqwest::StatusCode;

use crate::client::Shop;
use crate::report::{Answers, Report};

#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(flatten)]
    urls: crate::client::Urls,
    /// How many users, orders and concurrent checkouts.
    #[arg(long, default_value_t = 1000)]
    checkouts: usize,
    /// Single-item scenario: the item's stock (each order wants one unit).
    #[arg(long, default_value_t = 100)]
    stock: i64,
    /// Orders of 1-4 different items of six, quantities 1-2, some scarce.
    #[arg(long)]
    multi_item: bool,
    /// Run `--fault-command` once this many checkouts have answered.
    #[arg(long, requires = "fault_command")]
    fault_after: Option<usize>,
    /// A shell command that injects a fault and repairs it (e.g. kills a
    /// replica and restarts it); the state is read after it has finished.
    #[arg(long)]
    fault_command: Option<String>,
    /// Concurrent requests while setting up.
    #[arg(long, default_value_t = 64)]
    setup_concurrency: usize,
}

/// What was set up: items with their starting stock and price, and one
/// user with one order per checkout.
pub struct World {
    pub items: Vec<(String, i64, i64)>,
    pub orders: Vec<Order>,
}

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
    let started = Instant::now();
    let shape = Shape {
        multi_item: options.multi_item,
        checkouts: options.checkouts,
        stock: options.stock,
        concurrency: options.setup_concurrency,
    };
    let world = set_up(&shop, &shape).await.context("setting up")?;
    eprintln!(
        "set up {} items, {} users and orders in {:.1} s",
        world.items.len(),
        world.orders.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let answers = check_out_all(&shop, &world, options).await?;
    let elapsed = started.elapsed();
    eprintln!(
        "{} checkouts answered in {:.2} s",
        answers.len(),
        elapsed.as_secs_f64()
    );
    let report = Report::compare(&shop, &world, &answers, elapsed).await?;
    Ok(report)
}

/// What to set up.
pub struct Shape {
    pub multi_item: bool,
    pub checkouts: usize,
    /// The single item's stock.
    pub stock: i64,
    /// Concurrent requests while setting up.
    pub concurrency: usize,
}

pub async fn set_up(shop: &Shop, options: &Shape) -> anyhow::Result<World> {
    let plan: Vec<(i64, i64)> = if options.multi_item {
        vec![(1, 5), (2, 20), (3, 200), (4, 3), (5, 50), (6, 1000)]
    } else {
        vec![(1, options.stock)]
    };
    let mut items = Vec::new();
    for (price, stock) in plan {
        items.push((shop.create_item(price, stock).await?, stock, price));
    }
    let orders: Vec<(i64, Vec<(usize, i64)>)> = (0..options.checkouts)
        .map(|n| {
            if options.multi_item {
                let lines = (0..1 + n % 4).map(|k| ((n * 7 + k * 3) % items.len(), 1 + ((n + k) % 2) as i64));
                (if n % 7 == 0 { 2 } else { 40 }, merge(lines.collect()))
            } else {
                (1, vec![(0, 1)])
            }
        })
        .collect();
    let items_ref = &items;
    let orders = stream::iter(orders)
        .map(|(credit, lines)| async move {
            let user = shop.create_user(credit).await?;
            let wanted: Vec<(String, i64)> =
                lines.iter().map(|(i, q)| (items_ref[*i].0.clone(), *q)).collect();
            let id = shop.create_order(&user, &wanted).await?;
            let cost = lines.iter().map(|(i, q)| items_ref[*i].2 * q).sum();
            anyhow::Ok(Order {
                id,
                user,
                credit,
                lines,
                cost,
            })
        })
        .buffered(options.concurrency)
        .try_collect()
        .await?;
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

async fn check_out_all(shop: &Shop, world: &World, options: &Options) -> anyhow::Result<Answers> {
    let answered = Arc::new(AtomicUsize::new(0));
    let (fault_tx, fault_rx) = tokio::sync::oneshot::channel::<usize>();
    let fault_tx = std::sync::Mutex::new(Some(fault_tx));
    let fault = {
        let command = options.fault_command.clone();
        tokio::spawn(async move {
            let Some(command) = command else { return Ok(()) };
            let Ok(in_flight) = fault_rx.await else {
                return Ok(());
            };
            eprintln!("injecting fault with {in_flight} checkouts in flight: {command}");
            let status = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(&command)
                .status()
                .await?;
            eprintln!("fault command finished: {status}");
            anyhow::ensure!(status.success(), "fault command failed: {status}");
            Ok(())
        })
    };
    let requests = world.orders.iter().map(|order| {
        let answered = answered.clone();
        let fault_tx = &fault_tx;
        async move {
            let status: Option<StatusCode> = shop.checkout(&order.id).await;
            let count = answered.fetch_add(1, Ordering::SeqCst) + 1;
            let trigger = (Some(count) == options.fault_after)
                .then(|| fault_tx.lock().ok().and_then(|mut t| t.take()))
                .flatten();
            if let Some(trigger) = trigger {
                let _ = trigger.send(world.orders.len() - count);
            }
            status
        }
    });
    let statuses = futures::future::join_all(requests).await;
    drop(fault_tx);
    fault.await??;
    Ok(Answers::new(statuses))
}
