//! PostgreSQL stopped while messages wait in the broker, for far longer than
//! the consumer's retries would last. It stops the database for every test
//! running at the same time, so `make test` runs this binary on its own,
//! after the others.
mod common;

use common::{QUEUE, event, test_bed, wait_until};
use idempotency::parking;

#[tokio::test]
async fn an_outage_of_the_database_longer_than_every_retry_parks_nothing() {
    let bed = test_bed().await;
    // Three deliveries 100 ms apart would park a message that counted them.
    let budget = bed.broker.retry_delay * bed.broker.max_deliveries;
    for sequence in 0..300 {
        bed.enqueue(&event(&format!("agg-{}", sequence % 10), sequence))
            .await;
    }
    let mut relay = bed.relay();
    while relay.relay_once().await.expect("relayed") > 0 {}
    let consumer = bed.run_consumer();
    wait_until(30, || async { bed.effects().await >= 10 }).await;

    let outage = Outage::begin();
    // Long past the retry budget, with messages still in the broker.
    tokio::time::sleep(budget * 20).await;
    drop(outage);

    wait_until(60, || async { bed.effects().await >= 300 }).await;
    drop(consumer);
    assert_eq!(bed.applied_twice().await, 0);
    assert_eq!(
        bed.scalar("SELECT count(DISTINCT message_id) FROM effects").await,
        300
    );
    assert!(
        parking::list(&bed.broker, QUEUE)
            .await
            .expect("listed")
            .is_empty(),
        "an outage parks nothing"
    );
}

/// PostgreSQL stopped in immediate mode, as a crash, until dropped: a test
/// that fails meanwhile still leaves the server running for what follows.
struct Outage;

impl Outage {
    fn begin() -> Outage {
        pg_ctlcluster(&["stop", "-m", "immediate"]);
        Outage
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        pg_ctlcluster(&["start"]);
    }
}

fn pg_ctlcluster(action: &[&str]) {
    let version = std::fs::read_dir("/etc/postgresql")
        .expect("a Debian PostgreSQL installation")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .max_by_key(|version| version.parse::<u32>().unwrap_or(0))
        .expect("a cluster version");
    let status = std::process::Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main"])
        .args(action)
        .status()
        .expect("pg_ctlcluster runs (as root)");
    assert!(status.success(), "pg_ctlcluster {action:?} failed");
}
