//! What the relay reports: a span per published message, continuing the
//! trace of the transaction that enqueued it, and its metrics.
use std::time::Duration;

use platform::telemetry::metrics::{counter, gauge, histogram, int_gauge};
use platform::telemetry::{Telemetry, continue_trace, traceparent_of};
use prometheus::{Gauge, Histogram, IntCounter, IntGauge};

use crate::message::OutboxMessage;

/// The relay's metrics; unregistered (so invisible) until
/// [`RelayMetrics::register`].
#[derive(Debug, Clone)]
pub(crate) struct RelayMetrics {
    /// From sending a message to the broker's confirm.
    publish_seconds: Histogram,
    published: IntCounter,
    /// Rows in the outbox, read at most once a second by the running relay.
    backlog: IntGauge,
    /// Age of the oldest row: grows while the broker or the relay is down.
    oldest_age: Gauge,
}

impl RelayMetrics {
    pub(crate) fn new() -> Self {
        RelayMetrics {
            publish_seconds: histogram(
                "outbox_publish_duration_seconds",
                "Relay: from sending an event to the broker's confirm",
            ),
            published: counter("outbox_published_total", "Relay: events published and confirmed"),
            backlog: int_gauge("outbox_backlog_events", "Events in the outbox, not yet published"),
            oldest_age: gauge(
                "outbox_oldest_event_age_seconds",
                "Age of the oldest event not yet published (0 when none waits)",
            ),
        }
    }

    pub(crate) fn register(&self, telemetry: &Telemetry) {
        telemetry.register(self.publish_seconds.clone());
        telemetry.register(self.published.clone());
        telemetry.register(self.backlog.clone());
        telemetry.register(self.oldest_age.clone());
    }

    pub(crate) fn confirmed(&self, latency: Duration) {
        self.publish_seconds.observe(latency.as_secs_f64());
        self.published.inc();
    }

    pub(crate) fn backlog(&self, count: i64, oldest_age_secs: f64) {
        self.backlog.set(count);
        self.oldest_age.set(oldest_age_secs);
    }
}

/// A producer span for `message`, child of the span that enqueued it; the
/// message then carries this span's context, so the consumer's span becomes
/// its child. It ends when dropped: after the broker's confirm.
pub(crate) fn publish_span(service: &'static str, message: &mut OutboxMessage) -> tracing::Span {
    let span = tracing::info_span!(
        "outbox.publish",
        otel.name = %format_args!("publish {}", message.exchange),
        otel.kind = "producer",
        service,
        "messaging.system" = "rabbitmq",
        "messaging.destination.name" = %message.exchange,
        "messaging.rabbitmq.destination.routing_key" = %message.routing_key,
        "messaging.message.id" = %message.message_id,
        event = %message.event_type,
    );
    continue_trace(&span, message.traceparent.as_deref());
    if let Some(own) = traceparent_of(&span) {
        message.traceparent = Some(own);
    }
    span
}
