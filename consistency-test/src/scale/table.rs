//! The report as text: one row per design and replica count (checkouts/s,
//! ratio to the fewest replicas, the machine's busy share, CPU per checkout
//! by process group), each replica's share of a core and of its periods
//! throttled, and per design the verdict against the goal.
use std::fmt;

use super::report::{
    BUSY_MACHINE_PERCENT, GOAL_RATIO, Point, ScaleReport, design, group, projected_busy_percent,
};

/// The process groups of the table (cpu.rs's names), with their headings.
const COLUMNS: [(&str, &str); 9] = [
    ("order", "order"),
    ("stock", "stock"),
    ("payment", "payment"),
    ("postgres", "postgres"),
    ("rabbitmq", "rabbitmq"),
    ("nginx", "nginx"),
    ("consistency-test", "harness"),
    ("other", "other"),
    ("machine", "machine"),
];

impl fmt::Display for ScaleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clients: Vec<String> = self.concurrency.iter().map(ToString::to_string).collect();
        writeln!(
            f,
            "bench-scale: each replica capped at {} % of a core ({} µs every {} µs), {} clients, {} s a step",
            self.cpu_percent,
            self.quota.quota_us,
            self.quota.period_us,
            clients.join("/"),
            self.point_secs
        )?;
        write!(
            f,
            "{:<42} {:>8} {:>11} {:>6} {:>7} {:>8}",
            "design", "replicas", "checkouts/s", "ratio", "p50 ms", "busy %"
        )?;
        write!(f, "  CPU ms/checkout:")?;
        for (_, heading) in COLUMNS {
            write!(f, " {heading:>8}")?;
        }
        for point in &self.points {
            self.row(f, point)?;
        }
        writeln!(
            f,
            "\n(ratio: to the same design's fewest replicas; busy %: of all {} cores)",
            self.cores
        )?;
        writeln!(f, "each replica, % of a core (% of its periods throttled):")?;
        for point in &self.points {
            write!(
                f,
                "  {}, {} replicas:",
                design(point.id.partitions),
                point.id.replicas
            )?;
            for r in &point.replica_cpu {
                write!(
                    f,
                    " {} {:.0} ({:.0})",
                    r.name, r.percent_of_core, r.throttled_percent
                )?;
            }
            writeln!(f)?;
        }
        for failure in &self.failed {
            writeln!(f, "failed: {failure}")?;
        }
        self.verdicts(f)
    }
}

impl ScaleReport {
    fn row(&self, f: &mut fmt::Formatter<'_>, point: &Point) -> fmt::Result {
        let best = &point.best;
        let busy = group(best, "machine").map_or(0.0, |g| g.percent_of_core) / self.cores.max(1) as f64;
        let ratio = point.ratio.map_or("-".to_owned(), |r| format!("{r:.2}"));
        write!(
            f,
            "\n{:<42} {:>8} {:>11.1} {:>6} {:>7.1} {:>8.0}                  ",
            design(point.id.partitions),
            point.id.replicas,
            best.committed_per_sec,
            ratio,
            best.latency.p50_ms,
            busy
        )?;
        for (name, _) in COLUMNS {
            match group(best, name).and_then(|g| g.cpu_ms_per_checkout) {
                Some(ms) => write!(f, " {ms:>8.2}")?,
                None => write!(f, " {:>8}", "-")?,
            }
        }
        Ok(())
    }

