//! The messaging half of a service process: its outbox relay, its consumer
//! and the pruner, run together beside the HTTP server.
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use futures::FutureExt;
use outbox::topology::Topology;
use outbox::{BrokerSettings, Relay, RelaySettings};
use platform::settings::SettingError;
use sqlx::PgPool;

use crate::{Consumer, Handler, RetentionSettings};

/// Everything the messaging half reads from the environment.
#[derive(Debug, Clone)]
pub struct MessagingSettings {
    pub broker: BrokerSettings,
    pub relay: RelaySettings,
    pub retention: RetentionSettings,
}

impl MessagingSettings {
    pub fn from_env() -> Result<Self, SettingError> {
        Ok(MessagingSettings {
            broker: BrokerSettings::from_env()?,
            relay: RelaySettings::from_env()?,
            retention: RetentionSettings::from_env()?,
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

/// Runs the relay, the consumer of `subscription` and the pruner until
/// `shutdown`; each recovers from broker and database faults by itself.
/// `name` labels the broker connections (e.g. `stock:8201`).
pub async fn run<H: Handler>(
    pool: PgPool,
    settings: MessagingSettings,
    topology: Topology,
    subscription: Subscription<H>,
    name: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let shutdown = shutdown.shared();
    let relay = Relay::new(
        pool.clone(),
        settings.broker.clone(),
        settings.relay,
        topology.clone(),
        &format!("{name} relay"),
    );
    let consumer = Consumer::new(
        subscription.queue,
        pool.clone(),
        settings.broker,
        topology,
        subscription.handler,
        &format!("{name} consumer"),
    )
    .reporting_to(subscription.connected);
    tokio::join!(
        relay.run(shutdown.clone()),
        consumer.run(shutdown.clone()),
        crate::pruner::run(pool, settings.retention, shutdown),
    );
}
