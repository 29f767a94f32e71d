//! The storage interface of the order service. Routes, checkout and the saga
//! consumer use only these two traits, so they do not know whether
//! PostgreSQL or MongoDB holds the orders.
use std::fmt::Debug;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::{BoxFuture, Shared};
use idempotency::Outcome;
use idempotency::http::{IdempotentRequest, KeyedAnswer};
use platform::domain::{Amount, BatchSize, Quantity};
use uuid::Uuid;

use crate::domain::{Ended, ItemId, Order, OrderId, OrderState, SagaStep, Started, TimelineEntry, UserId};
use crate::error::OrderError;

/// What applying saga steps did: one outcome per step, and the sagas they
/// ended (only those that were still running).
#[derive(Debug, Default)]
pub struct Applied {
    pub outcomes: Vec<Outcome>,
    pub ended: Vec<Ended>,
}

/// Completes when the process is asked to stop; every background task of a
/// store gets a clone.
pub type Shutdown = Shared<BoxFuture<'static, ()>>;

/// What a request's effect answers: a JSON body, or why it did not happen.
pub type EffectResult = Result<serde_json::Value, OrderError>;

/// A mutating request's effect, run by [`OrderStore::execute`] with the
/// writes of one transaction. It may be run again from the start when the
/// store retries a transaction that conflicted, hence `Fn`.
pub type Effect = Box<dyn for<'w> Fn(&'w mut dyn OrderWrites) -> BoxFuture<'w, EffectResult> + Send + Sync>;

/// The writes a request may make, all inside the transaction that also
/// stores its `Idempotency-Key` and answer.
#[async_trait]
pub trait OrderWrites: Send {
    async fn insert_order(&mut self, id: &OrderId, user: &UserId) -> Result<(), OrderError>;

    async fn find_order(&mut self, id: &OrderId) -> Result<Option<Order>, OrderError>;

    /// Appends a line and adds its cost, unless the order is missing, paid or
    /// being checked out (`None`). A total beyond `i64::MAX` is
    /// [`OrderError::CostOverflow`] and changes nothing.
    async fn append_line(
        &mut self,
        id: &OrderId,
        item: &ItemId,
        quantity: Quantity,
        cost: Amount,
    ) -> Result<Option<i64>, OrderError>;

    /// Creates or replaces orders `"0"` … `"n-1"`, each unpaid, for a random
    /// user of `0..n_users`, with two random items of `0..n_items`. Orders
    /// being checked out are left as they are, so that their sagas end on
    /// the order they started from; returns how many were.
    async fn batch_init(
        &mut self,
        n: BatchSize,
        n_items: BatchSize,
        n_users: BatchSize,
        total_cost: Amount,
    ) -> Result<u64, OrderError>;
}

/// Where orders, their sagas, the outbox, the inbox and the idempotency keys
/// live. The background work that keeps them moving is the store's
/// [`super::StoreChores`], run by `startup`.
#[async_trait]
pub trait OrderStore: Send + Sync + Debug {
    /// Runs `effect` at most once per `Idempotency-Key`: the key, the
    /// request and the answer are stored with the effect; 2xx and 4xx are
    /// replayed to a repeat, a 5xx is not stored. The routes send what it
    /// came to.
    async fn execute(&self, request: IdempotentRequest, effect: Effect) -> KeyedAnswer;

    async fn find_order(&self, id: &OrderId) -> Result<Option<Order>, OrderError>;

    /// Starts a saga unless one runs or the order is paid (see
    /// [`crate::domain::plan`]): the order becomes `checking_out` and
    /// `CheckoutRequested` enters the outbox atomically. Concurrent
    /// checkouts of one order start one saga.
    async fn start_or_join(&self, id: &OrderId) -> Result<Started, OrderError>;

    /// The order's status and failure reason.
    async fn order_state(&self, id: &OrderId) -> Result<Option<OrderState>, OrderError>;

    /// Every step of every saga of the order, oldest first.
    async fn timeline(&self, id: &OrderId) -> Result<Vec<TimelineEntry>, OrderError>;

    /// Records `step` in the timeline and, if it is final, ends its saga
    /// (unless another saga runs by now), at most once per
    /// `(consumer, message_id)`.
    async fn apply_step(
        &self,
        consumer: &str,
        message_id: Uuid,
        step: &SagaStep,
    ) -> Result<Outcome, OrderError>;

    /// [`OrderStore::apply_step`] for each `(message_id, step)`, in order:
    /// one outcome each, and the sagas they ended. A store that can records
    /// them all in one transaction. On `Err` the consumer applies them one
    /// at a time, and any recorded already is a duplicate then. A store
    /// that reports no ended sagas leaves the waiting checkouts to its
    /// outcome listener.
    async fn apply_steps(&self, consumer: &str, steps: &[(Uuid, SagaStep)]) -> Result<Applied, OrderError> {
        let mut applied = Applied::default();
        for (message_id, step) in steps {
            applied
                .outcomes
                .push(self.apply_step(consumer, *message_id, step).await?);
        }
        Ok(applied)
    }

    /// Tells the other replicas' outcome listeners that these sagas ended,
    /// after their commit. A store whose listener watches the orders
    /// themselves has nothing to send.
    async fn announce(&self, _ended: &[Ended]) {}

    /// Drives again, from its start, each saga that made no progress for
    /// `after` (at most `limit` a call, the longest stalled first): its
    /// `CheckoutRequested` enters the outbox again under the saga's own id,
    /// with a line in the timeline, and the saga is not due again for
    /// `after`. Replicas calling this at once drive each saga once. Returns
    /// the sagas driven.
    async fn redrive_stalled(&self, after: Duration, limit: i64) -> Result<Vec<Uuid>, OrderError>;

    /// Events in the outbox: committed, and not yet confirmed by the broker
    /// (a row goes only after its confirm).
    async fn pending_events(&self) -> Result<u64, OrderError>;

    /// Whether the database answers, for health checks.
    async fn is_reachable(&self) -> bool;
}

/// Boxes a closure as an [`Effect`]; taking it through this bound lets
/// the compiler see that the future borrows the writes it is given.
pub fn effect<F>(effect: F) -> Effect
where
    F: for<'w> Fn(&'w mut dyn OrderWrites) -> BoxFuture<'w, EffectResult> + Send + Sync + 'static,
{
    Box::new(effect)
}

/// A handler's result as an [`EffectResult`].
pub fn json_result<T: serde::Serialize>(result: Result<T, OrderError>) -> EffectResult {
    result.map(|body| serde_json::to_value(body).unwrap_or_default())
}
