//! The checkout saga's event contracts, in one place every service reads.
//!
//! ```text
//! order    ── CheckoutRequested ──▶ stock
//! stock    ── StockReserved     ──▶ payment
//! stock    ── StockRejected     ──▶ order            final: failed
//! payment  ── PaymentSucceeded  ──▶ order            final: paid
//! payment  ── PaymentFailed     ──▶ stock
//! stock    ── StockReleased     ──▶ order            final: failed, compensated
//! ```
//!
//! Each event is published to the topic exchange of the service that emits
//! it (`order`, `stock`, `payment`) under its routing key, as JSON with the
//! AMQP `type` set to its name and the `schema-version` header to its
//! version. Every event names its order (the aggregate) and its saga: one
//! checkout attempt of that order. A consumer that meets an unknown version
//! fails the message, which is retried and then parked: never half-read.
mod contract;
mod payloads;
mod queues;
mod topology;

pub use contract::{DecodeError, Event, decode, message};
pub use payloads::{
    CheckoutRequested, Line, PaymentFailed, PaymentSucceeded, StockRejected, StockReleased, StockReserved,
};
pub use queues::{
    ORDER_QUEUE, OrderQueueEvent, PAYMENT_QUEUE, PaymentQueueEvent, STOCK_QUEUE, StockQueueEvent,
};
pub use topology::topology;
