//! A CPU quota per process, through the cgroup v1 `cpu` controller: one
//! group per replica under `<mount>/webshop-bench-scale/<point>/`, each
//! allowed `quota` µs of CPU every `period` µs, as a container's CPU limit
//! is on a node (Kubernetes sets the same two files).
//!
//! ```text
//! CpuController::find()?.group("p1-r2/order-1")? -> CpuGroup
//!   .limit(quota)  .adopt(pid)  .throttling()  ..  .remove()
//! ```
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;

/// Every group of the benchmark lives under this one, so a crashed run's
/// leftovers are found (and reused) by the next.
const ROOT: &str = "webshop-bench-scale";

/// Where the `cpu` controller is mounted.
#[derive(Debug, Clone)]
pub struct CpuController {
    mount: PathBuf,
}

/// One group of the controller.
#[derive(Debug, Clone)]
pub struct CpuGroup {
    path: PathBuf,
}

/// A CPU quota: `quota_us` of CPU in every `period_us` of wall time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Quota {
    pub quota_us: u64,
    pub period_us: u64,
}

/// What the kernel's `cpu.stat` counts for a group since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Throttling {
    /// Periods in which the group had something to run.
    pub periods: u64,
    /// Of those, periods in which it used up its quota and was stopped.
    pub throttled: u64,
}

impl Quota {
    /// `percent` of one core (100 is a whole core), over `period_us`.
    pub fn of_core(percent: f64, period_us: u64) -> anyhow::Result<Quota> {
        // The kernel takes no quota under 1 ms.
        let quota_us = (period_us as f64 * percent / 100.0).round() as u64;
        if quota_us < 1000 || period_us < 1000 {
            bail!("{percent} % of a core over {period_us} µs is under the kernel's 1 ms least quota");
        }
        Ok(Quota { quota_us, period_us })
    }
}

impl Throttling {
    /// The share of the periods in `since..self` that ended throttled, in %.
    pub fn throttled_percent(&self, since: &Throttling) -> f64 {
        let periods = self.periods.saturating_sub(since.periods);
        let throttled = self.throttled.saturating_sub(since.throttled);
        if periods == 0 {
            return 0.0;
        }
        throttled as f64 / periods as f64 * 100.0
    }
}

impl CpuController {
    /// The controller's mount, from `/proc/mounts`; an error where it is
    /// missing or cannot be written (not root, or cgroup v2 only).
    pub fn find() -> anyhow::Result<CpuController> {
        let mounts = std::fs::read_to_string("/proc/mounts").context("reading /proc/mounts")?;
        let mount = cpu_mount(&mounts).context(
            "no cgroup v1 `cpu` controller is mounted (see `mount | grep cgroup`): \
             bench-scale caps each replica through its cpu.cfs_quota_us",
        )?;
        let root = mount.join(ROOT);
        std::fs::create_dir_all(&root)
            .with_context(|| format!("creating {} (bench-scale runs as root)", root.display()))?;
        Ok(CpuController { mount })
    }

    /// The group `name` (a relative path such as `p8-r4/stock-2`), made
    /// when missing.
    pub fn group(&self, name: &str) -> anyhow::Result<CpuGroup> {
        let path = group_path(&self.mount, name)?;
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(CpuGroup { path })
    }
}

impl CpuGroup {
    pub fn limit(&self, quota: Quota) -> anyhow::Result<()> {
        // A period shorter than the quota in force is refused: lift first.
        self.write("cpu.cfs_quota_us", "-1")?;
        self.write("cpu.cfs_period_us", &quota.period_us.to_string())?;
        self.write("cpu.cfs_quota_us", &quota.quota_us.to_string())
    }

    /// Moves every thread of process `pid` into the group; the threads and
    /// children it starts later are born there.
    pub fn adopt(&self, pid: u32) -> anyhow::Result<()> {
        self.write("cgroup.procs", &pid.to_string())
    }

    pub fn throttling(&self) -> anyhow::Result<Throttling> {
        let path = self.path.join("cpu.stat");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        Ok(parse_cpu_stat(&text))
    }

    /// Removes the group once its processes have exited (a group that still
    /// holds one cannot be removed).
    pub fn remove(&self) -> anyhow::Result<()> {
        std::fs::remove_dir(&self.path).with_context(|| format!("removing {}", self.path.display()))
    }

    fn write(&self, file: &str, value: &str) -> anyhow::Result<()> {
        let path = self.path.join(file);
        std::fs::write(&path, value).with_context(|| format!("writing {value} to {}", path.display()))
    }
}

/// The mount point of the v1 hierarchy that holds the `cpu` controller,
/// alone or with others (`cpu,cpuacct`), from the text of `/proc/mounts`.
fn cpu_mount(mounts: &str) -> Option<PathBuf> {
    mounts.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (point, kind, options) = (fields.get(1)?, fields.get(2)?, fields.get(3)?);
        let cpu = options.split(',').any(|option| option == "cpu");
        (*kind == "cgroup" && cpu).then(|| PathBuf::from(point))
    })
}

/// `name` under the benchmark's root group: plain segments only, so no name
/// can reach a group outside it.
fn group_path(mount: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let mut path = mount.join(ROOT);
    for segment in name.split('/') {
        let plain = segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if segment.is_empty() || segment.starts_with('.') || !plain {
            bail!("{name:?} is not a plain cgroup name");
        }
        path.push(segment);
    }
    Ok(path)
}

fn parse_cpu_stat(text: &str) -> Throttling {
    let count = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(0)
    };
    Throttling {
        periods: count("nr_periods"),
        throttled: count("nr_throttled"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_controller_is_found_alone_or_mounted_with_cpuacct() {
        let alone = "cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0\n\
                     cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n";
        let joint = "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n\
                     cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0\n";
        let v2_only = "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev 0 0\n";

        assert_eq!(cpu_mount(alone), Some(PathBuf::from("/sys/fs/cgroup/cpu")));
        assert_eq!(
            cpu_mount(joint),
            Some(PathBuf::from("/sys/fs/cgroup/cpu,cpuacct"))
        );
        assert_eq!(cpu_mount(v2_only), None);
    }

    #[test]
    fn a_group_name_stays_under_the_benchmarks_root() {
        let mount = Path::new("/sys/fs/cgroup/cpu");

        let path = group_path(mount, "p8-r4/order-2").ok();

        let expected = "/sys/fs/cgroup/cpu/webshop-bench-scale/p8-r4/order-2";
        assert_eq!(path, Some(PathBuf::from(expected)));
        for bad in ["../order-1", "p1/../../x", "", "p1//order-1", "/abs", "p 1"] {
            assert!(group_path(mount, bad).is_err(), "{bad:?} was taken");
        }
    }

    #[test]
    fn a_quota_is_a_share_of_one_core_over_the_period() {
        let quota = Quota::of_core(12.5, 100_000).ok();

        assert_eq!(
            quota,
            Some(Quota {
                quota_us: 12_500,
                period_us: 100_000
            })
        );
        assert!(Quota::of_core(0.5, 100_000).is_err());
    }

    #[test]
    fn throttled_share_counts_the_periods_between_two_readings() {
        let before = parse_cpu_stat("nr_periods 100\nnr_throttled 10\nthrottled_time 5\n");
        let after = parse_cpu_stat("nr_periods 300\nnr_throttled 160\nthrottled_time 9\n");

        assert_eq!(after.throttled_percent(&before), 75.0);
        assert_eq!(before.throttled_percent(&before), 0.0);
    }
}
