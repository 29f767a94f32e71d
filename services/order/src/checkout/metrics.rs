//! How checkouts end and how long their clients wait: the order service's
//! view of the saga, for `GET /metrics`.
use std::time::Duration;

use platform::telemetry::Telemetry;
use platform::telemetry::metrics::{counter_vec, histogram_vec};
use prometheus::{HistogramVec, IntCounterVec};

use crate::error::OrderError;

/// `checkout_requests_total{outcome}` and
/// `checkout_duration_seconds{outcome}`, the outcome being `paid`, `failed`
/// (the saga refused: stock or credit), `timeout` (still running after the
/// checkout timeout), `rejected` (any other 4xx) or `error` (5xx).
#[derive(Debug, Clone)]
pub struct CheckoutMetrics {
    requests: IntCounterVec,
    seconds: HistogramVec,
}

impl CheckoutMetrics {
    pub fn registered(telemetry: &Telemetry) -> Self {
        let metrics = CheckoutMetrics {
            requests: counter_vec(
                "checkout_requests_total",
                "Checkout answers, by outcome",
                &["outcome"],
            ),
            seconds: histogram_vec(
                "checkout_duration_seconds",
                "From a checkout request to its answer, by outcome",
                &["outcome"],
            ),
        };
        telemetry.register(metrics.requests.clone());
        telemetry.register(metrics.seconds.clone());
        metrics
    }

    pub fn observe<T>(&self, result: &Result<T, OrderError>, took: Duration) {
        let outcome = match result {
            Ok(_) => "paid",
            Err(OrderError::CheckoutFailed { .. }) => "failed",
            Err(OrderError::CheckoutPending(_)) => "timeout",
            Err(OrderError::Peer(_) | OrderError::Database(_)) => "error",
            Err(_) => "rejected",
        };
        self.requests.with_label_values(&[outcome]).inc();
        self.seconds
            .with_label_values(&[outcome])
            .observe(took.as_secs_f64());
    }
}
