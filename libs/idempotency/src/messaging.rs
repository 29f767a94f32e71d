//! A service process: its HTTP server, and beside it its outbox relay, its
//! consumer and the pruner, run together until shutdown.
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use futures::FutureExt;
use outbox::topology::Topology;
use outbox::{BrokerSettings, Relay, RelaySettings};
use platform::settings::SettingError;
use platform::telemetry::Telemetry;
use platform::vacuum::VacuumSettings;
use sqlx::PgPool;
use tokio::net::TcpListener;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::{Consumer, Handler, RetentionSettings};

/// Everything the messaging half reads from the environment.
#[derive(Debug, Clone)]
pub struct MessagingSettings {
    pub broker: BrokerSettings,
    pub relay: RelaySettings,
    pub retention: RetentionSettings,
    pub vacuum: VacuumSettings,
}

impl MessagingSettings {
    pub fn from_env() -> Result<Self, SettingError> {
        Ok(MessagingSettings {
            broker: BrokerSettings::from_env()?,
            relay: RelaySettings::from_env()?,
            retention: RetentionSettings::from_env()?,
            vacuum: VacuumSettings::from_env()?,
        })
    }
}

/// One queue, its handler, and where to report whether its consumer is
/// connected to the broker.
#[derive(Debug)]
pub struct Subscription<H> {
    pub queue: &'static str,
    pub handler: H,
    pub connected: Arc<AtomicBool>,
}

/// The parts of a service process.
#[derive(Debug)]
pub struct Process<H> {
    pub listener: TcpListener,
    pub routes: BoxedFilter<(Response,)>,
    pub pool: PgPool,
    pub settings: MessagingSettings,
    pub topology: Topology,
    pub subscription: Subscription<H>,
    /// Labels the broker connections (e.g. `stock:8201`).
    pub name: String,
    /// The service's name for spans and its metrics registry, which the
    /// relay, the consumer and the database pool report into.
    pub telemetry: Telemetry,
}

impl<H: Handler> Process<H> {
    /// Runs HTTP, relay, consumer, pruner and vacuum until `shutdown`; each
    /// of the last four recovers from broker and database faults by itself.
    /// The consumer hands the events its handlers emit to the relay after
    /// each commit, so they leave at once.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let shutdown = shutdown.shared();
        let relay = Relay::new(
            self.pool.clone(),
            self.settings.broker.clone(),
            self.settings.relay,
            self.topology.clone(),
            &format!("{} relay", self.name),
        )
        .with_telemetry(&self.telemetry);
        let consumer = Consumer::new(
            self.subscription.queue,
            self.pool.clone(),
            self.settings.broker,
            self.topology,
            self.subscription.handler,
            &format!("{} consumer", self.name),
        )
        .reporting_to(self.subscription.connected)
        .handing_off_to(relay.handoff())
        .with_telemetry(&self.telemetry);
        self.telemetry.observe_pool(&self.pool);
        // Joined, not spawned: polled in turn by one task, the relay takes
        // the rows of several consumer batches at once. Spawned as tasks of
        // their own they batched less and cost more CPU per checkout at 16
        // clients (measured side by side; see the README's benchmarks).
        tokio::join!(
            platform::http::serve(self.listener, self.routes, shutdown.clone()),
            relay.run(shutdown.clone()),
            consumer.run(shutdown.clone()),
            crate::pruner::run(self.pool.clone(), self.settings.retention, shutdown.clone()),
            platform::vacuum::run(self.pool, self.settings.vacuum, shutdown),
        );
    }
}
