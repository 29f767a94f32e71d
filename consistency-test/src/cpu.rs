//! CPU per checkout, per process group: where a step's CPU went, read from
//! `/proc/<pid>/stat` and `/proc/stat` at the step's start and end.
//!
//! ```text
//! Snapshot::take() ── step ── Snapshot::take().since(&start, committed) -> CpuUsage
//! ```
//! A process alive at both ends counts its own ticks in between; one that
//! started within the step counts all of its ticks. A process that exited
//! within the step is seen through its parent, whose `cutime`/`cstime` grow
//! by the child's whole life when it is reaped: that is how pgbench (reaped
//! by the harness) and the backends serving it (reaped by the postmaster) are
//! counted at all, since both are gone by the end of a monolith step.
use std::collections::HashMap;
use std::fmt;
use std::time::Instant;

use serde::Serialize;

use crate::procfs::{self, Process, ticks_per_sec};

/// The groups, in the order they are reported; `total` and `machine` follow.
const GROUPS: [&str; 9] = [
    "postgres", "rabbitmq", "nginx", "order", "stock", "payment", "pgbench", HARNESS, "other",
];
const HARNESS: &str = "consistency-test";

/// Every process's ticks and the machine's busy ticks at one moment.
#[derive(Debug)]
pub struct Snapshot {
    at: Instant,
    processes: HashMap<(u32, u64), Process>,
    machine_busy: u64,
}

/// Where a step's CPU went.
#[derive(Debug, Clone, Serialize)]
pub struct CpuUsage {
    /// Between the two snapshots.
    pub secs: f64,
    pub committed: usize,
    pub groups: Vec<GroupCpu>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupCpu {
    pub group: &'static str,
    /// `None` when the step committed nothing.
    pub cpu_ms_per_checkout: Option<f64>,
    /// 100 is one core busy for the whole step.
    pub percent_of_core: f64,
}

impl Snapshot {
    /// Blocks for a few milliseconds: taken between steps, when nothing else
    /// of the harness runs.
    pub fn take() -> Snapshot {
        ticks_per_sec(); // `getconf` is run and reaped before the first reading.
        let processes = procfs::processes().into_iter().map(|p| ((p.pid, p.starttime), p));
        Snapshot {
            processes: processes.collect(),
            machine_busy: procfs::machine_busy(),
            at: Instant::now(),
        }
    }

    /// The CPU each group spent from `start` to this snapshot, per checkout
    /// committed in between and as a share of one core.
    pub fn since(&self, start: &Snapshot, committed: usize) -> CpuUsage {
        let ticks = self.ticks_by_group(start);
        let of = |group: &str| ticks.get(group).copied().unwrap_or(0);
        let mut usage = CpuUsage {
            secs: self.at.duration_since(start.at).as_secs_f64(),
            committed,
            groups: Vec::new(),
        };
        for group in GROUPS {
            usage.push(group, of(group));
        }
        usage.push("total", GROUPS.iter().map(|g| of(g).max(0)).sum());
        usage.push(
            "machine",
            self.machine_busy.saturating_sub(start.machine_busy) as i64,
        );
        usage
    }

    /// Ticks spent since `start`, by group.
    fn ticks_by_group(&self, start: &Snapshot) -> HashMap<&'static str, i64> {
        let mut ticks: HashMap<&'static str, i64> = HashMap::new();
        for (key, now) in &self.processes {
            let before = start.processes.get(key);
            let (own, reaped) = before.map_or((0, 0), |b| (b.own, b.reaped));
            *ticks.entry(group_of(now)).or_default() += now.own as i64 - own as i64;
            *ticks.entry(reaped_group_of(now)).or_default() += now.reaped as i64 - reaped as i64;
        }
        // A process that exited was added to its parent's reaped ticks with
        // its whole life: take back what it had spent before the step.
        for (key, gone) in &start.processes {
            if !self.processes.contains_key(key) {
                let parent = start.processes.values().find(|p| p.pid == gone.ppid);
                let group = parent.map_or("other", reaped_group_of);
                *ticks.entry(group).or_default() -= (gone.own + gone.reaped) as i64;
            }
        }
        ticks
    }
}

