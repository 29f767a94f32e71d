//! Keeps the inbox and the idempotency keys bounded.
use std::future::Future;

use platform::database::DbError;
use sqlx::PgPool;

use crate::settings::RetentionSettings;

/// Deletes expired inbox rows and idempotency keys once; returns how many.
pub async fn prune_once(pool: &PgPool, retention: &RetentionSettings) -> Result<u64, DbError> {
    let inbox = crate::inbox::prune(pool, retention.inbox.as_secs_f64()).await?;
    let keys = crate::http::prune(pool, retention.keys.as_secs_f64()).await?;
    Ok(inbox + keys)
}

/// Prunes every `prune_interval` until `shutdown` completes. A failure is
/// logged and retried at the next tick: expired rows are harmless meanwhile.
pub async fn run(pool: PgPool, retention: RetentionSettings, shutdown: impl Future<Output = ()>) {
    let (pool, retention) = (&pool, &retention);
    platform::periodic::every(retention.prune_interval, shutdown, move || async move {
        match prune_once(pool, retention).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "pruned expired dedup records"),
            Err(error) => tracing::warn!(%error, "pruning dedup records failed"),
        }
    })
    .await;
}
