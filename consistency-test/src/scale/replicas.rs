//! A point's replicas, each in a capped cgroup of its own, and the CPU each
//! spent between two readings: its ticks from `/proc/<pid>/stat` and the
//! share of its quota periods that ended throttled. A capped service that is
//! the bottleneck shows its replicas near their quota and mostly throttled;
//! with one active consumer a stream, one replica of a service does so while
//! the others idle.
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, ensure};
use serde::Serialize;

use super::cgroup::{CpuController, CpuGroup, Quota, Throttling};
use crate::procfs::{self, ticks_per_sec};

#[derive(Debug, Default)]
pub struct Replicas {
    /// The point's group, parent of its replicas' (once capped).
    group: Option<CpuGroup>,
    replicas: Vec<Replica>,
}

#[derive(Debug)]
struct Replica {
    name: String,
    pid: u32,
    group: CpuGroup,
}

/// What the replicas' counters read at one moment.
#[derive(Debug, Clone)]
pub struct Reading {
    at: Instant,
    counters: Vec<(u64, Throttling)>,
}

/// One replica's CPU between two readings.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaCpu {
    pub name: String,
    /// 100 is one core busy throughout.
    pub percent_of_core: f64,
    /// Periods in which it used up its quota, of those it ran in.
    pub throttled_percent: f64,
}

impl Replicas {
    /// Moves each of `names` (their pids in `<run_dir>/<name>.pid`, as
    /// up.sh writes them) into a group of its own under `point`, with
    /// `quota`.
    pub fn cap(
        &mut self,
        controller: &CpuController,
        point: &str,
        run_dir: &Path,
        names: Vec<String>,
        quota: Quota,
    ) -> anyhow::Result<()> {
        self.group = Some(controller.group(point)?);
        for name in names {
            let pid = pid_of(run_dir, &name)?;
            let group = controller.group(&format!("{point}/{name}"))?;
            group.limit(quota)?;
            group.adopt(pid)?;
            self.replicas.push(Replica { name, pid, group });
        }
        Ok(())
    }

    pub fn read(&self) -> anyhow::Result<Reading> {
        let processes = procfs::processes();
        let mut counters = Vec::new();
        for replica in &self.replicas {
            let process = processes.iter().find(|p| p.pid == replica.pid);
            let process = process.with_context(|| format!("{} has exited", replica.name))?;
            counters.push((process.own, replica.group.throttling()?));
        }
        Ok(Reading {
            at: Instant::now(),
            counters,
        })
    }

    /// Each replica's CPU from `start` to `end`.
    pub fn cpu(&self, start: &Reading, end: &Reading) -> Vec<ReplicaCpu> {
        let secs = end.at.duration_since(start.at).as_secs_f64().max(f64::EPSILON);
        let pairs = start.counters.iter().zip(&end.counters);
        (self.replicas.iter().zip(pairs))
            .map(|(replica, ((ticks0, stat0), (ticks1, stat1)))| ReplicaCpu {
                name: replica.name.clone(),
                percent_of_core: ticks1.saturating_sub(*ticks0) as f64 / ticks_per_sec() / secs * 100.0,
                throttled_percent: stat1.throttled_percent(stat0),
            })
            .collect()
    }

    /// Removes the groups, once their processes have exited: every one it
    /// can, then the first failure.
    pub fn remove(&self) -> anyhow::Result<()> {
        let groups = self.replicas.iter().map(|r| &r.group).chain(&self.group);
        groups.map(CpuGroup::remove).fold(Ok(()), anyhow::Result::and)
    }
}

/// The pid up.sh recorded for replica `name`, checked to be that service's
/// process: a pid file left by an earlier system could name any process.
fn pid_of(run_dir: &Path, name: &str) -> anyhow::Result<u32> {
    let pidfile = run_dir.join(format!("{name}.pid"));
    let text = std::fs::read_to_string(&pidfile).with_context(|| format!("reading {}", pidfile.display()))?;
    let pid: u32 = (text.trim().parse()).with_context(|| format!("{} holds {text:?}", pidfile.display()))?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let service = name.split('-').next().unwrap_or_default();
    ensure!(
        comm.trim() == service,
        "{name}'s pid {pid} is {comm:?}, not {service}"
    );
    Ok(pid)
}
