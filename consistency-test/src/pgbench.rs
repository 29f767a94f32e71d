//! One pgbench run of the monolith's checkout script (`monolith/checkout.sql`)
//! and the figures of its summary.
use anyhow::{Context, ensure};
use tokio::process::Command;

const CHECKOUT: &str = include_str!("../monolith/checkout.sql");

/// pgbench's own figures: they count a checkout of a paid order too.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    pub tps: f64,
    pub latency_average_ms: f64,
}

/// `clients` connections checking out orders `0..scale` for `seconds`.
pub async fn run(url: &str, scale: usize, clients: usize, seconds: u64) -> anyhow::Result<Figures> {
    let script = std::env::temp_dir().join(format!("monolith-checkout-{}.sql", std::process::id()));
    tokio::fs::write(&script, CHECKOUT).await?;
    let output = Command::new("pgbench")
        .args(["-n", "-M", "prepared"])
        .args(["-c", &clients.to_string(), "-j", &clients.min(2).to_string()])
        .args(["-T", &seconds.to_string(), "-D", &format!("scale={scale}")])
        .arg("-f")
        .arg(&script)
        .arg(url)
        .output()
        .await
        .context("running pgbench (it comes with PostgreSQL's server package)")?;
    let _ = tokio::fs::remove_file(&script).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "pgbench failed: {}{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(Figures {
        tps: figure(&stdout, "tps = ")?,
        latency_average_ms: figure(&stdout, "latency average = ")?,
    })
}

/// The number after `label` in pgbench's summary, e.g. `tps = 1234.5 (...)`.
fn figure(summary: &str, label: &str) -> anyhow::Result<f64> {
    summary
        .lines()
        .find_map(|line| line.strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .with_context(|| format!("no `{label}` in pgbench's output: {summary}"))
}

#[cfg(test)]
mod tests {
    use super::figure;

    #[test]
    fn reads_pgbench_summary_figures() {
        let summary = "number of failed transactions: 0 (0.000%)\n\
                       latency average = 3.412 ms\n\
                       initial connection time = 12.345 ms\n\
                       tps = 2344.123456 (without initial connection time)\n";
        assert_eq!(figure(summary, "tps = ").ok(), Some(2344.123456));
        assert_eq!(figure(summary, "latency average = ").ok(), Some(3.412));
        assert!(figure("", "tps = ").is_err());
    }
}
