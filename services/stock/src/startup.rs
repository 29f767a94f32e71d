use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use idempotency::messaging::{MessagingSettings, Process, Subscription};
use platform::telemetry::Telemetry;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::configuration::Settings;
use crate::consumers::CheckoutHandler;
use crate::routes::routes;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A stock service whose database is ready and whose port is bound, so that
/// callers (tests, `main`) know the port before it serves.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    port: u16,
    pool: PgPool,
    messaging: MessagingSettings,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let migrators = [&MIGRATOR, &outbox::MIGRATOR, &idempotency::MIGRATOR];
        let pool = platform::database::connect_and_migrate(&settings.database, &migrators).await?;
        let listener = settings.http.bind().await?;
        let port = listener.local_addr()?.port();
        tracing::info!(
            port,
            database = settings.database.database_name(),
            "stock service ready"
        );
        Ok(Application {
            listener,
            port,
            pool,
            messaging: settings.messaging,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Tests read the database directly to check that nothing else changed.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Serves HTTP and runs the saga's relay and consumer until `shutdown`.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let connected = Arc::new(AtomicBool::new(false));
        let telemetry = Telemetry::new("stock");
        let process = Process {
            routes: platform::http::finish(&telemetry, routes(self.pool.clone(), connected.clone())),
            listener: self.listener,
            pool: self.pool,
            settings: self.messaging,
            topology: events::topology(),
            subscription: Subscription {
                queue: events::STOCK_QUEUE,
                handler: CheckoutHandler,
                connected,
            },
            name: format!("stock:{}", self.port),
            telemetry,
        };
        process.run(shutdown).await;
    }
}
