//! The kernel's CPU counters, in clock ticks: each process's from
//! `/proc/<pid>/stat`, the machine's from `/proc/stat`; and its thread
//! switches: each process's summed over `/proc/<pid>/task/*/status`, the
//! machine's from `/proc/stat`.
use std::sync::OnceLock;

/// What `/proc/<pid>/stat` says of one process, in clock ticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    pub comm: String,
    pub ppid: u32,
    /// Since boot: with the pid, it tells a process from a later one that
    /// reused its pid.
    pub starttime: u64,
    /// utime + stime.
    pub own: u64,
    /// cutime + cstime: the children this process has reaped.
    pub reaped: u64,
    /// Voluntary and involuntary switches of its threads alive now; unlike
    /// the ticks, those of exited threads and reaped children are kept
    /// nowhere readable.
    pub switches: u64,
}

/// Every process's counters; one that exits while the directory is listed
/// is skipped. Blocks for a few milliseconds.
pub fn processes() -> Vec<Process> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|entry| {
            let line = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let mut process = parse_process(&line)?;
            process.switches = thread_switches(&entry.path());
            Some(process)
        })
        .collect()
}

/// The switches of the threads of the process at `dir` (`/proc/<pid>`).
fn thread_switches(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir.join("task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("status")).ok())
        .filter_map(|status| parse_switches(&status))
        .sum()
}

/// What `/proc/stat` says of the whole machine since boot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Machine {
    /// Busy ticks, summed over its CPUs.
    pub busy: u64,
    /// Thread switches on all its CPUs.
    pub switches: u64,
}

/// The machine's counters from one read of `/proc/stat` (each 0 where it
/// cannot be read).
pub fn machine() -> Machine {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    Machine {
        busy: parse_machine_busy(&text).unwrap_or(0),
        switches: parse_machine_switches(&text).unwrap_or(0),
    }
}

/// Clock ticks per second, from `getconf CLK_TCK` once (100 if that fails).
pub fn ticks_per_sec() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
            .filter(|ticks: &f64| *ticks > 0.0)
            .unwrap_or(100.0)
    })
}

/// One line of `/proc/<pid>/stat`. The comm sits in parentheses and may hold
/// spaces and parentheses itself, so the fields are counted after the last
/// `)`: field 3 (state) is the first there.
fn parse_process(line: &str) -> Option<Process> {
    let (open, close) = (line.find('(')?, line.rfind(')')?);
    let fields: Vec<&str> = line.get(close + 1..)?.split_whitespace().collect();
    let field = |n: usize| -> Option<u64> { fields.get(n - 3)?.parse().ok() };
    Some(Process {
        pid: line[..open].trim().parse().ok()?,
        comm: line.get(open + 1..close)?.to_owned(),
        ppid: u32::try_from(field(4)?).ok()?,
        starttime: field(22)?,
        own: field(14)? + field(15)?,
        reaped: field(16)? + field(17)?,
        switches: 0,
    })
}

/// A thread's voluntary plus involuntary switches, from its `status`.
fn parse_switches(status: &str) -> Option<u64> {
    let count = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.get(name.len()..)?.trim().parse().ok()
    };
    Some(count("voluntary_ctxt_switches:")? + count("nonvoluntary_ctxt_switches:")?)
}

/// `/proc/stat`'s `ctxt` line: every switch on every CPU since boot.
fn parse_machine_switches(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("ctxt "))?
        .trim()
        .parse()
        .ok()
}

/// Busy ticks of all CPUs from `/proc/stat`'s first line: user, nice,
/// system, irq, softirq and steal (guest time is inside user already).
fn parse_machine_busy(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let total: u64 = values.iter().take(8).sum();
    Some(total - values.get(3)? - values.get(4)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comm_with_spaces_and_parentheses_is_read_to_its_last_parenthesis() {
        let line = "4242 (my (odd) proc) S 17 4242 4242 0 -1 4194560 900 0 0 0 \
                    150 25 7 3 20 0 4 0 123456 1000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0";
        let process = parse_process(line);
        assert_eq!(
            process,
            Some(Process {
                pid: 4242,
                comm: "my (odd) proc".into(),
                ppid: 17,
                starttime: 123456,
                own: 175,
                reaped: 10,
                switches: 0,
            })
        );
    }

    #[test]
    fn a_truncated_stat_line_is_skipped() {
        assert_eq!(parse_process("4242 (postgres) S 1 2 3"), None);
        assert_eq!(parse_process("garbage"), None);
    }

    #[test]
    fn machine_busy_leaves_out_idle_and_iowait() {
        let text = "cpu  100 5 20 1000 50 1 2 3 0 0\ncpu0 50 2 10 500 25 0 1 1 0 0\n";
        assert_eq!(parse_machine_busy(text), Some(131));
    }

    #[test]
    fn switches_add_the_voluntary_and_the_involuntary() {
        let status = "Name:\ttokio-rt-worker\nState:\tS (sleeping)\n\
                      voluntary_ctxt_switches:\t1200\nnonvoluntary_ctxt_switches:\t34\n";
        assert_eq!(parse_switches(status), Some(1234));
        assert_eq!(parse_switches("Name:\tgone\n"), None);
    }

    #[test]
    fn machine_switches_are_the_ctxt_line() {
        let text = "cpu  100 5 20 1000 50 1 2 3 0 0\nintr 5 0 0\nctxt 987654\nbtime 1\n";
        assert_eq!(parse_machine_switches(text), Some(987654));
        assert_eq!(parse_machine_switches("cpu  1 2 3\n"), None);
    }
}
