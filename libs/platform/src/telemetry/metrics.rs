//! Prometheus metrics: one registry per service, read by `GET /metrics` on
//! the service's own port. The gateway routes only `/orders/`, `/stock/`
//! and `/payment/`, so `/metrics` is never public.
use prometheus::core::Collector;
use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    Opts, Registry, TextEncoder,
};
use sqlx::PgPool;
use warp::http::header::CONTENT_TYPE;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// Seconds, from a fast database step (1 ms) to the longest checkout wait
/// (60 s), roughly ×2.5 apart.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// What a service's components report into: its name, which their spans
/// carry as `service` (one trace crosses three services), and its metrics.
/// Each `Application` makes its own, so services that share a process (as
/// in tests) keep their metrics apart.
#[derive(Debug, Clone)]
pub struct Telemetry {
    pub service: &'static str,
    pub registry: Registry,
}

impl Telemetry {
    pub fn new(service: &'static str) -> Self {
        Telemetry {
            service,
            registry: Registry::new(),
        }
    }

    /// Adds `collector` to the registry. A name registered twice is a bug
    /// worth a warning, not worth stopping a service for.
    pub fn register(&self, collector: impl Collector + 'static) {
        if let Err(error) = self.registry.register(Box::new(collector)) {
            tracing::warn!(%error, service = self.service, "metric not registered");
        }
    }

    /// `db_pool_connections{state="idle"|"in_use"}` and
    /// `db_pool_max_connections`, read from the pool at each scrape.
    pub fn observe_pool(&self, pool: &PgPool) {
        let connections = GaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database connections of the pool, by state",
            ),
            &["state"],
        )
        .expect("a valid metric name");
        let max = int_gauge("db_pool_max_connections", "Connections the pool may open");
        max.set(i64::from(pool.options().get_max_connections()));
        self.register(PoolCollector {
            pool: pool.clone(),
            connections,
            max,
        });
    }

    /// Every registered metric in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::warn!(%error, "metrics not encoded");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

/// `GET /metrics`: untraced and unlogged, as scrapes come every few seconds.
pub fn route(telemetry: Telemetry) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path("metrics")
        .and(warp::path::end())
        .and(warp::get())
        .map(move || {
            let body = telemetry.render();
            warp::reply::with_header(body, CONTENT_TYPE, prometheus::TEXT_FORMAT).into_response()
        })
}

/// Reads the pool's counts when scraped, so they cost nothing in between.
struct PoolCollector {
    pool: PgPool,
    connections: GaugeVec,
    max: IntGauge,
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&prometheus::core::Desc> {
        let mut descs = self.connections.desc();
        descs.extend(self.max.desc());
        descs
    }

    fn collect(&self) -> Vec<prometheus::proto::MetricFamily> {
        let idle = self.pool.num_idle() as u32;
        let in_use = self.pool.size().saturating_sub(idle);
        self.connections.with_label_values(&["idle"]).set(f64::from(idle));
        self.connections
            .with_label_values(&["in_use"])
            .set(f64::from(in_use));
        let mut families = self.connections.collect();
        families.extend(self.max.collect());
        families
    }
}

// Constructors for metrics whose names and labels are constants of this
// workspace: an invalid one is a bug that the first test run shows.

pub fn counter(name: &str, help: &str) -> IntCounter {
    IntCounter::new(name, help).expect("a valid metric name")
}

pub fn counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("a valid metric name")
}

pub fn int_gauge(name: &str, help: &str) -> IntGauge {
    IntGauge::new(name, help).expect("a valid metric name")
}

pub fn gauge(name: &str, help: &str) -> Gauge {
    Gauge::new(name, help).expect("a valid metric name")
}

pub fn histogram(name: &str, help: &str) -> Histogram {
    Histogram::with_opts(HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()))
        .expect("a valid metric name")
}

pub fn histogram_vec(name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    HistogramVec::new(
        HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()),
        labels,
    )
    .expect("a valid metric name")
}
