//! Faults injected while checkouts are in flight. They are shell commands
//! the harness is given, so it knows nothing of how the system is deployed:
//! `deploy/local/fault.sh` for `make up`, kubectl for a cluster.
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::ensure;
use tokio::sync::oneshot;

/// What to run, and how long the system stays broken before the repair.
#[derive(Debug, Clone)]
pub struct Plan {
    pub inject: String,
    pub hold: Duration,
    pub repair: Option<String>,
}

/// Counts the checkouts that have not answered yet.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub total: usize,
    pub answered: Arc<AtomicUsize>,
}

impl InFlight {
    pub fn now(&self) -> usize {
        self.total - self.answered.load(Ordering::SeqCst)
    }
}

/// When a fault was injected and repaired, and how many checkouts had not
/// answered yet when the inject command started and when it had finished
/// (a graceful broker stop takes seconds, and checkouts go on meanwhile).
#[derive(Debug, Clone, Copy)]
pub struct Injected {
    pub in_flight: usize,
    pub in_flight_once_broken: usize,
    pub injected_at: Instant,
    pub repaired_at: Instant,
}

/// Waits for the checkouts to say "now", then
/// injects the fault, holds it, and repairs it. `None` when the signal never
/// came (every checkout answered before the trigger count).
pub async fn when_signalled(
    now: oneshot::Receiver<InFlight>,
    plan: Plan,
) -> anyhow::Result<Option<Injected>> {
    let Ok(counter) = now.await else {
        return Ok(None);
    };
    let injected_at = Instant::now();
    let in_flight = counter.now();
    eprintln!(
        "fault: injecting with {in_flight} checkouts in flight: {}",
        plan.inject
    );
    shell(&plan.inject).await?;
    let in_flight_once_broken = counter.now();
    tokio::time::sleep(plan.hold).await;
    if let Some(repair) = &plan.repair {
        eprintln!("fault: repairing: {repair}");
        shell(repair).await?;
    }
    Ok(Some(Injected {
        in_flight,
        in_flight_once_broken,
        injected_at,
        repaired_at: Instant::now(),
    }))
}

pub async fn shell(command: &str) -> anyhow::Result<()> {
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .status()
        .await?;
    ensure!(status.success(), "`{command}` failed: {status}");
    Ok(())
}
