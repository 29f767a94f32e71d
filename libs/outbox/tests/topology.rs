//! The declared topology against the real RabbitMQ.
use std::time::Duration;

use futures::StreamExt;
use lapin::BasicProperties;
use lapin::options::{BasicConsumeOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions};
use lapin::types::FieldTable;
use outbox::BrokerSettings;
use outbox::topology::{QueueSpec, RETRY_EXCHANGE, Topology, parked_queue, partition_queue};

#[tokio::test]
async fn a_message_returned_past_the_delivery_limit_is_parked_not_dropped() {
    let mut broker = BrokerSettings::from_env().expect("broker settings").isolated();
    broker.delivery_limit = 2;
    broker.partitions = "2".parse().expect("two");
    let topology = Topology {
        exchanges: vec!["events".into()],
        queues: vec![QueueSpec {
            name: "worker".into(),
            bindings: vec![("events".into(), "#".into())],
        }],
    };
    let connection = outbox::broker::connect(&broker, "topology test")
        .await
        .expect("RabbitMQ is running");
    topology.declare(&connection, &broker).await.expect("declared");
    let channel = connection.create_channel().await.expect("a channel");
    let main = broker.name("worker");
    let partition = partition_queue(&main, 1);
    channel
        .basic_publish(
            "".into(),
            partition.as_str().into(),
            BasicPublishOptions::default(),
            b"{}",
            BasicProperties::default().with_message_id("m-1".into()),
        )
        .await
        .expect("published");

    // A consumer that never gets to ack: each delivery goes back.
    let mut deliveries = channel
        .basic_consume(
            partition.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consuming");
    let mut handed_out = 0;
    while let Ok(Some(delivery)) = tokio::time::timeout(Duration::from_secs(2), deliveries.next()).await {
        handed_out += 1;
        let requeue = BasicNackOptions {
            requeue: true,
            ..BasicNackOptions::default()
        };
        delivery
            .expect("a delivery")
            .acker
            .nack(requeue)
            .await
            .expect("nacked");
        assert!(handed_out <= 10, "the broker keeps handing the message out");
    }

    let parked = channel
        .basic_get(
            parked_queue(&main).as_str().into(),
            BasicGetOptions { no_ack: true },
        )
        .await
        .expect("basic.get")
        .expect("the message is in the parking lot");
    assert_eq!(
        parked
            .delivery
            .properties
            .message_id()
            .as_ref()
            .map(|id| id.as_str()),
        Some("m-1")
    );
    assert_eq!(handed_out, 3, "handed out up to the limit, then parked");
}

fn stream() -> Topology {
    Topology {
        exchanges: vec!["events".into()],
        queues: vec![QueueSpec {
            name: "worker".into(),
            bindings: vec![("events".into(), "thing.done".into())],
        }],
    }
}

async fn publish(channel: &lapin::Channel, exchange: &str, key: &str, id: &str) {
    channel
        .basic_publish(
            exchange.into(),
            key.into(),
            BasicPublishOptions::default(),
            b"{}",
            BasicProperties::default().with_message_id(id.into()),
        )
        .await
        .expect("published");
}

/// How many messages `queue` holds, from a passive declaration: quorum
/// queues with a single active consumer refuse `basic.get`.
async fn count(channel: &lapin::Channel, queue: &str) -> u32 {
    let options = lapin::options::QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    channel
        .queue_declare(queue.into(), options, FieldTable::default())
        .await
        .expect("the queue exists")
        .message_count()
}

#[tokio::test]
async fn a_routing_key_with_a_partition_reaches_that_partitions_queue_only() {
    let mut broker = BrokerSettings::from_env().expect("broker settings").isolated();
    broker.partitions = "3".parse().expect("three");
    let connection = outbox::broker::connect(&broker, "topology test")
        .await
        .expect("RabbitMQ is running");
    stream().declare(&connection, &broker).await.expect("declared");
    let channel = connection.create_channel().await.expect("a channel");
    channel
        .confirm_select(Default::default())
        .await
        .expect("confirms");
    let main = broker.name("worker");

    publish(&channel, &broker.name("events"), "thing.done.2", "m-2").await;
    channel.wait_for_confirms().await.expect("confirmed");

    let counts = [
        count(&channel, &partition_queue(&main, 0)).await,
        count(&channel, &partition_queue(&main, 1)).await,
        count(&channel, &partition_queue(&main, 2)).await,
    ];
    assert_eq!(counts, [0, 0, 1]);
}

#[tokio::test]
async fn a_retried_message_returns_to_its_own_partition_after_the_delay() {
    let mut broker = BrokerSettings::from_env().expect("broker settings").isolated();
    broker.partitions = "3".parse().expect("three");
    broker.retry_delay = Duration::from_millis(200);
    let connection = outbox::broker::connect(&broker, "topology test")
        .await
        .expect("RabbitMQ is running");
    stream().declare(&connection, &broker).await.expect("declared");
    let channel = connection.create_channel().await.expect("a channel");
    let main = broker.name("worker");
    let back_to = partition_queue(&main, 1);

    publish(&channel, &broker.name(RETRY_EXCHANGE), &back_to, "m-r").await;

    let mut deliveries = channel
        .basic_consume(
            back_to.as_str().into(),
            "".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("consuming");
    let returned = tokio::time::timeout(Duration::from_secs(10), deliveries.next())
        .await
        .expect("back within the delay")
        .expect("a delivery")
        .expect("not an error");
    assert_eq!(
        returned.properties.message_id().as_ref().map(|id| id.as_str()),
        Some("m-r")
    );
    assert_eq!(count(&channel, &partition_queue(&main, 0)).await, 0);
}

/// What the consumers rely on to hand a partition over in order: a channel
/// closed while holding unacknowledged deliveries of a single-active-consumer
/// queue gives them back ahead of everything else, to the consumer that
/// waited behind it. (A `basic.cancel` first would not: RabbitMQ 3.10 then
/// activates the next consumer at once, which gets newer messages before
/// the returned ones.)
#[tokio::test]
async fn a_closed_channels_unacked_deliveries_go_first_to_the_next_consumer() {
    let mut broker = BrokerSettings::from_env().expect("broker settings").isolated();
    broker.partitions = "1".parse().expect("one");
    let connection = outbox::broker::connect(&broker, "topology test")
        .await
        .expect("RabbitMQ is running");
    stream().declare(&connection, &broker).await.expect("declared");
    let queue = partition_queue(&broker.name("worker"), 0);
    let publisher = connection.create_channel().await.expect("a channel");
    publisher
        .confirm_select(Default::default())
        .await
        .expect("confirms");
    for i in 0..50u32 {
        publish(&publisher, "", &queue, &i.to_string()).await;
    }
    publisher.wait_for_confirms().await.expect("confirmed");
    let first = connection.create_channel().await.expect("a channel");
    first.basic_qos(10, Default::default()).await.expect("prefetch");
    let mut held = consume(&first, &queue, false).await;
    let mut received = Vec::new();
    for _ in 0..10 {
        received.push(next_id(&mut held).await);
    }
    let acked = received.iter().take(3);
    for delivery in acked {
        delivery.acker.ack(Default::default()).await.expect("acked");
    }
    let second = connection.create_channel().await.expect("a channel");
    let mut waiting = consume(&second, &queue, true).await;

    first
        .close(200, "partition released".into())
        .await
        .expect("closed");

    let mut order = Vec::new();
    for _ in 3..50 {
        let delivery = next_id(&mut waiting).await;
        order.push(message_number(&delivery));
    }
    assert_eq!(order, (3..50).collect::<Vec<u32>>());
    drop(held);
}

async fn consume(channel: &lapin::Channel, queue: &str, no_ack: bool) -> lapin::Consumer {
    channel
        .basic_consume(
            queue.into(),
            "".into(),
            BasicConsumeOptions {
                no_ack,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("consuming")
}

async fn next_id(deliveries: &mut lapin::Consumer) -> lapin::message::Delivery {
    tokio::time::timeout(Duration::from_secs(10), deliveries.next())
        .await
        .expect("a delivery in time")
        .expect("the stream goes on")
        .expect("not an error")
}

fn message_number(delivery: &lapin::message::Delivery) -> u32 {
    let id = delivery.properties.message_id().as_ref().expect("an id");
    id.as_str().parse().expect("a number")
}
