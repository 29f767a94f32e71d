//! The system of one point: the release binaries started by
//! `deploy/local/up.sh` with the point's `REPLICAS` and `AMQP_PARTITIONS`,
//! beside any other system (ports, run directory, databases and broker
//! namespace of its own, as the smoke test runs), each replica's process
//! moved into a capped cgroup of its own; `down.sh` after, its databases
//! dropped and its groups removed.
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use backon::{ConstantBuilder, Retryable};
use serde::Serialize;
use tokio::process::Command;

use super::cgroup::{CpuController, Quota};
use super::replicas::Replicas;
use crate::psql;

const SERVICES: [&str; 3] = ["order", "stock", "payment"];
/// PostgreSQL is shared with whatever else runs here (other test suites
/// may hold every connection for a moment): the harness's own statements
/// are tried again for about 20 s.
pub const PATIENCE: ConstantBuilder = ConstantBuilder::new()
    .with_delay(Duration::from_secs(2))
    .with_max_times(10);

/// What every point's system shares.
#[derive(Debug, Clone, clap::Args)]
pub struct Layout {
    /// The gateway's port; replica r of service s listens on this plus
    /// 100 s + r (deploy/local/common.sh's PORT_BASE). Below the kernel's
    /// ephemeral range (32768 up): there a replica could find its port
    /// taken by the local end of one of the load's own connections.
    #[arg(long, env = "SCALE_PORT_BASE", default_value_t = 23000)]
    port_base: u16,
    /// Where up.sh and down.sh are.
    #[arg(long, default_value = "deploy/local")]
    scripts: PathBuf,
    /// Each point's pid files, logs and gateway under `<this>/<point>`.
    #[arg(long, default_value = ".run/bench-scale")]
    run_dir: PathBuf,
    /// Each replica's pool (DATABASE_MAX_CONNECTIONS): 4 replicas of three
    /// services must fit in PostgreSQL's 100 beside a running `make up`.
    #[arg(long, env = "SCALE_DB_CONNECTIONS", default_value_t = 6)]
    db_connections: u32,
    /// Each replica's tokio workers (WORKER_THREADS): a process given less
    /// than a core from its start sees one CPU, and tokio starts one worker.
    #[arg(long, env = "SCALE_WORKER_THREADS", default_value_t = 1)]
    worker_threads: u32,
    /// The PostgreSQL server, without a database name.
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub database_url: String,
}

/// A design at a replica count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PointId {
    pub partitions: u32,
    pub replicas: u32,
}

impl PointId {
    /// `p8-r4`: the name of its run directory and cgroup.
    pub fn name(&self) -> String {
        format!("p{}-r{}", self.partitions, self.replicas)
    }
}

/// A running system and its replicas' groups.
#[derive(Debug)]
pub struct System {
    layout: Layout,
    id: PointId,
    /// The run's start, in the broker namespace: queues of an earlier run,
    /// not yet expired, are never shared.
    run: u64,
    pub replicas: Replicas,
}

impl System {
    /// Drops the point's databases left by a crashed run and starts it.
    pub async fn start(layout: &Layout, id: PointId, run: u64) -> anyhow::Result<System> {
        let system = System {
            layout: layout.clone(),
            id,
            run,
            replicas: Replicas::default(),
        };
        system.ports_free()?;
        system.drop_databases().await?;
        let server = &layout.database_url;
        let free = (|| psql::free_connections(server)).retry(PATIENCE).await?;
        let pools = i64::from(3 * id.replicas * layout.db_connections);
        if free < pools + 5 {
            eprintln!("PostgreSQL has {free} connections free; the replicas' pools may take {pools}");
        }
        if let Err(e) = system.script("up.sh").await {
            // What did start is stopped, its databases dropped.
            if let Err(stop) = system.stop().await {
                eprintln!("stopping what started: {stop:#}");
            }
            return Err(e);
        }
        Ok(system)
    }

    /// A process of another system on one of the point's ports would answer
    /// up.sh's health checks in its stead.
    fn ports_free(&self) -> anyhow::Result<()> {
        let replicas = (1..=3u16).flat_map(|s| (1..=self.id.replicas as u16).map(move |r| 100 * s + r));
        for port in std::iter::once(0)
            .chain(replicas)
            .map(|p| self.layout.port_base + p)
        {
            std::net::TcpListener::bind(("127.0.0.1", port)).with_context(|| {
                format!("port {port} is taken: another system runs there (set SCALE_PORT_BASE)")
            })?;
        }
        Ok(())
    }

    pub fn gateway(&self) -> String {
        format!("http://127.0.0.1:{}", self.layout.port_base)
    }

    pub fn databases(&self) -> Vec<String> {
        SERVICES
            .iter()
            .map(|s| format!("{}{s}_db", self.db_prefix()))
            .collect()
    }

