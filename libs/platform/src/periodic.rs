//! Background chores that run on a timer until the process stops.
use std::future::Future;
use std::time::Duration;

/// Runs `chore` at once and then every `interval`, until `shutdown`
/// completes. A chore in progress finishes before shutdown is noticed; each
/// chore handles its own failures (they are retried at the next tick).
pub async fn every<F, Fut>(interval: Duration, shutdown: impl Future<Output = ()>, mut chore: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticks = tokio::time::interval(interval);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = &mut shutdown => return,
        }
        chore().await;
    }
}
