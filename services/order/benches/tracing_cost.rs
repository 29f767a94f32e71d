//! What tracing costs a checkout (`cargo bench -p order --bench tracing_cost`).
//!
//! Each run is a fresh process that spawns the three services in process
//! (fresh databases, an isolated broker namespace, as the tests do),
//! arranges `BENCH_CHECKOUTS` (200) one-line orders, then times their
//! checkouts, `BENCH_CONCURRENCY` (16) at a time. Tracing is either off (no
//! OpenTelemetry layer: a service without OTEL_EXPORTER_OTLP_ENDPOINT) or
//! on (every span through the batch processor to an in-memory exporter:
//! the in-process cost of tracing, without OTLP's encoding and network,
//! which run on the exporter's own thread). Logs are off in both. Runs
//! alternate, `BENCH_ROUNDS` (3) of each, starting with the other mode each
//! round, so that load from elsewhere on the machine hits both alike; the
//! medians and their ratio are printed.
use std::process::Command;
use std::time::Instant;

use futures::StreamExt;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use reqwest::StatusCode;
use test_support::{System, spawn_system};

/// Set in a run's environment: `off` or `on`.
const MODE: &str = "BENCH_TRACING";

fn main() {
    match std::env::var(MODE) {
        Ok(mode) => run(mode == "on"),
        Err(_) => compare(),
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn compare() {
    let rounds = env("BENCH_ROUNDS", 3);
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let modes = if round % 2 == 0 {
            ["off", "on"]
        } else {
            ["on", "off"]
        };
        for mode in modes {
            let rate = child(mode);
            println!("round {}: tracing {mode:>3}: {rate:7.1} checkouts/s", round + 1);
            if mode == "on" {
                on.push(rate)
            } else {
                off.push(rate)
            }
        }
    }
    let (off, on) = (median(&mut off), median(&mut on));
    println!(
        "median: tracing off {off:.1} checkouts/s, on {on:.1} checkouts/s, on/off = {:.3}",
        on / off
    );
}

/// Runs one measurement in a process of its own (a tracer provider and a
/// subscriber are process-wide) and returns its checkouts per second.
fn child(mode: &str) -> f64 {
    let exe = std::env::current_exe().expect("the bench's own path");
    let output = Command::new(exe).env(MODE, mode).output().expect("a run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    print!("{stdout}");
    stdout
        .split_whitespace()
        .find_map(|field| field.strip_prefix("checkouts_per_sec="))
        .and_then(|rate| rate.parse().ok())
        .expect("a rate in the run's output")
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn run(traced: bool) {
    let exporter = InMemorySpanExporter::default();
    let provider = traced.then(|| {
        SdkTracerProvider::builder()
            .with_batch_exporter(exporter.clone())
            .build()
    });
    platform::telemetry::install(provider.as_ref(), false);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let (checkouts, seconds) = runtime.block_on(measure());
    if let Some(provider) = &provider {
        let _ = provider.force_flush();
    }
    let spans = exporter.get_finished_spans().map(|s| s.len()).unwrap_or_default();
    println!(
        "  tracing={} checkouts={checkouts} seconds={seconds:.3} checkouts_per_sec={:.1} spans_exported={spans}",
        if traced { "on" } else { "off" },
        checkouts as f64 / seconds
    );
}

async fn measure() -> (usize, f64) {
    let (count, concurrency) = (env("BENCH_CHECKOUTS", 200), env("BENCH_CONCURRENCY", 16));
    let app = spawn_system(1).await;
    let orders = arrange(&app, count, concurrency).await;
    let started = Instant::now();
    let statuses: Vec<StatusCode> = futures::stream::iter(&orders)
        .map(|order| {
            let app = &app;
            async move { app.post(&format!("/orders/checkout/{order}")).await.0 }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let seconds = started.elapsed().as_secs_f64();
    assert!(statuses.iter().all(|s| *s == StatusCode::OK), "{statuses:?}");
    (count, seconds)
}

/// `count` one-line orders over 20 users and 20 items with plenty of
/// credit and stock, so that every checkout pays.
async fn arrange(app: &System, count: usize, concurrency: usize) -> Vec<String> {
    let mut users = Vec::new();
    let mut items = Vec::new();
    for _ in 0..20 {
        users.push(app.user_with(1_000_000).await);
        items.push(app.item_with(1, 1_000_000).await);
    }
    futures::stream::iter(0..count)
        .map(|i| {
            let (user, item) = (&users[i % users.len()], &items[i % items.len()]);
            async move {
                let order = app.order_for(user).await;
                let (status, body) = app.post(&format!("/orders/addItem/{order}/{item}/1")).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                order
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}
