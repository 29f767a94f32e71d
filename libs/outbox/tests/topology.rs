//! The declared topology against the real RabbitMQ.
use std::time::Duration;

use futures::StreamExt;
use lapin::BasicProperties;
use lapin::options::{BasicConsumeOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions};
use lapin::types::FieldTable;
use outbox::BrokerSettings;
use outbox::topology::{QueueSpec, Topology, parked_queue};

#[tokio::test]
async fn a_message_returned_past_the_delivery_limit_is_parked_not_dropped() {
    let mut broker = BrokerSettings::from_env().expect("broker settings").isolated();
    broker.delivery_limit = 2;
    let topology = Topology {
        exchanges: vec!["events".into()],
        queues: vec![QueueSpec {
            name: "worker".into(),
            bindings: vec![("events".into(), "#".into())],
            retired_bindings: Vec::new(),
        }],
    };
    let connection = outbox::broker::connect(&broker, "topology test")
        .await
        .expect("RabbitMQ is running");
    topology.declare(&connection, &broker).await.expect("declared");
    let channel = connection.create_channel().await.expect("a channel");
    let main = broker.name("worker");
    channel
        .basic_publish(
            "".into(),
            main.as_str().into(),
            BasicPublishOptions::default(),
            b"{}",
            BasicProperties::default().with_message_id("m-1".into()),
        )
        .await
        .expect("published");

    // A consumer that never gets to ack: each delivery goes back.
    let mut deliveries = channel
        .basic_consume(
            main.as_str().into(),
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
