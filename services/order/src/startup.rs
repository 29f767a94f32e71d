use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use futures::FutureExt;
use idempotency::QueueConsumer;
use idempotency::membership::Membership;
use idempotency::messaging::MessagingSettings;
use platform::telemetry::Telemetry;
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::checkout::{CheckoutMetrics, watchdog};
use crate::configuration::Settings;
use crate::consumers::SagaConsumer;
use crate::peers::Peers;
use crate::routes::{State, routes};
use crate::storage::{Shutdown, StoreChores};
use crate::waiters::Waiters;

/// An order service whose store is ready and whose port is bound, so that
/// callers (tests, `main`) know the port before it serves.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    port: u16,
    state: State,
    messaging: MessagingSettings,
    saga_redrive_after: std::time::Duration,
    telemetry: Telemetry,
    /// The store's relay, pruner and outcome listener.
    chores: Arc<dyn StoreChores>,
    /// The PostgreSQL store's pool; `None` with another store.
    pool: Option<PgPool>,
    /// Where the consumer beats, in the store's database.
    membership: Arc<dyn Membership>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let opened = crate::storage::open(&settings).await?;
        let peers = Peers::new(&settings.peers)?;
        let listener = settings.http.bind().await?;
        let port = listener.local_addr()?.port();
        tracing::info!(port, "order service ready");
        let telemetry = Telemetry::new("order");
        let state = State {
            store: opened.store,
            peers,
            waiters: Waiters::default(),
            checkout_timeout: settings.checkout_timeout,
            broker_connected: Arc::new(AtomicBool::new(false)),
            checkout_metrics: CheckoutMetrics::registered(&telemetry),
        };
        Ok(Application {
            listener,
            port,
            state,
            messaging: settings.messaging,
            saga_redrive_after: settings.saga_redrive_after,
            telemetry,
            chores: opened.chores,
            pool: opened.pool,
            membership: opened.membership,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Tests read the database directly to check that nothing else changed;
    /// `None` unless the store is PostgreSQL.
    pub fn pool(&self) -> Option<&PgPool> {
        self.pool.as_ref()
    }

    /// Serves HTTP, runs the saga's relay and consumer, prunes expired dedup
    /// records, drives stalled sagas again, listens for saga outcomes and
    /// looks the peers' names up once, until `shutdown`; each recovers from
    /// broker and database faults by itself.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let shutdown: Shutdown = shutdown.boxed().shared();
        let store = self.state.store.clone();
        let name = format!("order:{}", self.port);
        let consumer = QueueConsumer::applying(
            events::ORDER_QUEUE,
            SagaConsumer {
                store: store.clone(),
                waiters: self.state.waiters.clone(),
            },
            self.membership,
            self.messaging.broker.clone(),
            events::topology(),
            &format!("{name} consumer"),
        )
        .reporting_to(self.state.broker_connected.clone())
        .with_telemetry(&self.telemetry);
        if let Some(pool) = &self.pool {
            self.telemetry.observe_pool(pool);
        }
        let waiters = self.state.waiters.clone();
        let peers = self.state.peers.clone();
        let relay_name = format!("{name} relay");
        let routes = platform::http::finish(&self.telemetry, routes(self.state));
        // Boxed where they are built: spawned whole, these futures hit a
        // compiler limit in proving them `Send` for every lifetime inside
        // them (rust-lang/rust#110338); boxed here, they are proven one by one.
        // Joined rather than spawned one by one, as the other services do
        // (`idempotency::messaging::Process::run` says why).
        tokio::join!(
            platform::http::serve(self.listener, routes, shutdown.clone()).boxed(),
            self.chores.run_relay(
                &self.messaging,
                events::topology(),
                &relay_name,
                &self.telemetry,
                shutdown.clone()
            ),
            consumer.run(shutdown.clone()).boxed(),
            self.chores.run_pruner(&self.messaging, shutdown.clone()),
            watchdog::run(store.clone(), self.saga_redrive_after, shutdown.clone()).boxed(),
            self.chores.listen_for_ended_sagas(waiters, shutdown.clone()),
            peers.warm_up(shutdown),
        );
    }
}
