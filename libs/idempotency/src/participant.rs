//! A saga participant (stock, payment): a service that answers HTTP and
//! consumes one queue. Such services start the same way, so they share this
//! start-up and each names only what sets it apart.
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use outbox::topology::Topology;
use platform::database::DatabaseSettings;
use platform::http::HttpSettings;
use platform::settings::SettingError;
use platform::telemetry::Telemetry;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use warp::{Filter, Rejection, Reply};

use crate::Handler;
use crate::messaging::{MessagingSettings, Process, Subscription};

/// What reading a participant's settings needs to know about it: apart from
/// the trait that needs routes and handlers, so that `configuration.rs` does
/// not depend on them.
pub trait Service {
    /// Names the default database, the telemetry, the ready log line and
    /// the broker connections.
    const NAME: &'static str;
    /// The HTTP port when `HTTP_PORT` is not set.
    const DEFAULT_PORT: u16;
}

/// What sets a participant apart from the others once its settings are read.
pub trait Participant: Service {
    /// The queue its consumer reads.
    const QUEUE: &'static str;
    /// Its own tables; they run beside the outbox's and the inbox's. Given by
    /// the service because `sqlx::migrate!` reads a path of its own crate.
    const MIGRATOR: &'static Migrator;
    type Handler: Handler;

    fn handler() -> Self::Handler;

    /// The exchanges and queues its relay and consumer declare.
    fn topology() -> Topology;

    /// `connected` says whether its consumer is connected, for health.
    fn routes(
        pool: PgPool,
        connected: Arc<AtomicBool>,
    ) -> impl Filter<Extract = (impl Reply + 'static,), Error = Rejection> + Clone + Send + Sync + 'static;
}

/// Everything a participant reads from the environment; `P` ties the
/// settings to the service they were read for.
#[derive(Debug, Clone)]
pub struct Settings<P> {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub messaging: MessagingSettings,
    service: PhantomData<fn() -> P>,
}

impl<P: Service> Settings<P> {
    pub fn from_env() -> Result<Self, SettingError> {
        Ok(Settings {
            http: HttpSettings::from_env(P::DEFAULT_PORT)?,
            database: DatabaseSettings::from_env(P::NAME)?,
            messaging: MessagingSettings::from_env()?,
            service: PhantomData,
        })
    }
}

/// A participant whose database is ready and whose port is bound, so that
/// callers (tests, `main`) know the port before it serves.
#[derive(Debug)]
pub struct Application<P> {
    listener: TcpListener,
    port: u16,
    pool: PgPool,
    messaging: MessagingSettings,
    service: PhantomData<fn() -> P>,
}

impl<P: Participant> Application<P> {
    pub async fn build(settings: Settings<P>) -> anyhow::Result<Self> {
        let migrators = [P::MIGRATOR, &outbox::MIGRATOR, &crate::MIGRATOR];
        let pool = platform::database::connect_and_migrate(&settings.database, &migrators).await?;
        let listener = settings.http.bind().await?;
        let port = listener.local_addr()?.port();
        tracing::info!(
            port,
            database = settings.database.database_name(),
            "{} service ready",
            P::NAME
        );
        Ok(Application {
            listener,
            port,
            pool,
            messaging: settings.messaging,
            service: PhantomData,
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
        let telemetry = Telemetry::new(P::NAME);
        let routes = P::routes(self.pool.clone(), connected.clone());
        let process = Process {
            routes: platform::http::finish(&telemetry, routes),
            listener: self.listener,
            pool: self.pool,
            settings: self.messaging,
            topology: P::topology(),
            subscription: Subscription {
                queue: P::QUEUE,
                handler: P::handler(),
                connected,
            },
            name: format!("{}:{}", P::NAME, self.port),
            telemetry,
        };
        process.run(shutdown).await;
    }
}