    /// Per design: the most replicas against the fewest, beside the goal,
    /// and how busy linear growth from the fewest would keep the machine.
    fn verdicts(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for partitions in self.designs() {
            let Some((fewest, most)) = self.ends(partitions) else {
                continue;
            };
            let times = f64::from(most.id.replicas) / f64::from(fewest.id.replicas);
            let busy = projected_busy_percent(fewest, times, self.cores);
            let ratio = most.ratio.map_or("-".to_owned(), |r| format!("{r:.2}"));
            writeln!(
                f,
                "{}: {} replicas commit {ratio} times what {} does{}; {times:.0} times the rate of {} \
                 at its CPU per checkout would keep the machine {busy:.0} % busy{}",
                design(partitions),
                most.id.replicas,
                fewest.id.replicas,
                if partitions > 1 {
                    format!(" (goal, 4 against 1: at least {GOAL_RATIO})")
                } else {
                    String::new()
                },
                fewest.id.replicas,
                if busy > BUSY_MACHINE_PERCENT {
                    " (over 85 %: lower SCALE_CPU_PERCENT)"
                } else {
                    ""
                }
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::{CpuUsage, GroupCpu};
    use crate::latency::Percentiles;
    use crate::scale::cgroup::Quota;
    use crate::scale::system::PointId;
    use crate::stress::Step;

    /// A point at `rate` checkouts/s whose system's own processes kept
    /// `busy` % of one core busy and the rest of the machine `other` %.
    fn point(partitions: u32, replicas: u32, rate: f64, busy: f64, other: f64) -> Point {
        let groups = [("order", busy), ("other", other), ("total", busy + other)];
        let groups = groups.map(|(group, percent_of_core)| GroupCpu {
            group,
            cpu_ms_per_checkout: Some(percent_of_core * 10.0 / rate),
            percent_of_core,
            switches_per_checkout: None,
        });
        let committed = (rate * 10.0) as usize;
        let cpu = CpuUsage {
            secs: 10.0,
            committed,
            groups: groups.to_vec(),
        };
        let best = Step {
            concurrency: 512,
            rate: 0.0,
            duration_secs: 10.0,
            committed,
            committed_per_sec: rate,
            refused: 0,
            repeats: 0,
            other: 0,
            latency: Percentiles::default(),
            cpu,
        };
        let id = PointId { partitions, replicas };
        let (replica_cpu, steps, plots) = (Vec::new(), vec![best.clone()], Vec::new());
        Point {
            id,
            best,
            replica_cpu,
            ratio: None,
            steps,
            plots,
        }
    }

    fn report(points: Vec<Point>) -> ScaleReport {
        let quota = Quota {
            quota_us: 5_000,
            period_us: 100_000,
        };
        let mut report = ScaleReport {
            cpu_percent: 5.0,
            quota,
            concurrency: vec![512],
            point_secs: 10.0,
            cores: 2,
            points,
            failed: Vec::new(),
            plot: None,
        };
        report.ratios();
        report
    }

    #[test]
    fn each_design_gets_a_verdict_of_its_most_replicas_against_its_fewest() {
        let report = report(vec![
            point(1, 1, 100.0, 30.0, 50.0),
            point(8, 1, 100.0, 30.0, 50.0),
            point(1, 4, 280.0, 80.0, 10.0),
            point(8, 4, 390.0, 110.0, 10.0),
        ]);

        let text = report.to_string();

        let verdict = |name: &str| {
            text.lines()
                .find(|l| l.starts_with(name))
                .unwrap_or_default()
                .to_owned()
        };
        let partitioned = verdict("AMQP_PARTITIONS=8:");
        assert!(
            partitioned.contains("4 replicas commit 3.90 times what 1 does"),
            "{partitioned}"
        );
        assert!(partitioned.contains("at least 3"), "{partitioned}");
        // 4 times 30 % of a core on 2 cores; the other processes left out.
        assert!(
            partitioned.contains("keep the machine 60 % busy"),
            "{partitioned}"
        );
        let single = verdict("AMQP_PARTITIONS=1 (single active consumer):");
        assert!(
            single.contains("2.80 times") && !single.contains("goal"),
            "{single}"
        );
    }

    #[test]
    fn a_quota_too_large_for_the_machine_is_called_out() {
        let report = report(vec![
            point(8, 1, 100.0, 60.0, 0.0),
            point(8, 4, 390.0, 190.0, 0.0),
        ]);

        let text = report.to_string();

        assert!(
            text.contains("120 % busy (over 85 %: lower SCALE_CPU_PERCENT)"),
            "{text}"
        );
    }
}
