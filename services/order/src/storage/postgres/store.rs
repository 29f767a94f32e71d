use std::time::Duration;

use async_trait::async_trait;
use idempotency::Outcome;
use idempotency::http::{IdempotentRequest, KeyedAnswer};
use idempotency::messaging::MessagingSettings;
use outbox::topology::Topology;
use outbox::{Handoff, Relay};
use platform::database::DbError;
use platform::telemetry::Telemetry;
use sqlx::PgPool;
use uuid::Uuid;

use super::writes::PgWrites;
use super::{orders, outcomes, saga};
use crate::domain::{
    Ended, NewSaga, Order, OrderId, OrderState, Plan, SagaStep, Started, TimelineEntry, plan, redrive,
};
use crate::error::OrderError;
use crate::storage::{Applied, Effect, OrderStore, Shutdown, StoreChores};
use crate::waiters::Waiters;

/// How many times a checkout decides again when the order keeps changing
/// between its read and its start; then it answers as a conflict, which the
/// waiting checkout retries with backoff.
const START_ATTEMPTS: usize = 8;

/// How long the database may take to answer a health check's `SELECT 1`.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The orders in PostgreSQL: the saga, the outbox (`outbox::enqueue`), the
/// inbox and the idempotency keys share the order database's transactions.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// Where a checkout hands its `CheckoutRequested` after the commit, so
    /// this process's relay publishes it at once.
    handoff: Handoff,
}

impl PostgresStore {
    pub fn new(pool: PgPool) -> Self {
        PostgresStore {
            pool,
            handoff: Handoff::default(),
        }
    }

    /// The loops this store needs, sharing its pool and the hand-over from
    /// its checkouts to its relay.
    pub fn chores(&self) -> PostgresChores {
        PostgresChores {
            pool: self.pool.clone(),
            handoff: self.handoff.clone(),
        }
    }
}

/// The PostgreSQL store's background work: the relay, the pruner and vacuum,
/// and the listener for sagas other replicas ended.
#[derive(Debug, Clone)]
pub struct PostgresChores {
    pool: PgPool,
    handoff: Handoff,
}

#[async_trait]
impl StoreChores for PostgresChores {
    async fn run_relay(
        &self,
        settings: &MessagingSettings,
        topology: Topology,
        name: &str,
        telemetry: &Telemetry,
        shutdown: Shutdown,
    ) {
        let relay = Relay::new(
            self.pool.clone(),
            settings.broker.clone(),
            settings.relay.clone(),
            topology,
            name,
        )
        .with_handoff(self.handoff.clone())
        .with_telemetry(telemetry);
        relay.run(shutdown).await;
    }

    async fn run_pruner(&self, settings: &MessagingSettings, shutdown: Shutdown) {
        tokio::join!(
            idempotency::pruner::run(self.pool.clone(), settings.retention.clone(), shutdown.clone()),
            platform::vacuum::run(self.pool.clone(), settings.vacuum.clone(), shutdown),
        );
    }

    async fn listen_for_ended_sagas(&self, waiters: Waiters, shutdown: Shutdown) {
        outcomes::listen(self.pool.clone(), waiters, shutdown).await;
    }
}

#[async_trait]
impl OrderStore for PostgresStore {
    async fn execute(&self, request: IdempotentRequest, effect: Effect) -> KeyedAnswer {
        idempotency::http::execute_keyed(&self.pool, request, move |conn| {
            Box::pin(async move { effect(&mut PgWrites { conn }).await })
        })
        .await
    }

    async fn find_order(&self, id: &OrderId) -> Result<Option<Order>, OrderError> {
        Ok(orders::find_order(&self.pool, id).await?)
    }

    /// Decides on the order as read, then starts the saga only if the
    /// order is still as read (one statement each, no transaction): of
    /// concurrent checkouts of one order, the first starts the saga, and
    /// the others find the order changed, read it again and join.
    #[tracing::instrument(skip(self))]
    async fn start_or_join(&self, id: &OrderId) -> Result<Started, OrderError> {
        for _ in 0..START_ATTEMPTS {
            // Read without a lock: `start_saga` writes only if the order
            // is still as read.
            let Some(read) = orders::find_order(&self.pool, id).await? else {
                return Err(OrderError::OrderNotFound(id.clone()));
            };
            let NewSaga { event, entry } = match plan(id, Some(&read))? {
                Plan::Answer(started) => return Ok(started),
                Plan::Start(saga) => *saga,
            };
            let request = outbox::Rows::new(vec![events::message(&event)]);
            if let Some(inserted) = saga::start_saga(&self.pool, &read, &entry, &request).await? {
                self.handoff.committed(request.stored(inserted));
                return Ok(Started::Running(Some(event.saga_id)));
            }
        }
        Err(DbError::Conflict.into())
    }

    async fn order_state(&self, id: &OrderId) -> Result<Option<OrderState>, OrderError> {
        Ok(saga::order_state(&self.pool, id).await?)
    }

    async fn timeline(&self, id: &OrderId) -> Result<Vec<TimelineEntry>, OrderError> {
        Ok(saga::timeline(&self.pool, id).await?)
    }

    async fn apply_step(
        &self,
        consumer: &str,
        message_id: Uuid,
        step: &SagaStep,
    ) -> Result<Outcome, OrderError> {
        let mut applied = self.apply_steps(consumer, &[(message_id, step.clone())]).await?;
        Ok(applied.outcomes.pop().unwrap_or(Outcome::Duplicate))
    }

    async fn apply_steps(&self, consumer: &str, steps: &[(Uuid, SagaStep)]) -> Result<Applied, OrderError> {
        let recorded = saga::record_steps(&self.pool, consumer, steps).await?;
        Ok(Applied {
            outcomes: recorded.fresh.into_iter().map(Outcome::recorded_now).collect(),
            ended: recorded.ended,
        })
    }

    /// The steps are committed already: a failure here only delays the
    /// answers until the waiters' periodic re-read, so it is logged.
    async fn announce(&self, ended: &[Ended]) {
        if ended.is_empty() {
            return;
        }
        let announced = async {
            let mut connection = self.pool.acquire().await?;
            outcomes::announce(&mut connection, ended).await
        };
        if let Err(error) = announced.await {
            tracing::warn!(%error, count = ended.len(), "ended sagas not announced; waiters will re-read");
        }
    }

    async fn redrive_stalled(&self, after: Duration, limit: i64) -> Result<Vec<Uuid>, OrderError> {
        let mut tx = self.pool.begin().await.map_err(DbError::from)?;
        let stalled = saga::claim_stalled(&mut *tx, after, limit).await?;
        if stalled.is_empty() {
            return Ok(Vec::new());
        }
        let sagas: Vec<NewSaga> = stalled
            .iter()
            .filter_map(|stalled| redrive(&stalled.order, stalled.saga_id, after))
            .collect();
        let messages = sagas.iter().map(|saga| events::message(&saga.event)).collect();
        let entries: Vec<_> = sagas
            .iter()
            .map(|saga| (saga.event.order_id.clone(), saga.entry.clone()))
            .collect();
        let stored = outbox::enqueue_all(&mut tx, messages).await?;
        saga::record_entries(&mut *tx, &entries).await?;
        tx.commit().await.map_err(DbError::from)?;
        self.handoff.committed(stored);
        Ok(sagas.iter().map(|saga| saga.event.saga_id).collect())
    }

    async fn pending_events(&self) -> Result<u64, OrderError> {
        Ok(outbox::pending_count(&self.pool).await?.unsigned_abs())
    }

    async fn is_reachable(&self) -> bool {
        platform::database::is_reachable(&self.pool, PING_TIMEOUT).await
    }
}
