//! The MongoDB store (`ORDER_STORE=mongodb`, the `mongodb` feature).
//!
//! ```text
//! orders             one document per order: lines, saga state, timeline;
//!                    `_id` is the order id, the hashed shard key
//! outbox             events, written in the transaction of their change
//! outbox_leases      which relay publishes which order's events, until when
//! inbox              (consumer, message id), TTL on processed_at
//! idempotency_keys   key, request, answer; TTL on created_at
//! consumer_members   the replicas consuming the order's stream, and their
//!                    partitions (idempotency::membership)
//! ```
//!
//! Configuration: `ORDER_STORE=mongodb`, `MONGODB_URL`
//! (`mongodb://127.0.0.1:27017`), `MONGODB_DATABASE` (`order_db`).
//!
//! Each saga step and each keyed request is one multi-document transaction
//! (`transaction`), so MongoDB must run as a replica set or a sharded
//! cluster (through `mongos`, where `orders` must be sharded by hashed `_id`:
//! start-up does it when its user may, and otherwise checks that the
//! deploy's shard Job did, or names the missing role and exits). That
//! also makes change streams available, which wake waiting checkouts on
//! every replica (`outcomes`); without them a waiting checkout re-reads its
//! order every second. The relay is the `outbox` crate's, over this store's
//! outbox (`outbox_store`): woken by this process's checkouts (through its
//! `Handoff`, which carries no rows here) to sweep at once, and otherwise
//! sweeping every `OUTBOX_POLL_INTERVAL_MS`; relays of several replicas
//! share the outbox through per-order leases (`outbox_collection`).
//! No pruner runs: TTL indexes expire the inbox and the keys.
//!
//! Tests: `MONGODB_URL=mongodb://…/?replicaSet=… cargo nextest run -p order
//! --features mongodb --run-ignored all` runs `tests/store` against it;
//! without it the `requires_mongodb::…` tests are ignored (shown as skipped).
mod documents;
mod keys;
mod membership;
mod orders;
mod outbox_collection;
mod outbox_store;
mod outcomes;
mod saga;
mod setup;
mod shard_setup;
mod sharding;
mod store;
mod transaction;
mod writes;

pub use membership::MongoMembership;
pub use store::MongoStore;
