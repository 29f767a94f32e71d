//! `make bench-scale`: committed checkouts/s against the number of replicas
//! of each service, every replica's process capped at the same small CPU
//! share, as on a cluster of small nodes, so that the services, not
//! PostgreSQL or RabbitMQ, bound the figure. Each replica count runs once
//! per design: `AMQP_PARTITIONS=1` (one queue a stream, one active consumer)
//! and partitioned streams.
//!
//! ```text
//! for replicas, for partitions:            (designs side by side in time)
//!   system::System::start   up.sh beside any other system, release binaries
//!   System::cap             each replica into its own cgroup (cgroup.rs)
//!   stress::Run             batch_init, warm-up, closed-loop steps
//!   System::stop            down.sh, databases dropped, groups removed
//! report::ScaleReport       table, JSON; plot::throughput_vs_replicas, SVG
//! ```
mod cgroup;
mod replicas;
mod report;
mod system;
mod table;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use backon::Retryable;

use crate::client::Shop;
use crate::stress::{Run, Step, StressReport};
use crate::{plot, psql};
use cgroup::{CpuController, Quota};
use replicas::ReplicaCpu;
pub use report::ScaleReport;
use report::{Point, design};
use system::{Layout, PointId, System};

#[derive(Debug, clap::Args)]
pub struct Options {
    /// Replicas of each service, one point each.
    #[arg(long, env = "SCALE_REPLICAS", value_delimiter = ',', default_value = "1,2,4")]
    replicas: Vec<u32>,
    /// The designs: AMQP_PARTITIONS of every replica (1 is one queue a
    /// stream with a single active consumer).
    #[arg(long, env = "SCALE_PARTITIONS", value_delimiter = ',', default_value = "1,8")]
    partitions: Vec<u32>,
    /// Each replica's CPU, in % of one core. 5 was measured on a 2-core
    /// machine: the capped order service binds at every point, and 4 times
    /// the 1-replica rate keeps the system's own processes about 55 % of
    /// the machine busy (the last lines of the table recompute that); at 25
    /// one replica already filled the machine.
    #[arg(long, env = "SCALE_CPU_PERCENT", default_value_t = 5.0)]
    cpu_percent: f64,
    /// The quota's period (Kubernetes' is 100 ms).
    #[arg(long, default_value_t = 100_000)]
    cpu_period_us: u64,
    /// Closed-loop clients; with several, a step each and the best counts.
    #[arg(long, env = "SCALE_CONCURRENCY", value_delimiter = ',', default_value = "512")]
    concurrency: Vec<usize>,
    /// How long each measured step lasts.
    #[arg(long, env = "SCALE_POINT_SECS", default_value_t = 20.0)]
    point_secs: f64,
    /// A step at the first concurrency before the measured ones: the
    /// partitions are spread and the pools open by its end.
    #[arg(long, env = "SCALE_WARMUP_SECS", default_value_t = 5.0)]
    warmup_secs: f64,
    /// Orders (and items and users) batch-initialised at every point; each
    /// is checked out once.
    #[arg(long, default_value_t = 100_000)]
    scale: usize,
    #[command(flatten)]
    layout: Layout,
    /// The SVG plot and each point's latency plot and answers.
    #[arg(long, default_value = "target/reports/bench-scale")]
    plots: PathBuf,
    /// Where to write the report as JSON.
    #[arg(long, default_value = "target/reports/bench-scale.json")]
    pub report: Option<PathBuf>,
}

