//! The transactional outbox: an event is written into the service's `outbox`
//! table in the same transaction as the state change it describes, and a
//! relay publishes it to RabbitMQ afterwards. Either both the change and the
//! event commit, or neither does; no event is lost between them.
//!
//! ```text
//! enqueue(tx, message)        INSERT INTO outbox, inside the caller's tx
//!          │ commit, then Wakeup::wake() in the same process
//!          ▼
//! Relay::run                  wakes (or polls slowly, for rows a dead process left), per batch:
//!   claim                     SELECT … FOR UPDATE SKIP LOCKED: aggregates' heads, oldest first
//!   publish                   persistent, mandatory, with publisher confirms, pipelined
//!   delete                    only the rows the broker confirmed, then commit
//! ```
//!
//! Several relays (one per replica) share the table: a row locked by one is
//! skipped by the others, so in normal operation nothing is published twice.
//! A relay that dies after publishing and before its commit leaves the rows
//! in place and they are published again: delivery is at least once, and
//! consumers deduplicate by message id (the `idempotency` crate).
//!
//! Modules: `message` (what is enqueued), `store` (the SQL), `relay`,
//! `batch` (a batch published with confirms, for any outbox store),
//! `broker` (connections and publishing), `topology` (exchanges, queues),
//! `telemetry` (the publish span, the relay's metrics), `wakeup` (commit
//! to relay, in memory), `backoff`, `settings`.
//!
//! The trace context travels with the event: `enqueue` stores the current
//! span's `traceparent` in the row, the relay's publish span continues it,
//! and the message's `traceparent` header carries the publish span on.
mod backoff;
mod batch;
pub mod broker;
mod message;
mod relay;
pub mod settings;
mod store;
mod telemetry;
pub mod topology;
mod wakeup;

pub use backoff::Backoff;
pub use batch::{BatchPublisher, Confirmations};
pub use message::{OutboxMessage, headers};
pub use relay::{Claimed, Relay, RelayError};
pub use settings::{BrokerSettings, RelaySettings};
pub use store::{enqueue, pending_count};
pub use wakeup::Wakeup;

/// The outbox table's migrations; a service runs them beside its own.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
