//! RabbitMQ restarted while events flow. It stops the broker for every test
//! running at the same time, so `make test` runs this binary on its own,
//! after the others.
mod common;

use common::{event, test_bed, wait_until};

#[tokio::test]
async fn a_broker_restart_while_a_thousand_events_flow_loses_and_repeats_nothing() {
    let bed = test_bed().await;
    let (_relay, _consumer) = (bed.run_relay(), bed.run_consumer());
    let pool = bed.pool.clone();
    let producer = tokio::spawn(async move {
        for batch in 0..100 {
            let mut tx = pool.begin().await.expect("tx");
            for i in 0..10 {
                let sequence = batch * 10 + i;
                outbox::enqueue(&mut tx, &event(&format!("agg-{}", sequence % 10), sequence))
                    .await
                    .expect("enqueued");
            }
            tx.commit().await.expect("committed");
            // Spread the load so the restart lands in the middle of it.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    });
    wait_until(30, || async { bed.effects().await >= 100 }).await;

    restart_rabbitmq().await;

    producer.await.expect("all events enqueued");
    wait_until(120, || async { bed.effects().await >= 1000 }).await;
    assert_eq!(
        bed.scalar("SELECT count(DISTINCT message_id) FROM effects").await,
        1000
    );
    assert_eq!(bed.effects().await, 1000, "an event was applied twice");
    assert_eq!(outbox::pending_count(&bed.pool).await.expect("count"), 0);
}

async fn restart_rabbitmq() {
    for arguments in [&["stop_app"][..], &["start_app"], &["await_startup"]] {
        let status = tokio::process::Command::new("rabbitmqctl")
            .args(arguments)
            .stdout(std::process::Stdio::null())
            .status()
            .await
            .expect("rabbitmqctl runs (as root)");
        assert!(status.success(), "rabbitmqctl {arguments:?} failed");
    }
}
