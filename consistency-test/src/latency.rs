//! Latency percentiles of a set of answers.
use std::time::Duration;

use serde::Serialize;

/// Percentiles in milliseconds; all zero when there were no answers.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    pub fn of(mut latencies: Vec<Duration>) -> Percentiles {
        if latencies.is_empty() {
            return Percentiles::default();
        }
        latencies.sort_unstable();
        let at = |p: f64| {
            let rank = ((latencies.len() - 1) as f64 * p).round() as usize;
            latencies[rank].as_secs_f64() * 1000.0
        };
        Percentiles {
            p50_ms: at(0.50),
            p95_ms: at(0.95),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let latencies = (1..=100).map(Duration::from_millis).collect();
        let p = Percentiles::of(latencies);
        assert_eq!(
            (p.p50_ms, p.p95_ms, p.p99_ms, p.max_ms),
            (51.0, 95.0, 99.0, 100.0)
        );
    }

    #[test]
    fn no_answers_give_zeros() {
        assert_eq!(Percentiles::of(Vec::new()).max_ms, 0.0);
    }
}
