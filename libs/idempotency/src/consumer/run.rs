//! The consumer's life: connect, declare, beat and take the partitions
//! assigned to it, consume them, and start over after any broker failure,
//! with backoff.
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use outbox::broker::{Publisher, connect};
use outbox::topology::Topology;
use outbox::{Backoff, BrokerSettings, Handoff};
use sqlx::PgPool;

use super::observe::ConsumerMetrics;
use super::partitions::Held;
use super::{ApplyOnce, Handler, HandlerError, IncomingMessage, Outcome, PgInbox};
use crate::membership::{Membership, PgMembership};

/// The consumer of the services' PostgreSQL databases: the inbox and the
/// handler's effect share one transaction.
pub type Consumer<H> = QueueConsumer<PgInbox<H>>;

/// Consumes one queue, applying each message once through `A`.
#[derive(Debug)]
pub struct QueueConsumer<A> {
    /// The queue's local name; also the consumer's name in the inbox.
    pub(super) queue: String,
    pub(super) broker: BrokerSettings,
    pub(super) topology: Topology,
    pub(super) apply: A,
    /// Labels the broker connections (e.g. `stock-1 consumer`).
    pub(super) connection_name: String,
    /// Where it beats, and learns which partitions are its own.
    pub(super) membership: Arc<dyn Membership>,
    /// Its id among the stream's members: the connection's name, made
    /// unique per process so a restarted replica is a new member.
    pub(super) member: String,
    /// True while consuming: what the service's health check reports as
    /// "broker reachable".
    pub(super) connected: Arc<AtomicBool>,
    /// The `service` attribute of the consume spans.
    pub(super) service: &'static str,
    pub(super) metrics: ConsumerMetrics,
}

impl<H: Handler> Consumer<H> {
    pub fn new(
        queue: &str,
        pool: PgPool,
        broker: BrokerSettings,
        topology: Topology,
        handler: H,
        connection_name: &str,
    ) -> Self {
        QueueConsumer::applying(
            queue,
            PgInbox::new(pool.clone(), handler),
            Arc::new(PgMembership::new(&pool)),
            broker,
            topology,
            connection_name,
        )
    }
}

impl<H: Handler> Consumer<H> {
    /// Hands the events its handler emits to `handoff` (the process's
    /// relay) after each commit, so they are published at once.
    pub fn handing_off_to(mut self, handoff: Handoff) -> Self {
        self.apply = self.apply.handing_off_to(handoff);
        self
    }
}

impl<A: ApplyOnce> QueueConsumer<A> {
    /// A consumer whose messages are applied once by `apply`, for stores
    /// other than the services' PostgreSQL databases.
    pub fn applying(
        queue: &str,
        apply: A,
        membership: Arc<dyn Membership>,
        broker: BrokerSettings,
        topology: Topology,
        connection_name: &str,
    ) -> Self {
        let instance = uuid::Uuid::new_v4().simple().to_string();
        QueueConsumer {
            queue: queue.to_owned(),
            broker,
            topology,
            apply,
            connection_name: connection_name.to_owned(),
            membership,
            member: format!("{connection_name} {}", &instance[..8]),
            connected: Arc::new(AtomicBool::new(false)),
            service: "unknown",
            metrics: ConsumerMetrics::new(),
        }
    }

    /// Reports to `telemetry`: its service names the consume spans, its
    /// registry gets the consumer's metrics.
    pub fn with_telemetry(mut self, telemetry: &platform::telemetry::Telemetry) -> Self {
        self.metrics.register(telemetry, &self.queue);
        self.service = telemetry.service;
        self
    }

    /// Reports into `connected` whether this consumer is connected.
    pub fn reporting_to(mut self, connected: Arc<AtomicBool>) -> Self {
        self.connected = connected;
        self
    }

    /// Applies `message` once: records it in the inbox and applies its
    /// effect atomically. Tests call this directly to deliver a message.
    pub async fn process(&self, message: &IncomingMessage) -> Result<Outcome, HandlerError> {
        self.apply.apply_once(&self.queue, message).await
    }

    /// Consumes until `shutdown` completes, reconnecting after failures;
    /// then leaves the stream's members, so the others take its partitions
    /// at once.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let this = Arc::new(self);
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        tokio::pin!(shutdown);
        loop {
            let mut consuming = false;
            tokio::select! {
                result = this.clone().session(&mut consuming) => if let Err(error) = result {
                    tracing::warn!(queue = %this.queue, %error, "consumer lost its broker connection");
                },
                () = &mut shutdown => break,
            }
            this.connected.store(false, Ordering::Relaxed);
            if consuming {
                backoff.reset();
            }
            tokio::select! {
                () = tokio::time::sleep(backoff.next_delay()) => {}
                () = &mut shutdown => break,
            }
        }
        let leave = this.membership.leave(&this.queue, &this.member);
        if let Ok(Err(error)) = tokio::time::timeout(this.broker.partition_lease, leave).await {
            tracing::debug!(queue = %this.queue, %error, "could not leave the members; the lease will lapse");
        }
    }

    /// One connection's worth of consuming. Deliveries of every partition
    /// held are applied in batches, one batch at a time, in the order they
    /// arrive: each aggregate's events stay in order, and two batches of one
    /// consumer never wait on each other's row locks. The beat, and the
    /// partitions it takes and lets go, come between two batches.
    async fn session(self: Arc<Self>, consuming: &mut bool) -> Result<(), lapin::Error> {
        let connection = connect(&self.broker, &self.connection_name).await?;
        self.topology.declare(&connection, &self.broker).await?;
        let publisher = Publisher::connect(&self.broker, &self.connection_name).await?;
        *consuming = true;
        self.connected.store(true, Ordering::Relaxed);
        let mut held = Held::default();
        let mut beat = tokio::time::interval(self.beat_interval());
        beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let limit = self.broker.consumer_batch.max(1);
        loop {
            tokio::select! {
                biased;
                _ = beat.tick() => self.rebalance(&connection, &mut held).await?,
                batch = held.next_batch(limit), if !held.is_empty() => {
                    if let Some(batch) = batch? {
                        self.deliver_batch(batch, &publisher).await;
                    }
                }
            }
        }
    }
}
