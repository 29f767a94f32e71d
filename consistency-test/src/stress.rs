//! Checkouts under load on batch-initialised data, as the course's locust
//! file does, but counting only what was committed: a checkout of an order
//! that this run already checked out is a repeat, reported apart, because a
//! paid order answers 2xx without doing anything.
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::Shop;
use crate::cpu::{CpuUsage, Snapshot};
use crate::latency::Percentiles;
use crate::plot;
use crate::progress::Phase;

#[derive(Debug, Clone, clap::Args)]
pub struct Load {
    /// Items, users and orders created by batch_init (the course uses 100 000).
    #[arg(long, default_value_t = 100_000)]
    pub scale: usize,
    /// Closed-loop steps: this many clients, each sending its next checkout
    /// when the previous one answered.
    #[arg(long, value_delimiter = ',', default_value = "4,8,16,32,64,128")]
    pub concurrency: Vec<usize>,
    /// How long each step lasts.
    #[arg(long, default_value_t = 10.0)]
    pub step_secs: f64,
    /// Where the SVG plots go, with `answers.csv`: every answer, when it
    /// was asked (seconds into the run), its latency and its outcome.
    #[arg(long, default_value = "target/stress")]
    pub plots: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct Options {
    #[command(flatten)]
    urls: crate::client::Urls,
    #[command(flatten)]
    load: Load,
    /// Instead of the closed-loop steps: one open-loop run, this many
    /// checkouts started per second whatever the answers' pace.
    #[arg(long)]
    rate: Option<f64>,
    /// Where to write the report as JSON.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

/// One answer, and when its request started (seconds since the run began).
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at_secs: f64,
    pub latency: Duration,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx for an order checked out for the first time.
    Committed,
    /// 4xx for an order checked out for the first time.
    Refused,
    /// Any 2xx or 4xx for an order checked out before in this run.
    Repeat,
    /// 5xx, a gateway error, or no answer.
    Other,
}

impl Outcome {
    fn name(self) -> &'static str {
        match self {
            Outcome::Committed => "committed",
            Outcome::Refused => "refused",
            Outcome::Repeat => "repeat",
            Outcome::Other => "other",
        }
    }
}

/// Every answer of the run, one line each, beside the plot that draws
/// them: percentiles over any window tell a tail made of a few stalls from
/// one made of a queue that never drains, which the plot's per-second
/// points do not always show.
fn answers_csv(samples: &[Sample]) -> String {
    let mut csv = String::from("started_secs,latency_ms,outcome\n");
    for sample in samples {
        csv.push_str(&format!(
            "{:.4},{:.3},{}\n",
            sample.at_secs,
            sample.latency.as_secs_f64() * 1e3,
            sample.outcome.name()
        ));
    }
    csv
}

/// The figures of one step (or of one open-loop run).
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// Clients (closed loop), or 0 for an open-loop run.
    pub concurrency: usize,
    /// Checkouts started per second (open loop), or 0.
    pub rate: f64,
    pub duration_secs: f64,
    pub committed: usize,
    pub committed_per_sec: f64,
    pub refused: usize,
    pub repeats: usize,
    pub other: usize,
    /// Of the committed checkouts.
    pub latency: Percentiles,
    /// Of every process on the machine, per committed checkout.
    pub cpu: CpuUsage,
}

