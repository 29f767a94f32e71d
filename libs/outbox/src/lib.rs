//! The transactional outbox: an event is written into the service's `outbox`
//! table in the same transaction as the state change it describes, and a
//! relay publishes it to RabbitMQ afterwards. Either both the change and the
//! event commit, or neither does; no event is lost between them.
//!
//! ```text
//! enqueue(tx, message)        INSERT INTO outbox … RETURNING position and the older rows of
//!                             its aggregate still waiting, inside the caller's tx
//!          │ commit, then Handoff::committed(rows): in memory, same process
//!          ▼
//! Relay::run                  per batch of rows handed over:
//!   check, in memory          this relay published every older row of the row's aggregate
//!   publish                   persistent, mandatory, with publisher confirms, pipelined
//!   delete                    only the rows the broker confirmed, many batches at a time
//! Relay::run, every poll      the sweep, for rows no live process handed over:
//!   claim                     SELECT … FOR UPDATE SKIP LOCKED: aggregates' heads, oldest first,
//!                             committed at least OUTBOX_SWEEP_AFTER_MS ago
//!   publish, delete, commit
//! ```
//!
//! Several relays (one per replica) share the table. Each publishes the rows
//! its own process committed; the sweeps take only rows old enough to have
//! been left behind, and lock what they take, so in normal operation nothing
//! is published twice. A relay that dies after publishing and before its
//! delete leaves the rows in place and they are published again: delivery is
//! at least once, and consumers deduplicate by message id (the `idempotency`
//! crate). Each aggregate's events go out in commit order: a handed-over row
//! with an older row of its aggregate that its relay did not publish is left
//! to the sweep, which takes heads only.
//!
//! The relay is written once, over the [`OutboxStore`] trait: what it needs
//! of the database its outbox lives in (claim a sweep's batch, settle or
//! abandon the claim, delete rows handed over and published, read the
//! backlog). [`PgOutbox`] implements it for the `outbox` table; a service
//! that keeps its outbox elsewhere implements it for its own and runs
//! `Relay::with_store` (the order service's MongoDB store does, waking its
//! relay with [`Handoff::wake`] instead of handing rows over).
//!
//! Modules: `message` (what is enqueued), `store` (the writes), `claim`
//! (the relay's reads), `outbox_store` (the trait), `pg_outbox` (the trait
//! for the `outbox` table), `handoff` (commit to relay, in memory),
//! `relay` (publishing in rounds, the loop), `published` (what a relay
//! published: its order check, its deletes), `batch` (a batch published
//! with confirms), `broker` (connections and publishing), `partitions`
//! (an aggregate's partition of its stream), `topology` (exchanges,
//! queues), `telemetry` (the publish span, the relay's
//! metrics), `backoff`, `settings`.
//!
//! The trace context travels with the event: `enqueue` stores the current
//! span's `traceparent` in the row, the relay's publish span continues it,
//! and the message's `traceparent` header carries the publish span on.
mod backoff;
mod batch;
pub mod broker;
mod claim;
mod handoff;
mod message;
mod outbox_store;
pub mod partitions;
mod pg_outbox;
mod published;
mod relay;
pub mod settings;
mod store;
mod telemetry;
pub mod topology;

pub use backoff::Backoff;
pub use claim::pending_count;
pub use handoff::Handoff;
pub use message::{OutboxMessage, headers};
pub use outbox_store::OutboxStore;
pub use partitions::{Partition, Partitions};
pub use pg_outbox::PgOutbox;
pub use relay::{Claimed, Relay, RelayError};
pub use settings::{BrokerSettings, RelaySettings};
pub use store::{InsertedRow, Rows, Stored, enqueue, enqueue_all};

/// The outbox table's migrations; a service runs them beside its own.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
