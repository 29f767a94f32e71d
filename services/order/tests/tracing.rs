//! One checkout is one trace: the HTTP request, the outbox, the relays and
//! the consumers of all three services, linked across the broker. A tracer
//! provider is process-wide, so this test has a binary of its own, whose
//! subscriber sends every span to an in-memory exporter.
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, SpanKind, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use reqwest::StatusCode;
use test_support::spawn_system;

/// The caller's span, as a client that traces would send it.
const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

#[tokio::test]
async fn a_checkout_is_one_trace_across_three_services_with_parent_links_across_the_broker() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let logs = std::env::var_os("TEST_LOG").is_some();
    assert!(
        platform::telemetry::install(Some(&provider), logs),
        "the first subscriber"
    );
    let app = spawn_system(1).await;
    let order = app.one_line_order().await;

    let response = app
        .order
        .client
        .post(format!("{}/orders/checkout/{order}", app.order.address))
        .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
        .send()
        .await
        .expect("sent");

    assert_eq!(response.status(), StatusCode::OK);
    let trace = TraceId::from_hex(CALLER_TRACE).expect("a trace id");
    // Three deliveries, one per step of the saga. The order's consumer
    // ends its span just after the saga's answer.
    let complete = test_support::eventually(Duration::from_secs(10), || async {
        of_kind(&spans_of(&exporter, trace), SpanKind::Consumer).len() == 3
    });
    let complete = complete.await;
    let spans = spans_of(&exporter, trace);
    print_trace(&spans);
    assert!(complete, "three consumer spans in the trace");
    let http = of_kind(&spans, SpanKind::Server);
    assert_eq!(http.len(), 1, "one HTTP span");
    assert_eq!(
        http[0].parent_span_id,
        SpanId::from_hex(CALLER_SPAN).expect("a span id")
    );
    let services: BTreeSet<String> = spans.iter().filter_map(|s| attribute(s, "service")).collect();
    assert_eq!(
        services,
        BTreeSet::from(["order", "payment", "stock"].map(String::from))
    );
    let mut hops = Vec::new();
    for consumer in of_kind(&spans, SpanKind::Consumer) {
        let message = attribute(consumer, "messaging.message.id");
        let producer = of_kind(&spans, SpanKind::Producer)
            .into_iter()
            .find(|p| attribute(p, "messaging.message.id") == message)
            .expect("the consumed message's publish span, in the same trace");
        assert_eq!(
            consumer.parent_span_id,
            producer.span_context.span_id(),
            "{message:?}"
        );
        hops.push(format!(
            "{} -> {}: {}",
            attribute(producer, "service").unwrap_or_default(),
            attribute(consumer, "service").unwrap_or_default(),
            attribute(consumer, "event").unwrap_or_default(),
        ));
    }
    hops.sort();
    assert_eq!(
        hops,
        [
            "order -> stock: CheckoutRequested",
            "payment -> order: PaymentSucceeded",
            "stock -> payment: StockReserved",
        ]
    );
    let _ = provider.shutdown();
}

fn spans_of(exporter: &InMemorySpanExporter, trace: TraceId) -> Vec<SpanData> {
    let mut spans = exporter.get_finished_spans().expect("the exporter's spans");
    spans.retain(|s| s.span_context.trace_id() == trace);
    spans.sort_by_key(|s| s.start_time);
    spans
}

fn of_kind(spans: &[SpanData], kind: SpanKind) -> Vec<&SpanData> {
    spans.iter().filter(|s| s.span_kind == kind).collect()
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

/// The trace as a tree, with each span's start (from the trace's first)
/// and duration: what `cargo nextest run --no-capture` shows, and what a
/// collector would draw.
fn print_trace(spans: &[SpanData]) {
    let Some(first) = spans.first().map(|s| s.start_time) else {
        return;
    };
    let ms =
        |from: SystemTime, to: SystemTime| to.duration_since(from).unwrap_or_default().as_secs_f64() * 1e3;
    println!("{:>9} {:>9}  span (service)", "start ms", "took ms");
    let mut stack: Vec<(SpanId, usize)> = Vec::new();
    let roots = spans
        .iter()
        .filter(|s| !spans.iter().any(|p| p.span_context.span_id() == s.parent_span_id));
    for root in roots {
        stack.push((root.span_context.span_id(), 0));
        while let Some((id, depth)) = stack.pop() {
            let Some(span) = spans.iter().find(|s| s.span_context.span_id() == id) else {
                continue;
            };
            let service = attribute(span, "service")
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            println!(
                "{:>9.2} {:>9.2}  {}{}{service}",
                ms(first, span.start_time),
                ms(span.start_time, span.end_time),
                "  ".repeat(depth),
                span.name
            );
            let children = spans.iter().rev().filter(|c| c.parent_span_id == id);
            stack.extend(children.map(|c| (c.span_context.span_id(), depth + 1)));
        }
    }
}
