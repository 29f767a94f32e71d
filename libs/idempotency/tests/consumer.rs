//! The idempotent consumer against the real PostgreSQL and RabbitMQ.
mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::{QUEUE, event, poison, test_bed, wait_until};
use futures::future::join_all;
use idempotency::{IncomingMessage, Outcome, parking};
use lapin::options::BasicGetOptions;
use lapin::types::AMQPValue;

#[tokio::test]
async fn the_same_message_delivered_a_hundred_times_at_once_has_one_effect() {
    let bed = test_bed().await;
    let consumer = Arc::new(bed.consumer());
    let message = IncomingMessage {
        message_id: uuid::Uuid::new_v4(),
        event_type: "TestHappened".into(),
        schema_version: 1,
        aggregate_id: "a".into(),
        traceparent: None,
        attempt: 1,
        body: br#"{"sequence": 1}"#.to_vec(),
    };

    let outcomes = join_all((0..100).map(|_| {
        let (consumer, message) = (consumer.clone(), message.clone());
        tokio::spawn(async move { consumer.process(&message).await.expect("processed") })
    }))
    .await;

    let applied = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Outcome::Applied)))
        .count();
    let duplicates = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Outcome::Duplicate)))
        .count();
    assert_eq!((applied, duplicates), (1, 99));
    assert_eq!(bed.effects().await, 1);
}

#[tokio::test]
async fn a_message_that_arrives_alone_is_applied_by_one_statement_and_a_copy_is_skipped() {
    let bed = test_bed().await;
    let consumer = bed.consumer();
    let message = IncomingMessage::first_delivery_of(&event("a", 1));

    let first = consumer.process(&message).await.expect("processed");
    let copy = consumer.process(&message).await.expect("processed");

    assert_eq!((first, copy), (Outcome::Applied, Outcome::Duplicate));
    assert_eq!(bed.applied_alone.load(Ordering::SeqCst), 1);
    assert_eq!(bed.effects().await, 1);
    assert_eq!(bed.scalar("SELECT count(*) FROM inbox").await, 1);
}

#[tokio::test]
async fn a_message_republished_by_a_relay_that_died_is_applied_once() {
    let bed = test_bed().await;
    let message = event("a", 1);
    bed.enqueue(&message).await;
    let mut relay = bed.relay();
    let claimed = relay.claim_and_publish().await.expect("published");
    claimed.abandon().await.expect("rolled back");
    assert_eq!(relay.relay_once().await.expect("published again"), 1);
    // Behind both copies, in the same aggregate, so it is handled after them.
    bed.enqueue(&event("a", 2)).await;
    relay.relay_once().await.expect("published");

    let _consumer = bed.run_consumer();

    wait_until(10, || async { bed.effects().await == 2 }).await;
    let copies_applied = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM effects WHERE message_id = $1")
        .bind(message.message_id)
        .fetch_one(&bed.pool)
        .await
        .expect("count");
    assert_eq!(copies_applied, 1);
}

#[tokio::test]
async fn each_aggregates_events_are_consumed_in_commit_order() {
    let bed = test_bed().await;
    for sequence in 0..40 {
        for aggregate in ["a", "b", "c", "d", "e"] {
            bed.enqueue(&event(aggregate, sequence)).await;
        }
    }

    let (_relay, _consumer) = (bed.run_relay(), bed.run_consumer());

    wait_until(20, || async { bed.effects().await == 200 }).await;
    let out_of_order = bed
        .scalar(
            "SELECT count(*) FROM (SELECT sequence - lag(sequence) OVER (PARTITION BY aggregate ORDER BY serial) \
             AS step FROM effects) steps WHERE step <> 1",
        )
        .await;
    assert_eq!(out_of_order, 0);
}

