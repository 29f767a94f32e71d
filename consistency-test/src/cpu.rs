//! CPU and thread switches per checkout, per process group: where a step's
//! CPU went, read from `/proc` at the step's start and end. The switches
//! are there because on the machines measured most of a hop's CPU went to
//! waking threads and switching to them (README, "Where the time goes").
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
//! Switches have no such trail: a group in which a process exited within
//! the step (seen gone, or through its parent's reaped ticks) has no switch
//! count, only the machine's total. Threads that exit within a step of a
//! process that lives on are missed; the services' threads live as long as
//! they do.
use std::collections::HashMap;
use std::fmt;
use std::time::Instant;

use serde::Serialize;

use crate::procfs::{self, Machine, Process, ticks_per_sec};

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
    machine: Machine,
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
    /// Thread switches; `None` when the step committed nothing or a process
    /// of the group exited within it.
    pub switches_per_checkout: Option<f64>,
}

impl Snapshot {
    /// Blocks for a few milliseconds: taken between steps, when nothing else
    /// of the harness runs.
    pub fn take() -> Snapshot {
        ticks_per_sec(); // `getconf` is run and reaped before the first reading.
        let processes = procfs::processes().into_iter().map(|p| ((p.pid, p.starttime), p));
        Snapshot {
            processes: processes.collect(),
            machine: procfs::machine(),
            at: Instant::now(),
        }
    }

    /// The CPU each group spent from `start` to this snapshot, per checkout
    /// committed in between and as a share of one core, and its switches
    /// per checkout.
    pub fn since(&self, start: &Snapshot, committed: usize) -> CpuUsage {
        let ticks = self.ticks_by_group(start);
        let of = |group: &str| ticks.get(group).copied().unwrap_or(0);
        let switches = self.switches_by_group(start);
        let switches_of = |group: &str| switches.get(group).copied().unwrap_or(Some(0));
        let mut usage = CpuUsage {
            secs: self.at.duration_since(start.at).as_secs_f64(),
            committed,
            groups: Vec::new(),
        };
        for group in GROUPS {
            usage.push(group, of(group), switches_of(group));
        }
        usage.push(
            "total",
            GROUPS.iter().map(|g| of(g).max(0)).sum(),
            GROUPS.iter().map(|g| switches_of(g).map(|n| n.max(0))).sum(),
        );
        usage.push(
            "machine",
            self.machine.busy.saturating_sub(start.machine.busy) as i64,
            Some(self.machine.switches.saturating_sub(start.machine.switches) as i64),
        );
        usage
    }

    /// Switches since `start`, by group; `None` for a group in which a
    /// process exited in between, whose switches are lost.
    fn switches_by_group(&self, start: &Snapshot) -> HashMap<&'static str, Option<i64>> {
        let mut switches: HashMap<&'static str, Option<i64>> = HashMap::new();
        let mut lost = Vec::new();
        for (key, now) in &self.processes {
            let before = start.processes.get(key);
            let (own, reaped) = before.map_or((0, 0), |b| (b.switches, b.reaped));
            let count = switches.entry(group_of(now)).or_insert(Some(0));
            *count = count.map(|n| n + now.switches as i64 - own as i64);
            if now.reaped > reaped {
                lost.push(reaped_group_of(now));
            }
        }
        for (key, gone) in &start.processes {
            if !self.processes.contains_key(key) {
                lost.push(group_of(gone));
            }
        }
        for group in lost {
            switches.insert(group, None);
        }
        switches
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
    fn push(&mut self, group: &'static str, ticks: i64, switches: Option<i64>) {
        let cpu_secs = ticks.max(0) as f64 / ticks_per_sec();
        let per_checkout = |total: f64| (self.committed > 0).then(|| total / self.committed as f64);
        self.groups.push(GroupCpu {
            group,
            cpu_ms_per_checkout: per_checkout(cpu_secs * 1000.0),
            percent_of_core: cpu_secs / self.secs.max(f64::EPSILON) * 100.0,
            switches_per_checkout: switches.and_then(|n| per_checkout(n.max(0) as f64)),
        });
    }
}

