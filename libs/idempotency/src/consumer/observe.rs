//! What a consumer reports: a span per delivery, continuing the trace of
//! the span that published it, one log line, and its metrics.
use std::time::Duration;

use lapin::message::Delivery;
use platform::telemetry::metrics::{counter_vec, histogram_vec, int_gauge};
use platform::telemetry::{TRACEPARENT, Telemetry, continue_trace};
use prometheus::{HistogramVec, IntCounterVec, IntGauge};

use super::message::string_header;

/// How a delivery ended, as metrics and the log line name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Disposition {
    Applied,
    Duplicate,
    Retried,
    Parked,
}

impl Disposition {
    pub(super) fn label(self) -> &'static str {
        match self {
            Disposition::Applied => "applied",
            Disposition::Duplicate => "duplicate",
            Disposition::Retried => "retried",
            Disposition::Parked => "parked",
        }
    }
}

/// The consumer's metrics; unregistered (so invisible) until
/// [`ConsumerMetrics::register`].
#[derive(Debug, Clone)]
pub(super) struct ConsumerMetrics {
    consumed: IntCounterVec,
    duplicates: IntCounterVec,
    parked: IntCounterVec,
    transient: IntCounterVec,
    seconds: HistogramVec,
    held: IntGauge,
}

impl ConsumerMetrics {
    pub(super) fn new() -> Self {
        ConsumerMetrics {
            consumed: counter_vec(
                "consumer_messages_total",
                "Deliveries handled, by queue, event type and outcome (applied, duplicate, retried, parked)",
                &["queue", "event", "outcome"],
            ),
            duplicates: counter_vec(
                "consumer_duplicates_skipped_total",
                "Deliveries recognised by the inbox and acked with no effect",
                &["queue"],
            ),
            parked: counter_vec(
                "consumer_messages_parked_total",
                "Deliveries moved to the parking lot after their last attempt",
                &["queue"],
            ),
            transient: counter_vec(
                "consumer_transient_failures_total",
                "Tries that failed for want of the infrastructure (database down, pool exhausted, deadlock); \
                 waited out, never counted as delivery attempts",
                &["queue"],
            ),
            seconds: histogram_vec(
                "consumer_handle_duration_seconds",
                "From taking a delivery to settling it",
                &["queue"],
            ),
            held: int_gauge(
                "consumer_partitions_held",
                "Partitions of its stream this replica consumes: the stream's spread over the replicas",
            ),
        }
    }

    /// Registers the metrics, with the queue's counters at 0 so that a
    /// dashboard shows them before the first duplicate or parked message.
    pub(super) fn register(&self, telemetry: &Telemetry, queue: &str) {
        self.duplicates.with_label_values(&[queue]);
        self.parked.with_label_values(&[queue]);
        self.transient.with_label_values(&[queue]);
        telemetry.register(self.consumed.clone());
        telemetry.register(self.duplicates.clone());
        telemetry.register(self.parked.clone());
        telemetry.register(self.transient.clone());
        telemetry.register(self.seconds.clone());
        telemetry.register(self.held.clone());
    }

    pub(super) fn holding(&self, partitions: usize) {
        self.held.set(partitions as i64);
    }

    pub(super) fn transient_failure(&self, queue: &str) {
        self.transient.with_label_values(&[queue]).inc();
    }

    pub(super) fn observe(&self, queue: &str, event: &str, disposition: Disposition, took: Duration) {
        let outcome = disposition.label();
        self.consumed.with_label_values(&[queue, event, outcome]).inc();
        self.seconds
            .with_label_values(&[queue])
            .observe(took.as_secs_f64());
        match disposition {
            Disposition::Duplicate => self.duplicates.with_label_values(&[queue]).inc(),
            Disposition::Parked => self.parked.with_label_values(&[queue]).inc(),
            Disposition::Applied | Disposition::Retried => {}
        }
    }
}

/// A consumer span for `delivery`, child of the publish span named by its
/// `traceparent` header; the handler's spans, and the events it enqueues,
/// are its children.
pub(super) fn consume_span(service: &'static str, queue: &str, delivery: &Delivery) -> tracing::Span {
    let properties = &delivery.properties;
    let headers = properties.headers().as_ref();
    let event = properties.kind().as_ref().map(|t| t.as_str()).unwrap_or_default();
    let span = tracing::info_span!(
        "message.consume",
        otel.name = %format_args!("process {queue}"),
        otel.kind = "consumer",
        service,
        "messaging.system" = "rabbitmq",
        "messaging.destination.name" = queue,
        "messaging.message.id" = properties.message_id().as_ref().map(|id| id.as_str()).unwrap_or_default(),
        event,
        outcome = tracing::field::Empty,
    );
    continue_trace(&span, string_header(headers, TRACEPARENT).as_deref());
    span
}
