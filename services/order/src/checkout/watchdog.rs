//! Sagas heal themselves. A saga still running long after it was last
//! driven lost an event on its way: dropped with a broker node, parked,
//! never published by a process that died. The watchdog drives it again
//! from its start; stock and payment answer a saga they have seen with the
//! answer they gave, so it resumes wherever it stopped and nothing is taken
//! twice.
use std::sync::Arc;
use std::time::Duration;

use crate::storage::{OrderStore, Shutdown};

/// Sagas driven again per look, the longest stalled first; the rest wait
/// for the next look.
const BATCH: i64 = 500;

/// Looks for sagas with no progress for `after` four times per `after`
/// (at most every 5 s), and drives them again, until `shutdown`.
pub async fn run(store: Arc<dyn OrderStore>, after: Duration, shutdown: Shutdown) {
    let interval = (after / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
    platform::periodic::every(interval, shutdown, || async {
        match store.redrive_stalled(after, BATCH).await {
            Ok(sagas) if sagas.is_empty() => {}
            Ok(sagas) => tracing::warn!(
                count = sagas.len(),
                ?sagas,
                after_ms = after.as_millis() as u64,
                "sagas without progress driven again"
            ),
            Err(error) => tracing::warn!(%error, "looking for stalled sagas failed; looking again later"),
        }
    })
    .await;
}