/// Three rows under the step's summary line, indented to sit beneath it.
impl fmt::Display for CpuUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = |g: &GroupCpu| g.group.len().max(6);
        write!(f, "    {:<17}", "cpu")?;
        for g in &self.groups {
            write!(f, " {:>w$}", g.group, w = width(g))?;
        }
        let mut row = |label: &str, precision: usize, value: fn(&GroupCpu) -> Option<f64>| {
            write!(f, "\n    {label:<17}")?;
            for g in &self.groups {
                match value(g) {
                    Some(v) => write!(f, " {:>w$.p$}", v, w = width(g), p = precision)?,
                    None => write!(f, " {:>w$}", "-", w = width(g))?,
                }
            }
            Ok(())
        };
        row("ms/checkout", 2, |g| g.cpu_ms_per_checkout)?;
        row("% of a core", 1, |g| Some(g.percent_of_core))?;
        row("switches/checkout", 1, |g| g.switches_per_checkout)
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
            switches: 0,
        }
    }

    fn switching(switches: u64, process: Process) -> Process {
        Process { switches, ..process }
    }

    fn snapshot(processes: Vec<Process>) -> Snapshot {
        let processes = processes.into_iter().map(|p| ((p.pid, p.starttime), p)).collect();
        Snapshot {
            at: Instant::now(),
            processes,
            machine: Machine::default(),
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
    fn switches_count_where_every_process_lived_through_the_step() {
        // Arrange: two order replicas alive throughout, a stock replica
        // started within the step, a postmaster that reaped a backend (and
        // another backend gone), and the harness reaping pgbench.
        let harness = std::process::id();
        let start = snapshot(vec![
            switching(1_000, process(20, "order", 1, 0, 0)),
            switching(2_000, process(21, "order", 1, 0, 0)),
            switching(500, process(10, "postgres", 1, 0, 0)),
            switching(70, process(11, "postgres", 10, 0, 0)),
            switching(9, process(harness, "consistency-tes", 1, 0, 0)),
        ]);
        let end = snapshot(vec![
            switching(1_300, process(20, "order", 1, 0, 0)),
            switching(2_100, process(21, "order", 1, 0, 0)),
            switching(40, process(30, "stock", 1, 0, 0)),
            switching(600, process(10, "postgres", 1, 0, 30)),
            switching(19, process(harness, "consistency-tes", 1, 0, 25)),
        ]);

        // Act
        let switches = end.switches_by_group(&start);

        // Assert
        assert_eq!(switches["order"], Some(300 + 100));
        assert_eq!(switches["stock"], Some(40));
        assert_eq!(switches[HARNESS], Some(10));
        assert_eq!(switches["postgres"], None);
        assert_eq!(switches["pgbench"], None);
    }

    #[test]
    fn a_group_without_a_switch_count_leaves_the_total_without_one() {
        let start = snapshot(vec![
            switching(100, process(20, "order", 1, 0, 0)),
            switching(100, process(11, "postgres", 10, 0, 0)),
        ]);
        let mut end = snapshot(vec![switching(300, process(20, "order", 1, 0, 0))]);
        end.machine.switches = 1_000;

        let usage = end.since(&start, 100);

        let per_checkout = |group: &str| {
            usage
                .groups
                .iter()
                .find(|g| g.group == group)
                .and_then(|g| g.switches_per_checkout)
        };
        assert_eq!(per_checkout("order"), Some(2.0));
        assert_eq!(per_checkout("postgres"), None);
        assert_eq!(per_checkout("total"), None);
        assert_eq!(per_checkout("machine"), Some(10.0));
    }

    #[test]
    fn the_harness_is_found_in_its_own_snapshot() {
        let snapshot = Snapshot::take();
        assert!(snapshot.processes.values().any(|p| group_of(p) == HARNESS));
    }
}
