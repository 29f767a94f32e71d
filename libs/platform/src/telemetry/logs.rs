//! The log line: one JSON object, with the trace id first when there is one.
use opentelemetry::trace::TraceContextExt;
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Json, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, format};
use tracing_subscriber::registry::LookupSpan;

/// tracing-subscriber's JSON lines (fields flattened, no span list) with
/// `"trace_id"` added while a traced span is entered, so that the lines
/// of one checkout can be found in every service's log by one id.
#[derive(Debug)]
pub(super) struct JsonWithTraceId {
    inner: Format<Json>,
}

impl Default for JsonWithTraceId {
    fn default() -> Self {
        JsonWithTraceId {
            inner: format()
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_target(false),
        }
    }
}

impl<S, N> FormatEvent<S, N> for JsonWithTraceId
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let Some(trace_id) = current_trace_id() else {
            return self.inner.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.inner.format_event(ctx, Writer::new(&mut line), event)?;
        match line.strip_prefix('{') {
            Some(rest) => write!(writer, "{{\"trace_id\":\"{trace_id}\",{rest}"),
            None => writer.write_str(&line),
        }
    }
}

/// The OpenTelemetry layer attaches an entered span's context to the thread,
/// so the current context is the event's span's; without that layer it is
/// empty.
fn current_trace_id() -> Option<String> {
    opentelemetry::Context::map_current(|cx| {
        let span = cx.span();
        let context = span.span_context();
        context.is_valid().then(|| context.trace_id().to_string())
    })
}
