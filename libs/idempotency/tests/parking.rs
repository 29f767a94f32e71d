//! Parked messages listed and replayed, against the real broker.
mod common;

use common::{QUEUE, poison, test_bed, wait_until};
use idempotency::parking;

#[tokio::test]
async fn a_parked_message_is_listed_then_replayed_and_applied_once_cured() {
    let bed = test_bed().await;
    let message = poison("p");
    bed.enqueue(&message).await;
    let (_relay, _consumer) = (bed.run_relay(), bed.run_consumer());
    let mut parked = Vec::new();
    for _ in 0..500 {
        parked = parking::list(&bed.broker, QUEUE).await.expect("listed");
        if !parked.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(parked.len(), 1, "parked within ten seconds");
    assert_eq!(parked[0].message_id, message.message_id.to_string());
    assert_eq!(parked[0].attempts, "3");
    assert!(parked[0].error.starts_with("poison"));
    assert_eq!(
        parking::list(&bed.broker, QUEUE).await.expect("listed").len(),
        1,
        "listing keeps them"
    );

    sqlx::query("INSERT INTO cures DEFAULT VALUES")
        .execute(&bed.pool)
        .await
        .expect("cured");
    assert_eq!(parking::replay(&bed.broker, QUEUE).await.expect("replayed"), 1);

    wait_until(10, || async { bed.effects().await == 1 }).await;
    assert!(
        parking::list(&bed.broker, QUEUE)
            .await
            .expect("listed")
            .is_empty()
    );
}
