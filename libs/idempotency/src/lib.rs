//! Every effect once, although messages and requests may arrive many times.
//!
//! ```text
//! consumer/   an idempotent RabbitMQ consumer: the message id is recorded in
//!             the inbox in the same transaction as the handler's effect; ack
//!             after commit; failures retried with delay, then parked
//! inbox       the (consumer, message id) records
//! membership  which replica consumes which partitions of a stream: a beat
//!             into the service's database, and the rule that spreads them
//! http/       the Idempotency-Key header: the answer stored with the effect,
//!             replayed on a repeat, 422 when the key comes with another request
//! messaging   a service process: HTTP, relay, consumer and pruner, run together
//! parking     lists and replays parked messages (bin/parking-lot)
//! participant the start-up stock and payment share: settings, migrations,
//!             listener, then their process; each names only what differs
//! pruner      deletes inbox rows and keys past their retention
//! settings    retentions, from the environment
//! ```
pub mod consumer;
pub mod http;
pub mod inbox;
pub mod membership;
pub mod messaging;
pub mod parking;
pub mod participant;
pub mod pruner;
pub mod settings;

pub use consumer::{
    ApplyOnce, Batched, Consumer, Handler, HandlerError, IncomingMessage, Lone, Outcome, QueueConsumer,
    Together, WrittenRow,
};
/// For [`applied_alone!`] and [`applied_together!`], which embed the
/// outbox's insert.
#[doc(hidden)]
pub use outbox as __outbox;
pub use settings::RetentionSettings;

/// The inbox and idempotency-key tables; a service runs them beside its own.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
