use std::time::Duration;

/// Bounded exponential backoff with jitter: the pause doubles with each
/// failure up to `max`, and each pause is drawn from its upper half so that
/// replicas that failed together do not retry in lockstep.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            failures: 0,
        }
    }

    /// The pause before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let exponent = self.failures.min(20);
        self.failures = self.failures.saturating_add(1);
        let ceiling = self.base.saturating_mul(1 << exponent).min(self.max);
        ceiling.mul_f64(0.5 + fastrand::f64() / 2.0)
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_and_stay_bounded() {
        let mut backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(100));
        let pauses: Vec<Duration> = (0..10).map(|_| backoff.next_delay()).collect();

        assert!(pauses[0] <= Duration::from_millis(10));
        assert!(pauses[0] >= Duration::from_millis(5));
        assert!(pauses.iter().all(|p| *p <= Duration::from_millis(100)));
        assert!(pauses[9] >= Duration::from_millis(50));
    }

    #[test]
    fn reset_starts_over() {
        let mut backoff = Backoff::new(Duration::from_millis(10), Duration::from_secs(1));
        (0..5).for_each(|_| {
            backoff.next_delay();
        });

        backoff.reset();

        assert!(backoff.next_delay() <= Duration::from_millis(10));
    }
}
