use async_trait::async_trait;
use idempotency::http::IdempotentRequest;
use idempotency::messaging::MessagingSettings;
use idempotency::{Outcome, inbox};
use outbox::Relay;
use outbox::topology::Topology;
use platform::database::DbError;
use platform::telemetry::Telemetry;
use sqlx::PgPool;
use uuid::Uuid;
use warp::reply::Response;

use super::writes::PgWrites;
use super::{orders, outcomes, saga};
use crate::checkout::{NewSaga, Outcomes, Plan, Started, plan};
use crate::domain::{Order, OrderId, SagaStep, TimelineEntry};
use crate::error::OrderError;
use crate::storage::{Operation, OrderStore, Shutdown};

/// How long the database may take to answer a health check's `SELECT 1`.
const PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// The orders in PostgreSQL: the saga, the outbox (`outbox::enqueue`), the
/// inbox and the idempotency keys share the order database's transactions.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    pub fn new(pool: PgPool) -> Self {
        PostgresStore { pool }
    }
}

#[async_trait]
impl OrderStore for PostgresStore {
    async fn execute(&self, request: IdempotentRequest, operation: Operation) -> Response {
        idempotency::http::execute(&self.pool, request, move |conn| {
            Box::pin(async move { operation(&mut PgWrites { conn }).await })
        })
        .await
    }

    async fn find_order(&self, id: &OrderId) -> Result<Option<Order>, OrderError> {
        Ok(orders::find_order(&self.pool, id).await?)
    }

    /// Concurrent checkouts of one order queue on the row lock; the first
    /// starts the saga and the others join it.
    #[tracing::instrument(skip(self))]
    async fn start_or_join(&self, id: &OrderId) -> Result<Started, OrderError> {
        let mut tx = self.pool.begin().await.map_err(DbError::from)?;
        let order = saga::lock_for_checkout(&mut tx, id).await?;
        let NewSaga { event, entry } = match plan(id, order)? {
            Plan::Answer(started) => return Ok(started),
            Plan::Start(saga) => *saga,
        };
        saga::start_saga(&mut tx, id, event.saga_id).await?;
        outbox::enqueue(&mut tx, &events::message(&event)).await?;
        saga::record_step(&mut *tx, id.as_str(), &entry).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok(Started::Running)
    }

    async fn outcome(&self, id: &OrderId) -> Result<Option<(String, Option<String>)>, OrderError> {
        Ok(saga::outcome(&self.pool, id).await?)
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
        let mut tx = self.pool.begin().await.map_err(DbError::from)?;
        if !inbox::record(&mut tx, consumer, message_id).await? {
            return Ok(Outcome::Duplicate);
        }
        saga::record_step(&mut *tx, &step.order_id, &step.entry).await?;
        if let Some(failure) = &step.outcome {
            saga::finish_saga(&mut tx, &step.order_id, step.entry.saga_id, failure.as_deref()).await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(Outcome::Applied)
    }

    async fn is_reachable(&self) -> bool {
        platform::database::is_reachable(&self.pool, PING_TIMEOUT).await
    }

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
        .with_telemetry(telemetry);
        relay.run(shutdown).await;
    }

    async fn run_pruner(&self, settings: &MessagingSettings, shutdown: Shutdown) {
        idempotency::pruner::run(self.pool.clone(), settings.retention.clone(), shutdown).await;
    }

    async fn listen_for_outcomes(&self, outcomes: Outcomes, shutdown: Shutdown) {
        outcomes::listen(self.pool.clone(), outcomes, shutdown).await;
    }
}
