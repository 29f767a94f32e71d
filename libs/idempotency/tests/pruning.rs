//! Dedup records expire, so the inbox and the key table stay bounded.
use std::time::Duration;

use idempotency::RetentionSettings;
use idempotency::pruner::prune_once;

#[tokio::test]
async fn records_past_their_retention_are_pruned_and_fresh_ones_kept() {
    let pool = platform::testing::fresh_pool("pruning", &[&idempotency::MIGRATOR]).await;
    sqlx::query(
        "INSERT INTO inbox (consumer, message_id, processed_at) VALUES \
         ('q', gen_random_uuid(), now() - interval '8 days'), ('q', gen_random_uuid(), now())",
    )
    .execute(&pool)
    .await
    .expect("inbox rows");
    sqlx::query(
        "INSERT INTO idempotency_keys (key, fingerprint, status, body, created_at) VALUES \
         ('old', 'POST /x', 200, 'null', now() - interval '2 days'), ('new', 'POST /x', 200, 'null', now())",
    )
    .execute(&pool)
    .await
    .expect("key rows");
    let retention = RetentionSettings {
        inbox: Duration::from_secs(7 * 24 * 3600),
        keys: Duration::from_secs(24 * 3600),
        prune_interval: Duration::from_secs(600),
    };

    let pruned = prune_once(&pool, &retention).await.expect("pruned");

    assert_eq!(pruned, 2);
    let left: (i64, String) =
        sqlx::query_as("SELECT (SELECT count(*) FROM inbox), (SELECT key FROM idempotency_keys)")
            .fetch_one(&pool)
            .await
            .expect("counts");
    assert_eq!(left, (1, "new".to_owned()));
}
