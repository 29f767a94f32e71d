//! Every replica consumes: a stream's partitions spread over the live
//! consumers, move to the survivors when one is killed and back when it
//! returns, with each effect applied once and each aggregate's events in
//! order. Against the real PostgreSQL and RabbitMQ; a killed replica is a
//! consumer task aborted, which drops its broker connection and its
//! database transaction as a killed process does, and leaves its member row
//! behind (nothing of its shutdown runs).
mod common;

use std::collections::BTreeSet;

use common::{TestBed, event, test_bed, wait_until};
use outbox::Partition;
use tokio::task::JoinHandle;

/// One replica's consumer, running until killed.
struct Replica(JoinHandle<()>);

impl Replica {
    fn start(bed: &TestBed, name: &str) -> Replica {
        let consumer = bed.replica(name);
        Replica(tokio::spawn(consumer.run(std::future::pending())))
    }

    fn kill(self) {
        self.0.abort();
    }
}

async fn partitioned_bed() -> TestBed {
    let mut bed = test_bed().await;
    bed.broker.partitions = "8".parse().expect("eight");
    bed
}

/// The partitions each live member says it holds, by member name prefix.
async fn held_by(bed: &TestBed, replica: &str) -> BTreeSet<Partition> {
    let rows: Vec<Vec<i16>> = sqlx::query_scalar(
        "SELECT held FROM consumer_members \
         WHERE member LIKE $1 || ' %' AND seen_at > now() - interval '3 seconds'",
    )
    .bind(replica)
    .fetch_all(&bed.pool)
    .await
    .expect("members");
    rows.into_iter().flatten().map(|p| p as Partition).collect()
}

async fn spread_is(bed: &TestBed, expected: &[(&str, usize)]) -> bool {
    let mut all = BTreeSet::new();
    for (replica, count) in expected {
        let held = held_by(bed, replica).await;
        if held.len() != *count {
            return false;
        }
        all.extend(held);
    }
    all.len() == 8
}

async fn effects_by(bed: &TestBed, replica: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM effects WHERE replica = $1")
        .bind(replica)
        .fetch_one(&bed.pool)
        .await
        .expect("a count")
}

async fn publish_round(bed: &TestBed, round: i64, aggregates: usize) {
    for a in 0..aggregates {
        bed.enqueue(&event(&format!("order-{a}"), round)).await;
    }
}

#[tokio::test]
async fn two_replicas_share_eight_partitions_and_the_survivor_of_a_kill_takes_all() {
    let bed = partitioned_bed().await;
    let _relay = bed.run_relay();

    let a = Replica::start(&bed, "a");
    let b = Replica::start(&bed, "b");
    wait_until(5, || spread_is(&bed, &[("a", 4), ("b", 4)])).await;

    publish_round(&bed, 0, 100).await;
    wait_until(20, || async { bed.effects().await == 100 }).await;
    assert!(effects_by(&bed, "a").await > 0, "a applied messages");
    assert!(effects_by(&bed, "b").await > 0, "b applied messages");

    b.kill();
    wait_until(5, || spread_is(&bed, &[("a", 8)])).await;
    publish_round(&bed, 1, 100).await;
    wait_until(20, || async { bed.effects().await == 200 }).await;

    let b = Replica::start(&bed, "b");
    wait_until(5, || spread_is(&bed, &[("a", 4), ("b", 4)])).await;
    publish_round(&bed, 2, 100).await;
    wait_until(20, || async { bed.effects().await == 300 }).await;

    assert_eq!(bed.applied_twice().await, 0);
    assert_eq!(parked(&bed).await, 0);
    a.kill();
    b.kill();
}

#[tokio::test]
async fn each_orders_events_stay_in_order_while_a_replica_is_killed_and_restarted_every_two_seconds() {
    let bed = partitioned_bed().await;
    let _relay = bed.run_relay();
    let _a = Replica::start(&bed, "a");
    let mut b = Replica::start(&bed, "b");
    let aggregates = 20;

    let started = tokio::time::Instant::now();
    let mut round = 0;
    let mut restarted_at = started;
    // A round of events every 100 ms: a steady load, not a race to enqueue.
    let mut pace = tokio::time::interval(std::time::Duration::from_millis(100));
    while started.elapsed() < std::time::Duration::from_secs(30) {
        pace.tick().await;
        publish_round(&bed, round, aggregates).await;
        round += 1;
        if restarted_at.elapsed() >= std::time::Duration::from_secs(2) {
            b.kill();
            b = Replica::start(&bed, "b");
            restarted_at = tokio::time::Instant::now();
        }
    }
    let published = round * aggregates as i64;
    wait_until(60, || async { bed.effects().await == published }).await;

    // Each order's sequence, in the order applied, must be 0, 1, 2, ...:
    // any gap, repeat or reorder shows as a row out of place.
    let out_of_place = bed
        .scalar(
            "SELECT count(*) FROM (SELECT sequence, \
                 row_number() OVER (PARTITION BY aggregate ORDER BY serial) - 1 AS place \
             FROM effects) applied WHERE sequence <> place",
        )
        .await;
    assert_eq!(out_of_place, 0, "{round} rounds of {aggregates} orders");
    assert!(
        effects_by(&bed, "b").await > 0,
        "the restarted replica consumed too"
    );
    assert_eq!(parked(&bed).await, 0);
    b.kill();
}

/// Messages in the stream's parking lot.
async fn parked(bed: &TestBed) -> usize {
    idempotency::parking::list(&bed.broker, common::QUEUE)
        .await
        .expect("the parking lot")
        .len()
}
