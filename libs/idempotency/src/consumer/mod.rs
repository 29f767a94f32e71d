//! Idempotent RabbitMQ consumers.
//!
//! A delivery is handled in one database transaction that first records
//! `(consumer, message id)` in the inbox and then applies the handler's
//! effect; a message seen before is acknowledged with no effect. The ack is
//! sent only after the commit, and each delivery is acked or nacked exactly
//! once. A failed delivery is republished to the queue's retry queue (it
//! comes back after the retry delay) and, after `max_deliveries` attempts,
//! to the parking lot with its error, while the messages behind it flow on.
//! Each delivery is handled in a span that continues the publisher's trace
//! (`observe`), and ends in one log line and the consumer's metrics.
//!
//! `Consumer` does this against a service's PostgreSQL database; a
//! `QueueConsumer` over another [`ApplyOnce`] does it against another store.
mod apply;
mod handler;
mod message;
mod observe;
mod run;
mod settle;

pub use apply::{ApplyOnce, PgInbox};
pub use handler::{Handler, HandlerError, Outcome};
pub use message::{IncomingMessage, headers};
pub use run::{Consumer, QueueConsumer};
