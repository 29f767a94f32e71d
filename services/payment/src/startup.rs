use std::future::Future;

use futures::FutureExt;
use idempotency::RetentionSettings;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::configuration::Settings;
use crate::routes::routes;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A payment service whose database is ready and whose port is bound, so that
/// callers (tests, `main`) know the port before it serves.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    port: u16,
    pool: PgPool,
    retention: RetentionSettings,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool =
            platform::database::connect_and_migrate(&settings.database, &[&MIGRATOR, &idempotency::MIGRATOR])
                .await?;
        let listener = settings.http.bind().await?;
        let port = listener.local_addr()?.port();
        tracing::info!(
            port,
            database = settings.database.database_name(),
            "payment service ready"
        );
        Ok(Application {
            listener,
            port,
            pool,
            retention: settings.retention,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Tests read the database directly to check that nothing else changed.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Serves HTTP and prunes expired idempotency keys until `shutdown`.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let shutdown = shutdown.shared();
        let pruner = idempotency::pruner::run(self.pool.clone(), self.retention, shutdown.clone());
        let routes = platform::http::finish(routes(self.pool));
        tokio::join!(platform::http::serve(self.listener, routes, shutdown), pruner);
    }
}
