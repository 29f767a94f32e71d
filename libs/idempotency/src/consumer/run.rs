//! The consumer's life: connect, declare, consume, and start over after any
//! broker failure, with backoff.
use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use outbox::broker::{Publisher, connect};
use outbox::topology::Topology;
use outbox::{Backoff, BrokerSettings};
use sqlx::PgPool;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::message::string_header;
use super::observe::{ConsumerMetrics, Disposition, consume_span};
use super::settle::{Verdict, settle};
use super::{ApplyOnce, Handler, HandlerError, IncomingMessage, Outcome, PgInbox};

/// The consumer of the services' PostgreSQL databases: the inbox and the
/// handler's effect share one transaction.
pub type Consumer<H> = QueueConsumer<PgInbox<H>>;

/// Consumes one queue, applying each message once through `A`.
#[derive(Debug)]
pub struct QueueConsumer<A> {
    /// The queue's local name; also the consumer's name in the inbox.
    queue: String,
    broker: BrokerSettings,
    topology: Topology,
    apply: A,
    /// Labels the broker connections (e.g. `stock-1 consumer`).
    connection_name: String,
    /// True while consuming: what the service's health check reports as
    /// "broker reachable".
    connected: Arc<AtomicBool>,
    /// The `service` attribute of the consume spans.
    service: &'static str,
    metrics: ConsumerMetrics,
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
            PgInbox::new(pool, handler),
            broker,
            topology,
            connection_name,
        )
    }
}

impl<A: ApplyOnce> QueueConsumer<A> {
    /// A consumer whose messages are applied once by `apply`, for stores
    /// other than the services' PostgreSQL databases.
    pub fn applying(
        queue: &str,
        apply: A,
        broker: BrokerSettings,
        topology: Topology,
        connection_name: &str,
    ) -> Self {
        QueueConsumer {
            queue: queue.to_owned(),
            broker,
            topology,
            apply,
            connection_name: connection_name.to_owned(),
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

    /// Consumes until `shutdown` completes, reconnecting after failures.
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
                () = &mut shutdown => return,
            }
            this.connected.store(false, Ordering::Relaxed);
            if consuming {
                backoff.reset();
            }
            tokio::select! {
                () = tokio::time::sleep(backoff.next_delay()) => {}
                () = &mut shutdown => return,
            }
        }
    }

    /// One connection's worth of consuming. Deliveries are spread over lanes
    /// by aggregate id: lanes work in parallel, and the messages of one
    /// aggregate stay in order within their lane.
    async fn session(self: Arc<Self>, consuming: &mut bool) -> Result<(), lapin::Error> {
        let connection = connect(&self.broker, &self.connection_name).await?;
        let channel = connection.create_channel().await?;
        self.topology.declare(&channel, &self.broker).await?;
        channel
            .basic_qos(self.broker.prefetch, BasicQosOptions::default())
            .await?;
        let publisher = Arc::new(Publisher::connect(&self.broker, &self.connection_name).await?);
        let queue = self.broker.name(&self.queue);
        let mut deliveries = channel
            .basic_consume(
                queue.as_str().into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        *consuming = true;
        self.connected.store(true, Ordering::Relaxed);
        let lanes: Vec<_> = (0..self.broker.consumer_lanes.max(1))
            .map(|_| {
                let (sender, receiver) = mpsc::channel(usize::from(self.broker.prefetch.max(1)));
                tokio::spawn(self.clone().lane(receiver, publisher.clone()));
                sender
            })
            .collect();
        while let Some(delivery) = deliveries.next().await {
            let delivery = delivery?;
            let lane = lane_of(&delivery, lanes.len());
            if lanes[lane].send(delivery).await.is_err() {
                break;
            }
        }
        Ok(())
    }

    async fn lane(self: Arc<Self>, mut deliveries: mpsc::Receiver<Delivery>, publisher: Arc<Publisher>) {
        let queue = self.broker.name(&self.queue);
        while let Some(delivery) = deliveries.recv().await {
            let span = consume_span(self.service, &self.queue, &delivery);
            self.deliver(&delivery, &publisher, &queue).instrument(span).await;
        }
    }

    /// Handles and settles one delivery, then logs and counts how it ended.
    async fn deliver(&self, delivery: &Delivery, publisher: &Publisher, queue: &str) {
        let started = Instant::now();
        let (verdict, disposition) = self.verdict(delivery).await;
        settle(delivery, verdict, publisher, queue).await;
        let took = started.elapsed();
        let event = delivery
            .properties
            .kind()
            .as_ref()
            .map(|t| t.as_str())
            .unwrap_or_default();
        self.metrics.observe(&self.queue, event, disposition, took);
        let outcome = disposition.label();
        tracing::Span::current().record("outcome", outcome);
        tracing::info!(queue = %self.queue, event, outcome, elapsed_us = took.as_micros() as u64, "message");
    }

    async fn verdict(&self, delivery: &Delivery) -> (Verdict, Disposition) {
        let message = match IncomingMessage::try_from(delivery) {
            Ok(message) => message,
            Err(error) => {
                let error = error.to_string();
                return (Verdict::Park { attempt: 1, error }, Disposition::Parked);
            }
        };
        match self.process(&message).await {
            Ok(Outcome::Applied) => (Verdict::Done, Disposition::Applied),
            Ok(Outcome::Duplicate) => (Verdict::Done, Disposition::Duplicate),
            Err(error) if message.attempt >= self.broker.max_deliveries => {
                let error = platform::http::error_chain(error.as_ref());
                let attempt = message.attempt;
                (Verdict::Park { attempt, error }, Disposition::Parked)
            }
            Err(error) => {
                tracing::warn!(queue = %self.queue, message_id = %message.message_id,
                    attempt = message.attempt, error = %error, "message failed; retrying later");
                let next_attempt = message.attempt + 1;
                (Verdict::Retry { next_attempt }, Disposition::Retried)
            }
        }
    }
}

fn lane_of(delivery: &Delivery, lanes: usize) -> usize {
    let aggregate = string_header(
        delivery.properties.headers().as_ref(),
        outbox::headers::AGGREGATE_ID,
    );
    let mut hasher = DefaultHasher::new();
    aggregate.hash(&mut hasher);
    (hasher.finish() % lanes as u64) as usize
}