#[tokio::test]
async fn a_poison_message_is_parked_after_its_retries_and_blocks_nothing() {
    let bed = test_bed().await;
    bed.enqueue(&poison("p")).await;
    for sequence in 0..10 {
        bed.enqueue(&event(&format!("good-{sequence}"), sequence)).await;
    }

    let (_relay, _consumer) = (bed.run_relay(), bed.run_consumer());

    wait_until(10, || async { bed.effects().await == 10 }).await;
    let connection = outbox::broker::connect(&bed.broker, "parking probe")
        .await
        .expect("broker");
    let channel = connection.create_channel().await.expect("channel");
    let parked = bed.broker.name(&outbox::topology::parked_queue(QUEUE));
    let mut message = None;
    for _ in 0..500 {
        let options = BasicGetOptions { no_ack: true };
        message = channel
            .basic_get(parked.as_str().into(), options)
            .await
            .expect("basic.get");
        if message.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let message = message.expect("the poison message is parked within ten seconds");
    let headers = message.delivery.properties.headers().clone().expect("headers");
    let attempt = headers
        .inner()
        .get(idempotency::consumer::headers::ATTEMPT)
        .cloned();
    assert_eq!(attempt, Some(AMQPValue::LongLongInt(3)));
    let Some(AMQPValue::LongString(error)) = headers.inner().get(idempotency::consumer::headers::ERROR)
    else {
        panic!("the parked message carries its error");
    };
    assert!(String::from_utf8_lossy(error.as_bytes()).starts_with("poison"));
    assert_eq!(bed.effects().await, 10);
    let inbox_rows = bed.scalar("SELECT count(*) FROM inbox").await;
    assert_eq!(inbox_rows, 10, "the poison message left no inbox record");
}

#[tokio::test]
async fn a_poison_message_in_a_batch_is_parked_alone_and_the_rest_is_applied_once() {
    let mut bed = test_bed().await;
    // Several batches, so that some hold no poison and are applied whole.
    bed.broker.consumer_batch = 16;
    let mut relay = bed.relay();
    for sequence in 0..60 {
        let aggregate = format!("good-{}", sequence % 7);
        bed.enqueue(&event(&aggregate, sequence)).await;
        if sequence == 30 {
            bed.enqueue(&poison("p")).await;
        }
    }
    // Everything is in the queue before the consumer starts, so it takes
    // batches of many messages, one of them with the poison in it.
    while relay.relay_once().await.expect("relayed") > 0 {}

    let _consumer = bed.run_consumer();

    wait_until(10, || async { bed.effects().await == 60 }).await;
    wait_until(10, || async {
        parking::list(&bed.broker, QUEUE).await.expect("listed").len() == 1
    })
    .await;
    assert_eq!(bed.applied_twice().await, 0);
    assert!(
        bed.shared_transactions().await > 0,
        "some messages were applied in one transaction"
    );
    let out_of_order = bed
        .scalar(
            "SELECT count(*) FROM (SELECT sequence - lag(sequence) OVER (PARTITION BY aggregate ORDER BY serial) \
             AS step FROM effects) steps WHERE step <> 7",
        )
        .await;
    assert_eq!(out_of_order, 0, "each aggregate's events applied in order");
    let parked = parking::list(&bed.broker, QUEUE).await.expect("listed");
    assert!(parked[0].error.starts_with("poison"), "{:?}", parked[0].error);
    assert_eq!(bed.scalar("SELECT count(*) FROM inbox").await, 60);
}

#[tokio::test]
async fn messages_applied_before_are_skipped_in_a_batch_and_the_rest_is_applied_once() {
    let mut bed = test_bed().await;
    bed.broker.consumer_batch = 16;
    let consumer = bed.consumer();
    let mut relay = bed.relay();
    for sequence in 0..40 {
        let message = event(&format!("a-{}", sequence % 5), sequence);
        bed.enqueue(&message).await;
        // Every eighth is applied before its delivery, as after a consumer
        // that died between its commit and its ack.
        if sequence % 8 == 0 {
            let incoming = IncomingMessage::first_delivery_of(&message);
            assert_eq!(
                consumer.process(&incoming).await.expect("applied"),
                Outcome::Applied
            );
        }
    }
    while relay.relay_once().await.expect("relayed") > 0 {}

    let _consumer = bed.run_consumer();

    wait_until(10, || async { bed.effects().await == 40 }).await;
    assert_eq!(bed.applied_twice().await, 0);
    assert!(
        bed.shared_transactions().await > 0,
        "batches were applied in one transaction each"
    );
}

#[tokio::test]
async fn an_outage_longer_than_every_retry_parks_nothing_and_each_message_is_applied_once() {
    let mut bed = test_bed().await;
    bed.broker.transient_retry_max = std::time::Duration::from_millis(100);
    sqlx::query("INSERT INTO outage DEFAULT VALUES")
        .execute(&bed.pool)
        .await
        .expect("outage begins");
    for sequence in 0..10 {
        bed.enqueue(&event(&format!("a-{}", sequence % 3), sequence))
            .await;
    }
    let (_relay, _consumer) = (bed.run_relay(), bed.run_consumer());

    // Three failed deliveries would park a message (`max_deliveries`); the
    // outage lasts for ten times as many tries.
    let tries = 10 * bed.broker.max_deliveries as usize;
    wait_until(20, || async {
        bed.outage_failures.load(std::sync::atomic::Ordering::SeqCst) >= tries
    })
    .await;
    assert_eq!(bed.effects().await, 0, "nothing applies during the outage");
    sqlx::query("DELETE FROM outage")
        .execute(&bed.pool)
        .await
        .expect("outage ends");

    wait_until(10, || async { bed.effects().await == 10 }).await;
    assert_eq!(bed.applied_twice().await, 0);
    assert!(
        parking::list(&bed.broker, QUEUE)
            .await
            .expect("listed")
            .is_empty()
    );
    let out_of_order = bed
        .scalar(
            "SELECT count(*) FROM (SELECT sequence - lag(sequence) OVER (PARTITION BY aggregate ORDER BY serial) \
             AS step FROM effects) steps WHERE step <> 3",
        )
        .await;
    assert_eq!(out_of_order, 0, "each aggregate's events applied in order");
}
