//! Logging setup shared by every service binary and test suite.
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs a JSON-lines subscriber on stdout, filtered by `RUST_LOG`
/// (default `info`). Every line carries the service name so that the logs of
/// several processes can be merged and still be told apart.
pub fn init(service: &'static str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let layer = fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_target(false);
    // `try_init` fails only when a subscriber is already installed, which is
    // what happens when several tests of one binary each ask for one.
    let _ = tracing_subscriber::registry().with(filter).with(layer).try_init();
    tracing::info!(service, "telemetry initialised");
}

/// Test suites call this once per test: logs stay quiet unless `TEST_LOG` is
/// set, so a failing test's output is not buried under every request line.
pub fn init_for_tests(service: &'static str) {
    if std::env::var_os("TEST_LOG").is_some() {
        init(service);
    }
}