impl Step {
    /// The figures of `samples`, and the CPU spent between two snapshots.
    pub(crate) fn of(
        concurrency: usize,
        rate: f64,
        duration: Duration,
        samples: &[Sample],
        cpu: [&Snapshot; 2],
    ) -> Step {
        let count = |outcome| samples.iter().filter(|s| s.outcome == outcome).count();
        let committed: Vec<Duration> = samples
            .iter()
            .filter(|s| s.outcome == Outcome::Committed)
            .map(|s| s.latency)
            .collect();
        Step {
            concurrency,
            rate,
            duration_secs: duration.as_secs_f64(),
            committed: committed.len(),
            committed_per_sec: committed.len() as f64 / duration.as_secs_f64(),
            refused: count(Outcome::Refused),
            repeats: count(Outcome::Repeat),
            other: count(Outcome::Other),
            cpu: cpu[1].since(cpu[0], committed.len()),
            latency: Percentiles::of(committed),
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let load = if self.concurrency > 0 {
            format!("{:>4} clients", self.concurrency)
        } else {
            format!("{:>6.0}/s open", self.rate)
        };
        let l = &self.latency;
        write!(
            f,
            "{load}: {:>7.1} committed/s  p50 {:>6.1} ms  p95 {:>6.1} ms  p99 {:>6.1} ms  max {:>7.1} ms  \
             4xx {}  repeats {}  other {}",
            self.committed_per_sec,
            l.p50_ms,
            l.p95_ms,
            l.p99_ms,
            l.max_ms,
            self.refused,
            self.repeats,
            self.other
        )?;
        write!(f, "\n{}", self.cpu)
    }
}

#[derive(Debug, Serialize)]
pub struct StressReport {
    pub scale: usize,
    pub steps: Vec<Step>,
    pub plots: Vec<PathBuf>,
    /// Every answer, one CSV line each (see [`answers_csv`]).
    pub answers: PathBuf,
}

impl fmt::Display for StressReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "stress on {} batch-initialised orders:", self.scale)?;
        for step in &self.steps {
            writeln!(f, "  {step}")?;
        }
        for plot in &self.plots {
            writeln!(f, "  plot: {}", plot.display())?;
        }
        writeln!(f, "  answers: {}", self.answers.display())?;
        Ok(())
    }
}

pub async fn run(options: &Options) -> anyhow::Result<StressReport> {
    let shop = options.urls.shop()?;
    let mut run = Run::prepare(&shop, options.load.scale).await?;
    match options.rate {
        Some(rate) => {
            let duration = Duration::from_secs_f64(options.load.step_secs);
            run.open_loop(&shop, rate, duration).await;
        }
        None => run.closed_loop_steps(&shop, &options.load).await,
    }
    run.finish(&options.load.plots)
}

/// The closed-loop step of `steps` that committed the most checkouts per
/// second.
pub fn best(steps: &[Step]) -> Option<&Step> {
    steps
        .iter()
        .filter(|s| s.concurrency > 0)
        .max_by(|a, b| a.committed_per_sec.total_cmp(&b.committed_per_sec))
}

/// The data and the answers of one stress run.
#[derive(Debug)]
pub struct Run {
    scale: usize,
    /// Orders in a random order: each client takes the next one, so no order
    /// is checked out twice until all were.
    picks: Arc<Vec<usize>>,
    next: Arc<AtomicUsize>,
    started: Instant,
    samples: Vec<Sample>,
    steps: Vec<Step>,
}

impl Run {
    /// Batch-initialises items, users and orders with stock and credit that
    /// never run out, so every first checkout can commit.
    pub async fn prepare(shop: &Shop, scale: usize) -> anyhow::Result<Run> {
        let phase = Phase::new("batch_init", 1);
        shop.batch_init(scale, 1_000_000_000, 1_000_000_000, 1).await?;
        phase.finish(&format!("{scale} items, users and orders"));
        let mut picks: Vec<usize> = (0..scale).collect();
        fastrand::shuffle(&mut picks);
        Ok(Run {
            scale,
            picks: Arc::new(picks),
            next: Arc::new(AtomicUsize::new(0)),
            started: Instant::now(),
            samples: Vec::new(),
            steps: Vec::new(),
        })
    }

    pub async fn closed_loop_steps(&mut self, shop: &Shop, load: &Load) {
        let phase = Phase::new("closed-loop steps", load.concurrency.len());
        for &clients in &load.concurrency {
            let step = self
                .closed_loop(shop, clients, Duration::from_secs_f64(load.step_secs))
                .await;
            eprintln!("  {step}");
            phase.advance(1);
        }
        phase.finish(&format!("{} steps", load.concurrency.len()));
    }

    /// `clients` loops, each sending its next checkout when the previous one
    /// answered, until `duration` has passed.
    pub async fn closed_loop(&mut self, shop: &Shop, clients: usize, duration: Duration) -> Step {
        let cpu = Snapshot::take();
        let step_started = Instant::now();
        let deadline = step_started + duration;
        let loops = (0..clients).map(|_| {
            let checkout = self.checkout_fn(shop);
            tokio::spawn(async move {
                let mut samples = Vec::new();
                while Instant::now() < deadline {
                    samples.push(checkout().await);
                }
                samples
            })
        });
        let mut samples = Vec::new();
        for finished in futures::future::join_all(loops.collect::<Vec<_>>()).await {
            samples.extend(finished.unwrap_or_default());
        }
        self.record(clients, 0.0, step_started.elapsed(), samples, &cpu)
    }