impl CpuUsage {
    fn push(&mut self, group: &'static str, ticks: i64) {
        let cpu_secs = ticks.max(0) as f64 / ticks_per_sec();
        self.groups.push(GroupCpu {
            group,
            cpu_ms_per_checkout: (self.committed > 0).then(|| cpu_secs * 1000.0 / self.committed as f64),
            percent_of_core: cpu_secs / self.secs.max(f64::EPSILON) * 100.0,
        });
    }
}

/// Two rows under the step's summary line, indented to sit beneath it.
impl fmt::Display for CpuUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = |g: &GroupCpu| g.group.len().max(6);
        write!(f, "    {:<13}", "cpu")?;
        for g in &self.groups {
            write!(f, " {:>w$}", g.group, w = width(g))?;
        }
        write!(f, "\n    {:<13}", "ms/checkout")?;
        for g in &self.groups {
            match g.cpu_ms_per_checkout {
                Some(ms) => write!(f, " {:>w$.2}", ms, w = width(g))?,
                None => write!(f, " {:>w$}", "-", w = width(g))?,
            }
        }
        write!(f, "\n    {:<13}", "% of a core")?;
        for g in &self.groups {
            write!(f, " {:>w$.1}", g.percent_of_core, w = width(g))?;
        }
        Ok(())
    }
}

/// The group a process's own ticks count in: by pid for the harness (its
/// comm is cut to 15 characters), by comm for the rest.
fn group_of(process: &Process) -> &'static str {
    if process.pid == std::process::id() {
        return HARNESS;
    }
    match process.comm.as_str() {
        "postgres" => "postgres",
        "beam.smp" => "rabbitmq",
        "nginx" => "nginx",
        "order" => "order",
        "stock" => "stock",
        "payment" => "payment",
        "pgbench" => "pgbench",
        _ => "other",
    }
}

/// The group the children a process reaped count in: its own, except for the
/// harness, whose only child during a step is pgbench (psql runs between
/// steps).
fn reaped_group_of(process: &Process) -> &'static str {
    match group_of(process) {
        HARNESS => "pgbench",
        group => group,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(pid: u32, comm: &str, ppid: u32, own: u64, reaped: u64) -> Process {
        let comm = comm.to_owned();
        let starttime = 1;
        Process {
            pid,
            comm,
            ppid,
            starttime,
            own,
            reaped,
        }
    }

    fn snapshot(processes: Vec<Process>) -> Snapshot {
        let processes = processes.into_iter().map(|p| ((p.pid, p.starttime), p)).collect();
        Snapshot {
            at: Instant::now(),
            processes,
            machine_busy: 0,
        }
    }

    #[test]
    fn exited_children_count_through_their_parent_from_the_start_on() {
        // Arrange: a postmaster with a backend that exits within the step and
        // one that lives and dies inside it (40 ticks), the harness reaping
        // pgbench (25 ticks), and a stock replica started within the step.
        let harness = std::process::id();
        let start = snapshot(vec![
            process(10, "postgres", 1, 100, 50),
            process(11, "postgres", 10, 30, 0),
            process(20, "order", 1, 200, 0),
            process(harness, "consistency-tes", 1, 5, 0),
        ]);
        let end = snapshot(vec![
            process(10, "postgres", 1, 110, 50 + 70 + 40),
            process(20, "order", 1, 260, 0),
            process(30, "stock", 1, 15, 0),
            process(harness, "consistency-tes", 1, 7, 25),
        ]);

        // Act
        let ticks = end.ticks_by_group(&start);

        // Assert: the exited backend spent 70 - 30 ticks within the step.
        assert_eq!(ticks["postgres"], 10 + 40 + 40);
        assert_eq!(ticks["pgbench"], 25);
        assert_eq!(ticks[HARNESS], 2);
        assert_eq!((ticks["order"], ticks["stock"]), (60, 15));
    }

    #[test]
    fn the_harness_is_found_in_its_own_snapshot() {
        let snapshot = Snapshot::take();
        assert!(snapshot.processes.values().any(|p| group_of(p) == HARNESS));
    }
}
