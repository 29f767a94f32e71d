use platform::telemetry::Telemetry;
use std::time::Duration;

use async_trait::async_trait;
use idempotency::http::{IdempotentRequest, KeyedAnswer};
use idempotency::messaging::MessagingSettings;
use idempotency::{Outcome, RetentionSettings};
use mongodb::bson::doc;
use outbox::topology::Topology;
use outbox::{Handoff, Relay};
use uuid::Uuid;

use super::outbox_store::MongoOutbox;
use super::setup::Collections;
use super::{keys, orders, outcomes, saga};
use crate::configuration::MongoSettings;
use crate::domain::{Order, OrderId, OrderState, SagaStep, Started, TimelineEntry};
use crate::error::OrderError;
use crate::storage::{Effect, OrderStore, Shutdown, StoreChores};
use crate::waiters::Waiters;

/// How long the server may take to answer a health check's ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// The orders in MongoDB (a replica set, or a sharded cluster through
/// `mongos`): orders sharded by hashed id, the outbox, inbox and keys as
/// collections written in the same multi-document transactions.
#[derive(Debug, Clone)]
pub struct MongoStore {
    collections: Collections,
    /// Wakes this process's relay when a checkout has committed an event:
    /// its rows are not handed over, the relay sweeps them at once.
    handoff: Handoff,
}

impl MongoStore {
    /// Connects and creates the indexes (and the sharding) that are missing.
    pub async fn open(
        settings: &MongoSettings,
        retention: &RetentionSettings,
    ) -> Result<Self, mongodb::error::Error> {
        let collections = Collections::connect(settings).await?;
        collections.prepare(retention).await?;
        Ok(MongoStore {
            collections,
            handoff: Handoff::default(),
        })
    }

    /// Where the order's consumer beats, in this store's database.
    pub fn membership(&self) -> super::MongoMembership {
        super::MongoMembership::new(&self.collections.database)
    }

    /// The loops this store needs, sharing its collections and the wake-up
    /// its checkouts give its relay.
    pub fn chores(&self) -> MongoChores {
        MongoChores {
            collections: self.collections.clone(),
            handoff: self.handoff.clone(),
        }
    }
}

/// The MongoDB store's background work: the relay and the change stream
/// that hears of ended sagas; TTL indexes do the pruning.
#[derive(Debug, Clone)]
pub struct MongoChores {
    collections: Collections,
    handoff: Handoff,
}

#[async_trait]
impl StoreChores for MongoChores {
    async fn run_relay(
        &self,
        settings: &MessagingSettings,
        topology: Topology,
        name: &str,
        telemetry: &Telemetry,
        shutdown: Shutdown,
    ) {
        let store = MongoOutbox::new(self.collections.clone(), name);
        let relay = Relay::with_store(
            store,
            settings.broker.clone(),
            settings.relay.clone(),
            topology,
            name,
        )
        .with_handoff(self.handoff.clone())
        .with_telemetry(telemetry);
        relay.run(shutdown).await;
    }

    /// TTL indexes expire inbox records and keys inside the server.
    async fn run_pruner(&self, _settings: &MessagingSettings, shutdown: Shutdown) {
        shutdown.await;
    }

    async fn listen_for_ended_sagas(&self, waiters: Waiters, shutdown: Shutdown) {
        outcomes::listen(self.collections.clone(), waiters, shutdown).await;
    }
}

#[async_trait]
impl OrderStore for MongoStore {
    async fn execute(&self, request: IdempotentRequest, effect: Effect) -> KeyedAnswer {
        keys::execute(&self.collections, request, effect).await
    }

    async fn find_order(&self, id: &OrderId) -> Result<Option<Order>, OrderError> {
        orders::find(&self.collections, id).await
    }

    #[tracing::instrument(skip(self))]
    async fn start_or_join(&self, id: &OrderId) -> Result<Started, OrderError> {
        let started = saga::start_or_join(&self.collections, id).await;
        self.handoff.wake();
        started
    }

    async fn order_state(&self, id: &OrderId) -> Result<Option<OrderState>, OrderError> {
        orders::order_state(&self.collections, id).await
    }

    async fn timeline(&self, id: &OrderId) -> Result<Vec<TimelineEntry>, OrderError> {
        orders::timeline(&self.collections, id).await
    }

    async fn apply_step(
        &self,
        consumer: &str,
        message_id: Uuid,
        step: &SagaStep,
    ) -> Result<Outcome, OrderError> {
        saga::apply_step(&self.collections, consumer, message_id, step).await
    }

    async fn redrive_stalled(&self, after: Duration, limit: i64) -> Result<Vec<Uuid>, OrderError> {
        let driven = saga::redrive_stalled(&self.collections, after, limit).await;
        self.handoff.wake();
        driven
    }

    async fn pending_events(&self) -> Result<u64, OrderError> {
        Ok(self.collections.outbox.count_documents(doc! {}).await?)
    }

    async fn is_reachable(&self) -> bool {
        let ping = self.collections.database.run_command(doc! { "ping": 1 });
        matches!(tokio::time::timeout(PING_TIMEOUT, ping).await, Ok(Ok(_)))
    }
}
