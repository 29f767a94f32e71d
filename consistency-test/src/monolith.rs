//! The ceiling reference of `make bench`: the same checkout as one
//! PostgreSQL transaction over equivalent tables (`monolith/*.sql`), driven
//! by pgbench with as many clients as the saga's best step had.
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, ensure};
use serde::Serialize;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

const SCHEMA: &str = include_str!("../monolith/schema.sql");
const CHECKOUT: &str = include_str!("../monolith/checkout.sql");

/// Where the reference database lives.
#[derive(Debug, Clone, clap::Args)]
pub struct Target {
    /// The PostgreSQL server, without a database name.
    #[arg(
        long,
        env = "MONOLITH_URL",
        default_value = "postgres://postgres:postgres@127.0.0.1:5432"
    )]
    monolith_url: String,
    /// Dropped and created again at every run.
    #[arg(long, default_value = "bench_monolith")]
    monolith_database: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonolithResult {
    pub clients: usize,
    pub duration_secs: u64,
    /// Orders marked paid by the run.
    pub committed: u64,
    pub committed_per_sec: f64,
    /// pgbench's own figures (they count a checkout of a paid order too).
    pub pgbench_tps: f64,
    pub pgbench_latency_average_ms: f64,
}

impl Target {
    fn url(&self, database: &str) -> String {
        format!("{}/{database}", self.monolith_url.trim_end_matches('/'))
    }

    /// A fresh database with `scale` items, users and orders.
    pub async fn prepare(&self, scale: usize) -> anyhow::Result<()> {
        let db = &self.monolith_database;
        psql(
            &self.url("postgres"),
            &[
                "-c",
                &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
                "-c",
                &format!("CREATE DATABASE {db}"),
            ],
            None,
        )
        .await?;
        psql(
            &self.url(db),
            &["-v", &format!("scale={scale}"), "-f", "-"],
            Some(SCHEMA),
        )
        .await?;
        Ok(())
    }

    pub async fn run(
        &self,
        scale: usize,
        clients: usize,
        duration: Duration,
    ) -> anyhow::Result<MonolithResult> {
        let script = std::env::temp_dir().join(format!("monolith-checkout-{}.sql", std::process::id()));
        tokio::fs::write(&script, CHECKOUT).await?;
        let seconds = duration.as_secs().max(1);
        let output = Command::new("pgbench")
            .args(["-n", "-M", "prepared"])
            .args(["-c", &clients.to_string(), "-j", &clients.min(2).to_string()])
            .args(["-T", &seconds.to_string(), "-D", &format!("scale={scale}")])
            .arg("-f")
            .arg(&script)
            .arg(self.url(&self.monolith_database))
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
        let committed: u64 = psql(
            &self.url(&self.monolith_database),
            &["-tA", "-c", "SELECT count(*) FROM orders WHERE paid"],
            None,
        )
        .await?
        .trim()
        .parse()?;
        Ok(MonolithResult {
            clients,
            duration_secs: seconds,
            committed,
            committed_per_sec: committed as f64 / seconds as f64,
            pgbench_tps: figure(&stdout, "tps = ")?,
            pgbench_latency_average_ms: figure(&stdout, "latency average = ")?,
        })
    }
}

async fn psql(url: &str, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
    let mut child = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", url])
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running psql")?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).await?;
    }
    let output = child.wait_with_output().await?;
    ensure!(
        output.status.success(),
        "psql {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
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
