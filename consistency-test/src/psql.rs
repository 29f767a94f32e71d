//! The PostgreSQL server through its command-line client, psql: the bench
//! needs a handful of statements, not a driver and a pool that would hold
//! connections of their own.
use std::process::Stdio;

use anyhow::{Context, ensure};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// `server` (a URL without a database name) with `database` on its end.
pub fn url(server: &str, database: &str) -> String {
    format!("{}/{database}", server.trim_end_matches('/'))
}

/// Runs psql with `args`, feeding it `stdin`; its output.
pub async fn psql(url: &str, args: &[&str], stdin: Option<&str>) -> anyhow::Result<String> {
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

/// The one number a query answers.
pub async fn number(url: &str, query: &str) -> anyhow::Result<i64> {
    let answer = psql(url, &["-tA", "-c", query], None).await?;
    answer
        .trim()
        .parse()
        .with_context(|| format!("`{query}` answered {answer:?}, not a number"))
}

/// Connections a new client may still open: the server's limit, less the
/// slots kept for superusers and every connection and worker present now.
pub async fn free_connections(server: &str) -> anyhow::Result<i64> {
    number(
        &url(server, "postgres"),
        "SELECT current_setting('max_connections')::int \
         - current_setting('superuser_reserved_connections')::int \
         - (SELECT count(*) FROM pg_stat_activity)",
    )
    .await
}

/// `VACUUM ANALYZE` in each of `databases` that exists on `server`; the
/// names of those that did.
pub async fn vacuum_analyze(server: &str, databases: &[String]) -> anyhow::Result<Vec<String>> {
    let mut done = Vec::new();
    for database in databases {
        let exists = format!(
            "SELECT count(*) FROM pg_database WHERE datname = '{}'",
            database.replace('\'', "''")
        );
        if number(&url(server, "postgres"), &exists).await? == 0 {
            // The order service may keep its orders in MongoDB instead.
            continue;
        }
        psql(&url(server, database), &["-c", "VACUUM ANALYZE"], None).await?;
        done.push(database.clone());
    }
    Ok(done)
}
