//! Logs, traces and metrics, the same for every service.
//!
//! ```text
//! telemetry
//! ├── init         the process's subscriber: JSON log lines on stdout, and OpenTelemetry
//! │                spans exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set
//! ├── logs         the log line: tracing-subscriber's JSON, with the trace id in front
//! ├── propagation  W3C `traceparent` out of a span (into outbox rows, AMQP and HTTP
//! │                headers) and into a span (from those headers)
//! └── metrics      a service's Prometheus registry and `GET /metrics`
//! ```
//!
//! One checkout is one trace: the HTTP span continues the caller's
//! `traceparent`, `outbox::enqueue` stores the current span's context with
//! the event, the relay's publish span continues it and sends its own in the
//! AMQP headers, and the consumer's span continues that.
mod init;
mod logs;
pub mod metrics;
mod propagation;

pub use init::{TelemetryGuard, init, init_for_tests, install};
pub use metrics::Telemetry;
pub use propagation::{TRACEPARENT, continue_trace, current_traceparent, traceparent_of};