    /// Moves each replica into a group of its own with `quota`.
    pub fn cap(&mut self, controller: &CpuController, quota: Quota) -> anyhow::Result<()> {
        let (point, run_dir, names) = (self.id.name(), self.run_dir(), self.replica_names());
        self.replicas.cap(controller, &point, &run_dir, names, quota)
    }

    /// Stops the system, drops its databases and removes its groups.
    pub async fn stop(self) -> anyhow::Result<()> {
        let stopped = self.script("down.sh").await;
        let dropped = self.drop_databases().await;
        stopped.and(dropped).and(self.replicas.remove())
    }

    async fn script(&self, name: &str) -> anyhow::Result<()> {
        let status = Command::new(self.layout.scripts.join(name))
            .envs(self.environment())
            .stdout(std::process::Stdio::null())
            .status()
            .await
            .with_context(|| format!("running {name}"))?;
        if !status.success() {
            bail!(
                "{name} failed ({status}); logs in {}",
                self.run_dir().join("logs").display()
            );
        }
        Ok(())
    }

    /// common.sh's settings for this point, and the replicas' own.
    fn environment(&self) -> Vec<(&'static str, String)> {
        let (layout, id) = (&self.layout, &self.id);
        vec![
            ("PROFILE", "release".into()),
            // The machine's RabbitMQ node: with the three-node cluster,
            // down.sh would stop a cluster `make up` may be using.
            ("BROKER", "single".into()),
            ("SKIP_BUILD", "1".into()),
            ("REPLICAS", id.replicas.to_string()),
            ("PORT_BASE", layout.port_base.to_string()),
            ("GATEWAY_PORT", layout.port_base.to_string()),
            ("RUN_DIR", self.run_dir().display().to_string()),
            ("DB_PREFIX", self.db_prefix()),
            (
                "AMQP_NAMESPACE",
                format!("scale{}{}", self.run, id.name().replace('-', "")),
            ),
            ("AMQP_PARTITIONS", id.partitions.to_string()),
            // The queues go a minute after the system stops.
            ("AMQP_QUEUE_EXPIRES_MS", "60000".into()),
            ("DATABASE_MAX_CONNECTIONS", layout.db_connections.to_string()),
            ("WORKER_THREADS", layout.worker_threads.to_string()),
        ]
    }

    fn replica_names(&self) -> Vec<String> {
        let replicas = 1..=self.id.replicas;
        SERVICES
            .iter()
            .flat_map(|s| replicas.clone().map(move |r| format!("{s}-{r}")))
            .collect()
    }

    fn run_dir(&self) -> PathBuf {
        let dir = &self.layout.run_dir;
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
        dir.join(self.id.name())
    }

    fn db_prefix(&self) -> String {
        format!("scale_{}_", self.id.name().replace('-', "_"))
    }

    async fn drop_databases(&self) -> anyhow::Result<()> {
        let server = psql::url(&self.layout.database_url, "postgres");
        for database in self.databases() {
            let drop = format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            let args = ["-c", drop.as_str()];
            (|| psql::psql(&server, &args, None)).retry(PATIENCE).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(partitions: u32, replicas: u32) -> System {
        let layout = Layout {
            port_base: 23000,
            scripts: "deploy/local".into(),
            run_dir: "/tmp/run".into(),
            db_connections: 6,
            worker_threads: 1,
            database_url: "postgres://postgres@127.0.0.1:5432".into(),
        };
        let id = PointId { partitions, replicas };
        let replicas = Replicas::default();
        System {
            layout,
            id,
            run: 1765000000,
            replicas,
        }
    }

    #[test]
    fn each_point_runs_under_names_of_its_own_with_its_design_and_replicas() {
        let env: std::collections::HashMap<_, _> = system(8, 4).environment().into_iter().collect();

        assert_eq!(env["REPLICAS"], "4");
        assert_eq!(env["AMQP_PARTITIONS"], "8");
        assert_eq!(env["RUN_DIR"], "/tmp/run/p8-r4");
        assert_eq!(env["DB_PREFIX"], "scale_p8_r4_");
        assert_eq!(env["AMQP_NAMESPACE"], "scale1765000000p8r4");
        assert_eq!(
            (env["PROFILE"].as_str(), env["SKIP_BUILD"].as_str()),
            ("release", "1")
        );
        assert_ne!(system(1, 4).environment(), system(8, 4).environment());
    }

    #[test]
    fn the_replicas_are_every_services_first_n() {
        assert_eq!(
            system(1, 2).replica_names(),
            [
                "order-1",
                "order-2",
                "stock-1",
                "stock-2",
                "payment-1",
                "payment-2"
            ]
        );
        assert_eq!(
            system(8, 2).databases(),
            [
                "scale_p8_r2_order_db",
                "scale_p8_r2_stock_db",
                "scale_p8_r2_payment_db"
            ]
        );
    }
}
