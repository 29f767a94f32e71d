//! W3C trace context in and out of `tracing` spans.
use std::collections::HashMap;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The header (HTTP and AMQP) and outbox column that carry the context.
pub const TRACEPARENT: &str = "traceparent";

/// `span`'s W3C `traceparent`, or `None` when tracing is off (no
/// OpenTelemetry layer), so an untraced event carries nothing.
pub fn traceparent_of(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut carrier);
    carrier.remove(TRACEPARENT)
}

/// The `traceparent` of the span the caller runs in.
pub fn current_traceparent() -> Option<String> {
    traceparent_of(&tracing::Span::current())
}

/// Makes `span` a child of the remote span `traceparent` names. Call it
/// right after creating `span`: once the span has children or was exported
/// its parent is fixed. A missing or malformed value leaves `span` a root.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent else {
        return;
    };
    let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    let cx = TraceContextPropagator::new().extract(&carrier);
    if cx.span().span_context().is_valid() {
        // Fails only when tracing is off or the span already started, and
        // then there is nothing better to do than to stay a root.
        let _ = span.set_parent(cx);
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::prelude::*;

    use super::*;

    const REMOTE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn traced() -> impl tracing::Subscriber {
        let provider = SdkTracerProvider::builder().build();
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
    }

    #[test]
    fn a_span_continues_a_remote_trace_and_passes_its_own_span_on() {
        tracing::subscriber::with_default(traced(), || {
            let span = tracing::info_span!("consume");

            continue_trace(&span, Some(REMOTE));

            let own = traceparent_of(&span).expect("a traceparent");
            assert!(own.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "{own}");
            assert_ne!(own, REMOTE, "the span's own id, not its parent's");
        });
    }

    #[test]
    fn a_malformed_traceparent_leaves_a_root_with_a_fresh_trace() {
        tracing::subscriber::with_default(traced(), || {
            let span = tracing::info_span!("consume");

            continue_trace(&span, Some("00-not-a-trace-01"));

            let own = traceparent_of(&span).expect("a traceparent");
            assert!(!own.contains("4bf92f3577b34da6a3ce929d0e0e4736"), "{own}");
        });
    }

    #[test]
    fn without_tracing_nothing_is_propagated() {
        let untraced = tracing_subscriber::registry();
        tracing::subscriber::with_default(untraced, || {
            let span = tracing::info_span!("consume");

            continue_trace(&span, Some(REMOTE));

            assert_eq!(traceparent_of(&span), None);
        });
    }
}
