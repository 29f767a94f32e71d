use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use futures::FutureExt;
use idempotency::messaging::{MessagingSettings, Process, Subscription};
use platform::telemetry::Telemetry;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::checkout::{CheckoutMetrics, Outcomes};
use crate::configuration::Settings;
use crate::consumers::SagaHandler;
use crate::peers::Peers;
use crate::routes::{State, routes};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// An order service whose database is ready and whose port is bound, so that
/// callers (tests, `main`) know the port before it serves.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    port: u16,
    state: State,
    messaging: MessagingSettings,
    telemetry: Telemetry,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let migrators = [&MIGRATOR, &outbox::MIGRATOR, &idempotency::MIGRATOR];
        let pool = platform::database::connect_and_migrate(&settings.database, &migrators).await?;
        let peers = Peers::new(&settings.peers)?;
        let listener = settings.http.bind().await?;
        let port = listener.local_addr()?.port();
        tracing::info!(
            port,
            database = settings.database.database_name(),
            "order service ready"
        );
        let telemetry = Telemetry::new("order");
        let state = State {
            pool,
            peers,
            outcomes: Outcomes::default(),
            checkout_timeout: settings.checkout_timeout,
            broker_connected: Arc::new(AtomicBool::new(false)),
            checkout_metrics: CheckoutMetrics::registered(&telemetry),
        };
        Ok(Application {
            listener,
            port,
            state,
            messaging: settings.messaging,
            telemetry,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Tests read the database directly to check that nothing else changed.
    pub fn pool(&self) -> &PgPool {
        &self.state.pool
    }

    /// Serves HTTP, runs the saga's relay and consumer, and listens for saga
    /// outcomes, until `shutdown`.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let shutdown = shutdown.shared();
        let outcomes = crate::checkout::listen(
            self.state.pool.clone(),
            self.state.outcomes.clone(),
            shutdown.clone(),
        );
        let process = Process {
            listener: self.listener,
            pool: self.state.pool.clone(),
            settings: self.messaging,
            topology: events::topology(),
            subscription: Subscription {
                queue: events::ORDER_QUEUE,
                handler: SagaHandler,
                connected: self.state.broker_connected.clone(),
            },
            name: format!("order:{}", self.port),
            routes: platform::http::finish(&self.telemetry, routes(self.state)),
            telemetry: self.telemetry,
        };
        tokio::join!(process.run(shutdown), outcomes);
    }
}
