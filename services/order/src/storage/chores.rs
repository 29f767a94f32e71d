//! The background work a store needs beside its requests: publishing its
//! outbox, pruning what expires, and hearing of sagas that ended on other
//! replicas. `startup` runs each loop; a store only says how.
use std::fmt::Debug;

use async_trait::async_trait;
use idempotency::messaging::MessagingSettings;
use outbox::topology::Topology;
use platform::telemetry::Telemetry;

use super::Shutdown;
use crate::waiters::Waiters;

#[async_trait]
pub trait StoreChores: Send + Sync + Debug {
    /// Publishes the outbox to the broker until `shutdown`.
    async fn run_relay(
        &self,
        settings: &MessagingSettings,
        topology: Topology,
        name: &str,
        telemetry: &Telemetry,
        shutdown: Shutdown,
    );

    /// Deletes expired inbox records and idempotency keys until `shutdown`
    /// (or leaves it to the database).
    async fn run_pruner(&self, settings: &MessagingSettings, shutdown: Shutdown);

    /// Wakes the waiters in `waiters` whenever a saga ends, on any replica,
    /// until `shutdown`.
    async fn listen_for_ended_sagas(&self, waiters: Waiters, shutdown: Shutdown);
}
