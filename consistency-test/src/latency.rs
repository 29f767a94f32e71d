//! Checkout latency at a steady, moderate load: orders that can all be
//! paid, checked out open-loop at a fixed rate, one latency per answer.
use std::time::{Duration, Instant};

use anyhow::ensure;

use crate::scenario::{Shape, set_up};

#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(flatten)]
    urls: crate::client::Urls,
    /// How many checkouts.
    #[arg(long, default_value_t = 1000)]
    checkouts: usize,
    /// Checkouts started per second, whatever the answers' pace.
    #[arg(long, default_value_t = 100)]
    rate: u64,
}

pub async fn run(options: &Options) -> anyhow::Result<()> {
    let shop = options.urls.shop()?;
    let shape = Shape {
        multi_item: false,
        checkouts: options.checkouts,
        stock: options.checkouts as i64,
        concurrency: 64,
    };
    let world = set_up(&shop, &shape).await?;
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / options.rate as f64));
    let mut running = Vec::with_capacity(world.orders.len());
    for order in &world.orders {
        ticks.tick().await;
        let (shop, id) = (shop.clone(), order.id.clone());
        running.push(tokio::spawn(async move {
            let started = Instant::now();
            let status = shop.checkout(&id).await;
            (status, started.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(running.len());
    for task in running {
        let (status, latency) = task.await?;
        ensure!(
            status.is_some_and(|s| s.is_success()),
            "a payable checkout answered {status:?}"
        );
        latencies.push(latency);
    }
    latencies.sort();
    let at = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0;
    println!(
        "checkout latency, {} checkouts at {}/s: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        options.rate,
        at(0.5),
        at(0.95),
        at(0.99),
        at(1.0)
    );
    Ok(())
}
