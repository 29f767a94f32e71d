//! The figures of `make bench-scale`: per design and replica count the
//! committed checkouts/s, their ratio to the same design's fewest replicas,
//! the CPU per checkout of each process group and each replica's share of
//! its quota.
use std::path::PathBuf;

use serde::Serialize;

use super::cgroup::Quota;
use super::replicas::ReplicaCpu;
use super::system::PointId;
use crate::stress::Step;

/// Issue 34's bar: 4 capped replicas give at least this many times the
/// committed checkouts/s of 1 on the partitioned design.
pub const GOAL_RATIO: f64 = 3.0;
/// A machine busier than this at the most replicas would let PostgreSQL,
/// RabbitMQ or the load generator, not the capped services, set the figure.
pub const BUSY_MACHINE_PERCENT: f64 = 85.0;

/// One design at one replica count, at its best measured step.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    #[serde(flatten)]
    pub id: PointId,
    /// The measured step (the warm-up left out) that committed the most.
    pub best: Step,
    /// Each replica's CPU during that step (`replicas` is their count).
    pub replica_cpu: Vec<ReplicaCpu>,
    /// Committed/s over that of the same design at its fewest replicas.
    pub ratio: Option<f64>,
    pub steps: Vec<Step>,
    /// The stress run's latency plot and every answer, per point.
    pub plots: Vec<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct ScaleReport {
    /// Each replica's share of one core.
    pub cpu_percent: f64,
    pub quota: Quota,
    pub concurrency: Vec<usize>,
    pub point_secs: f64,
    /// The machine's CPUs: 100 % busy is all of them.
    pub cores: usize,
    pub points: Vec<Point>,
    /// The points that could not be measured, each with its error.
    pub failed: Vec<String>,
    pub plot: Option<PathBuf>,
}

/// How a design is named in the table and the plot.
pub fn design(partitions: u32) -> String {
    match partitions {
        1 => "AMQP_PARTITIONS=1 (single active consumer)".to_owned(),
        n => format!("AMQP_PARTITIONS={n}"),
    }
}

/// Each of `points` (partitions, replicas, committed/s) over the point of
/// the same partitions with the fewest replicas; `None` where that one
/// committed nothing.
pub fn ratios(points: &[(u32, u32, f64)]) -> Vec<Option<f64>> {
    let base = |partitions: u32| {
        points
            .iter()
            .filter(|p| p.0 == partitions)
            .min_by_key(|p| p.1)
            .map(|p| p.2)
    };
    points
        .iter()
        .map(|&(partitions, _, rate)| base(partitions).filter(|b| *b > 0.0).map(|b| rate / b))
        .collect()
}

impl ScaleReport {
    /// Fills each point's ratio.
    pub fn ratios(&mut self) {
        let keys: Vec<_> = self
            .points
            .iter()
            .map(|p| (p.id.partitions, p.id.replicas, rate(p)))
            .collect();
        for (point, ratio) in self.points.iter_mut().zip(ratios(&keys)) {
            point.ratio = ratio;
        }
    }

    /// The plot's caption.
    pub fn title(&self) -> String {
        let clients: Vec<String> = self.concurrency.iter().map(ToString::to_string).collect();
        format!(
            "Committed checkouts/s, each replica capped at {} % of a core, {} clients",
            self.cpu_percent,
            clients.join("/")
        )
    }

    /// The designs in the order they were measured.
    pub fn designs(&self) -> Vec<u32> {
        let mut designs: Vec<u32> = Vec::new();
        for point in &self.points {
            if !designs.contains(&point.id.partitions) {
                designs.push(point.id.partitions);
            }
        }
        designs
    }

    /// One line per design: (name, [(replicas, committed/s)]) by replicas.
    pub fn series(&self) -> Vec<(String, Vec<(u32, f64)>)> {
        let line = |partitions| {
            let mut points: Vec<(u32, f64)> = (self.points.iter())
                .filter(|p| p.id.partitions == partitions)
                .map(|p| (p.id.replicas, rate(p)))
                .collect();
            points.sort_by_key(|p| p.0);
            (design(partitions), points)
        };
        self.designs().into_iter().map(line).collect()
    }

    /// The design's fewest- and most-replica points.
    pub(super) fn ends(&self, partitions: u32) -> Option<(&Point, &Point)> {
        let of = || self.points.iter().filter(move |p| p.id.partitions == partitions);
        Some((
            of().min_by_key(|p| p.id.replicas)?,
            of().max_by_key(|p| p.id.replicas)?,
        ))
    }
}

/// How busy the system's own processes (every group but `other`) would
/// keep the machine at `times` the point's rate, at the point's CPU per
/// checkout: whether a quota leaves room for linear growth. `other` is left
/// out: on a shared machine it is whatever else ran at the time.
pub fn projected_busy_percent(point: &Point, times: f64, cores: usize) -> f64 {
    let percent = |name| group(&point.best, name).map_or(0.0, |g| g.percent_of_core);
    (percent("total") - percent("other")) * times / cores.max(1) as f64
}

pub(super) fn rate(point: &Point) -> f64 {
    point.best.committed_per_sec
}

pub(super) fn group<'a>(step: &'a Step, name: &str) -> Option<&'a crate::cpu::GroupCpu> {
    step.cpu.groups.iter().find(|g| g.group == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ratio_is_to_the_fewest_replicas_of_the_same_design() {
        let points = [
            (1, 1, 100.0),
            (8, 1, 110.0),
            (1, 2, 120.0),
            (8, 2, 220.0),
            (8, 4, 385.0),
            (1, 4, 0.0),
        ];

        let ratios = ratios(&points);

        assert_eq!(
            ratios,
            vec![Some(1.0), Some(1.0), Some(1.2), Some(2.0), Some(3.5), Some(0.0)]
        );
    }

    #[test]
    fn a_design_whose_fewest_replicas_committed_nothing_has_no_ratio() {
        let points = [(8, 2, 0.0), (8, 4, 50.0), (1, 2, 10.0)];

        assert_eq!(ratios(&points), vec![None, None, Some(1.0)]);
    }

    #[test]
    fn a_design_is_named_by_its_partitions() {
        assert_eq!(design(1), "AMQP_PARTITIONS=1 (single active consumer)");
        assert_eq!(design(8), "AMQP_PARTITIONS=8");
    }
}
