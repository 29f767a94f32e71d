//! What every webshop service runs on.
//!
//! The three services (order, stock, payment) differ in their domain, not in
//! their plumbing. This crate holds the plumbing they share, so each service
//! crate reads as its domain only:
//!
//! ```text
//! platform
//! ├── settings   typed values from environment variables, with defaults
//! ├── secret     SecretUrl: a connection URL whose Debug and Display hide
//! │              its password
//! ├── telemetry  JSON logs on stdout with the trace id; OpenTelemetry spans over
//! │              OTLP when configured; W3C trace context in and out; Prometheus
//! │              metrics and GET /metrics; quiet in tests unless TEST_LOG is set
//! ├── database   connect, create the database if missing, run migrations,
//! │              and classify PostgreSQL errors in one place
//! ├── failure    whether a failure is the infrastructure's (wait and try
//! │              again) or the work's own (counts toward parking)
//! ├── health     GET /<prefix>/health: 200 while the database and broker answer
//! ├── http       serve a warp filter on a bound listener, turn results and
//! │              rejections into JSON answers with the right status; one
//! │              span and one log line per request
//! ├── openapi    GET /<prefix>/openapi.json: the service's part of the
//! │              public API's document, docs/openapi.json
//! ├── periodic   chores on a timer until shutdown (pruning, vacuuming)
//! ├── runtime    the tokio runtime: a worker per core, or what WORKER_THREADS
//! │              asks for (0: the main thread alone)
//! ├── vacuum     VACUUM of the tables that churn (outbox, inbox), where
//! │              autovacuum is off or slow
//! └── domain     the value types of the public contract: Amount, Quantity,
//!                BatchSize, Id<K>; each can only hold a valid value
//! ```
pub mod database;
pub mod domain;
pub mod failure;
pub mod health;
pub mod http;
pub mod openapi;
pub mod periodic;
pub mod runtime;
pub mod secret;
pub mod settings;
pub mod telemetry;
pub mod testing;
pub mod vacuum;
