//! Idempotent RabbitMQ consumers.
//!
//! Deliveries are handled in batches (`batch`): those already received, up
//! to `AMQP_CONSUMER_BATCH`, in one database transaction that first records
//! every `(consumer, message id)` in the inbox and then applies the
//! handler's effects in delivery order; a message seen before is
//! acknowledged with no effect. The acks are sent only after the commit, and
//! each delivery is acked or nacked exactly once. When a batch fails, its
//! messages are applied one at a time, each in its own transaction, so one
//! message that cannot be applied never holds back the others. A failed
//! delivery is republished to the queue's retry queue (it comes back after
//! the retry delay) and, after `max_deliveries` attempts, to the parking lot
//! with its error, while the messages behind it flow on. Only failures of
//! the message itself count as attempts: one caused by the infrastructure
//! (the database is down, say) is waited out in the consumer (`faults`).
//! Each delivery is handled in a span that continues the publisher's trace
//! (`observe`), and ends in one log line and the consumer's metrics.
//!
//! A stream is split into partitions, a queue each; the consumer consumes
//! those its replica holds (`partitions`), each on a channel of its own,
//! and beats into the service's database to learn which are its own
//! (`crate::membership`). A batch takes deliveries of every partition held.
//!
//! A message that arrives alone may be applied by one statement with no
//! transaction instead (`alone`), and so may a batch (`together`), when its
//! handler has such a form.
//!
//! `Consumer` does this against a service's PostgreSQL database; a
//! `QueueConsumer` over another [`ApplyOnce`] does it against another store.
mod alone;
mod apply;
mod batch;
mod faults;
mod handler;
mod message;
mod observe;
mod partitions;
mod rebalance;
mod run;
mod settle;
mod single;
mod together;

pub use alone::{Lone, WrittenRow};
pub use apply::{ApplyOnce, Batched, PgInbox};
pub use handler::{Handler, HandlerError, Outcome};
pub use message::{IncomingMessage, headers};
pub use run::{Consumer, QueueConsumer};
pub use together::Together;