    /// A checkout started every `1/rate` seconds for `duration`, whatever
    /// the answers' pace: the latency a steady load sees.
    pub async fn open_loop(&mut self, shop: &Shop, rate: f64, duration: Duration) -> Step {
        let cpu = Snapshot::take();
        let step_started = Instant::now();
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        let mut running = Vec::new();
        while step_started.elapsed() < duration {
            ticks.tick().await;
            running.push(tokio::spawn(self.checkout_fn(shop)()));
        }
        let mut samples = Vec::new();
        for finished in futures::future::join_all(running).await {
            samples.extend(finished.ok());
        }
        let step = self.record(0, rate, step_started.elapsed(), samples, &cpu);
        eprintln!("  {step}");
        step
    }

    /// The closed-loop step that committed the most checkouts per second.
    pub fn best(&self) -> Option<Step> {
        best(&self.steps).cloned()
    }

    /// The step's figures, with the CPU spent since `cpu` was taken.
    fn record(
        &mut self,
        clients: usize,
        rate: f64,
        duration: Duration,
        samples: Vec<Sample>,
        cpu: &Snapshot,
    ) -> Step {
        let step = Step::of(clients, rate, duration, &samples, [cpu, &Snapshot::take()]);
        self.samples.extend(samples);
        self.steps.push(step.clone());
        step
    }

    /// A closure that checks out the next order and classifies the answer.
    fn checkout_fn(
        &self,
        shop: &Shop,
    ) -> impl Fn() -> futures::future::BoxFuture<'static, Sample> + Send + 'static {
        let (shop, picks, next, started) =
            (shop.clone(), self.picks.clone(), self.next.clone(), self.started);
        move || {
            let (shop, picks, next) = (shop.clone(), picks.clone(), next.clone());
            Box::pin(async move {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let first = n < picks.len();
                let order = picks[n % picks.len()].to_string();
                let sent = Instant::now();
                let status = shop.checkout(&order).await;
                let latency = sent.elapsed();
                let outcome = match status {
                    Some(s) if (s.is_success() || s.is_client_error()) && !first => Outcome::Repeat,
                    Some(s) if s.is_success() => Outcome::Committed,
                    Some(s) if s.is_client_error() => Outcome::Refused,
                    _ => Outcome::Other,
                };
                Sample {
                    at_secs: sent.duration_since(started).as_secs_f64(),
                    latency,
                    outcome,
                }
            })
        }
    }

    /// Writes the plots and returns the report.
    pub fn finish(self, plots: &std::path::Path) -> anyhow::Result<StressReport> {
        std::fs::create_dir_all(plots)?;
        let over_time = plots.join("latency-over-time.svg");
        plot::latency_over_time(&over_time, &self.samples)?;
        let answers = plots.join("answers.csv");
        std::fs::write(&answers, answers_csv(&self.samples))?;
        let mut written = vec![over_time];
        let closed: Vec<&Step> = self.steps.iter().filter(|s| s.concurrency > 0).collect();
        if closed.len() > 1 {
            let throughput = plots.join("throughput-vs-concurrency.svg");
            plot::throughput_vs_concurrency(&throughput, &closed)?;
            written.push(throughput);
        }
        Ok(StressReport {
            scale: self.scale,
            steps: self.steps,
            plots: written,
            answers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_csv_has_a_header_and_a_line_per_answer_with_its_outcome() {
        let samples = [
            Sample {
                at_secs: 0.5,
                latency: Duration::from_micros(12_345),
                outcome: Outcome::Committed,
            },
            Sample {
                at_secs: 1.25,
                latency: Duration::from_millis(3),
                outcome: Outcome::Other,
            },
        ];

        let csv = answers_csv(&samples);

        assert_eq!(
            csv,
            "started_secs,latency_ms,outcome\n0.5000,12.345,committed\n1.2500,3.000,other\n"
        );
    }
}