pub async fn run(options: &Options) -> anyhow::Result<ScaleReport> {
    anyhow::ensure!(!options.concurrency.is_empty(), "--concurrency is empty");
    let controller = CpuController::find()?;
    let quota = Quota::of_core(options.cpu_percent, options.cpu_period_us)?;
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    // A point that fails (this machine's PostgreSQL and broker are shared)
    // is reported, and the others still run.
    let (mut points, mut failed) = (Vec::new(), Vec::new());
    for &replicas in &options.replicas {
        for &partitions in &options.partitions {
            let id = PointId { partitions, replicas };
            eprintln!("{}, {replicas} replicas of each service:", design(partitions));
            match point(options, &controller, quota, id, run).await {
                Ok(point) => points.push(point),
                Err(e) => {
                    eprintln!("  failed: {e:#}");
                    failed.push(format!("{}: {e:#}", id.name()));
                }
            }
        }
    }
    let mut report = ScaleReport {
        cpu_percent: options.cpu_percent,
        quota,
        concurrency: options.concurrency.clone(),
        point_secs: options.point_secs,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        points,
        failed,
        plot: None,
    };
    report.ratios();
    // Drawn after every point ran: a plot that fails costs the plot, not the run.
    let path = options.plots.join("throughput-vs-replicas.svg");
    let (series, title) = (report.series(), report.title());
    let backend = plotters::prelude::SVGBackend::new(&path, (960, 540));
    match plot::throughput_vs_replicas(backend, &title, &series) {
        Ok(()) => report.plot = Some(path),
        Err(e) => eprintln!("no plot: {e:#}"),
    }
    Ok(report)
}

/// One point on a system of its own, stopped whatever happened.
async fn point(
    options: &Options,
    controller: &CpuController,
    quota: Quota,
    id: PointId,
    run: u64,
) -> anyhow::Result<Point> {
    let mut system = System::start(&options.layout, id, run).await?;
    let measured = match system.cap(controller, quota) {
        Ok(()) => load(options, &system, id).await,
        Err(e) => Err(e),
    };
    let stopped = system.stop().await;
    let point = measured.with_context(|| format!("point {}", id.name()))?;
    stopped?;
    Ok(point)
}

/// Fresh orders, a warm-up, then the measured steps.
async fn load(options: &Options, system: &System, id: PointId) -> anyhow::Result<Point> {
    let shop = Shop::new(&system.gateway(), &system.gateway(), &system.gateway())?;
    let mut run = Run::prepare(&shop, options.scale).await?;
    let (server, databases) = (&options.layout.database_url, system.databases());
    (|| psql::vacuum_analyze(server, &databases))
        .retry(system::PATIENCE)
        .await?;
    if options.warmup_secs > 0.0 {
        let warmup = Duration::from_secs_f64(options.warmup_secs);
        let step = run.closed_loop(&shop, options.concurrency[0], warmup).await;
        eprintln!("  warm-up: {:.1} committed/s", step.committed_per_sec);
    }
    let mut measured: Vec<(Step, Vec<ReplicaCpu>)> = Vec::new();
    for &clients in &options.concurrency {
        let start = system.replicas.read()?;
        let step = run
            .closed_loop(&shop, clients, Duration::from_secs_f64(options.point_secs))
            .await;
        let replica_cpu = system.replicas.cpu(&start, &system.replicas.read()?);
        let shares: Vec<String> = (replica_cpu.iter())
            .map(|r| {
                format!(
                    "{} {:.1} % ({:.0} % throttled)",
                    r.name, r.percent_of_core, r.throttled_percent
                )
            })
            .collect();
        eprintln!("  {step}\n    replicas: {}", shares.join(", "));
        measured.push((step, replica_cpu));
    }
    let stress = run.finish(&options.plots.join(id.name()))?;
    let steps: Vec<Step> = measured.iter().map(|(step, _)| step.clone()).collect();
    let (best, replica_cpu) = (measured.into_iter())
        .max_by(|a, b| a.0.committed_per_sec.total_cmp(&b.0.committed_per_sec))
        .context("no step ran")?;
    Ok(Point {
        id,
        best,
        replica_cpu,
        ratio: None,
        steps,
        plots: plots(stress, options.concurrency.len()),
    })
}

/// The stress run's plots and answers, less its throughput against
/// concurrency where one concurrency was measured: its two points would be
/// the warm-up and the measured step.
fn plots(stress: StressReport, concurrencies: usize) -> Vec<PathBuf> {
    let mut plots = Vec::new();
    for plot in stress.plots.into_iter().chain([stress.answers]) {
        let concurrency = plot
            .file_name()
            .is_some_and(|n| n == "throughput-vs-concurrency.svg");
        if concurrency && concurrencies < 2 {
            let _ = std::fs::remove_file(&plot);
        } else {
            plots.push(plot);
        }
    }
    plots
}
