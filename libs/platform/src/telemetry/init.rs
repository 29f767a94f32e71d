//! The process-wide subscriber.
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::{EnvFilter, Layer, fmt, prelude::*};

use super::logs::JsonWithTraceId;

/// Keeps the tracer provider of [`init`]; dropping it (at the end of `main`)
/// exports the spans still buffered.
#[derive(Debug, Default)]
#[must_use = "dropping the guard stops exporting spans"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(Err(error)) = self.provider.take().map(|p| p.shutdown()) {
            tracing::warn!(%error, "could not export the last spans");
        }
    }
}

/// Installs JSON-lines logs on stdout, filtered by `RUST_LOG` (default
/// `info`), and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, OpenTelemetry
/// spans exported in batches over OTLP/gRPC with `service.name` = `service`.
/// Without the endpoint no span reaches OpenTelemetry at all, which keeps
/// the cost of tracing off at nothing (measured in the README).
pub fn init(service: &'static str) -> TelemetryGuard {
    let (provider, failure) = match otlp_provider(service) {
        Ok(provider) => (provider, None),
        Err(error) => (None, Some(error)),
    };
    install(provider.as_ref(), true);
    if let Some(error) = failure {
        tracing::warn!(%error, "OTLP exporter not created; spans are not exported");
    }
    tracing::info!(service, tracing = provider.is_some(), "telemetry initialised");
    TelemetryGuard { provider }
}

/// Test suites call this once per test: logs stay quiet unless `TEST_LOG` is
/// set, so a failing test's output is not buried under every request line.
pub fn init_for_tests(_service: &'static str) {
    if std::env::var_os("TEST_LOG").is_some() {
        install(None, true);
    }
}

/// Installs the subscriber: logs on stdout when `logs`, spans to `provider`
/// when there is one. Returns false when a subscriber was installed before
/// (several tests of one binary each ask for one), which is then kept.
pub fn install(provider: Option<&SdkTracerProvider>, logs: bool) -> bool {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info"))
        // warp's request tracing logs twice per request; `http::finish` logs once.
        .add_directive("warp::filters::trace=off".parse().expect("a valid directive"));
    let logs = logs.then(|| fmt::layer().json().event_format(JsonWithTraceId::default()));
    let traces = provider.map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("webshop"))
            .with_filter(not_the_exporter())
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(traces)
        .try_init()
        .is_ok()
}

/// The exporter's own gRPC stack must not trace itself: each export would
/// make spans to export.
fn not_the_exporter() -> Targets {
    ["h2", "hyper", "hyper_util", "tonic", "tower", "opentelemetry"]
        .into_iter()
        .fold(
            Targets::new().with_default(LevelFilter::TRACE),
            |targets, crate_name| targets.with_target(crate_name, LevelFilter::OFF),
        )
}

fn otlp_provider(
    service: &'static str,
) -> Result<Option<SdkTracerProvider>, opentelemetry_otlp::ExporterBuildError> {
    let configured = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").is_ok_and(|v| !v.trim().is_empty());
    if !configured {
        return Ok(None);
    }
    // Reads OTEL_EXPORTER_OTLP_ENDPOINT (and _TIMEOUT, _HEADERS) itself.
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build();
    Ok(Some(provider))
}
