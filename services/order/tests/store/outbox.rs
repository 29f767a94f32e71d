//! The outbox, observed where it ends: on the broker.
use std::time::Duration;

use futures::FutureExt;
use idempotency::messaging::MessagingSettings;
use lapin::options::{BasicGetOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use order::domain::OrderId;
use order::storage::{Opened, Shutdown};
use outbox::BrokerSettings;
use test_support::broker_channel;

use crate::checkout::ready;

/// A queue of its own bound to the order exchange, in a fresh namespace.
async fn probe(broker: &BrokerSettings) -> (lapin::Connection, lapin::Channel, String) {
    let (connection, channel) = broker_channel(broker, "order store test probe").await;
    events::topology()
        .declare(&connection, broker)
        .await
        .expect("topology declared");
    let queue = broker.name("probe");
    let options = QueueDeclareOptions {
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(queue.as_str().into(), options, FieldTable::default())
        .await
        .expect("probe queue");
    let exchange = broker.name("order");
    channel
        .queue_bind(
            queue.as_str().into(),
            exchange.into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("probe bound");
    (connection, channel, queue)
}

/// A checkout that starts a saga, one that joins it and one of an unknown
/// order put exactly one `CheckoutRequested` on the broker. The relay
/// deletes a row only once the broker confirmed it, and a confirmed message
/// is in the probe queue: once the outbox is empty, every copy the relay
/// will ever publish is there to count.
pub async fn a_started_saga_publishes_its_request_exactly_once(Opened { store, chores, .. }: Opened) {
    let mut settings = MessagingSettings::from_env().expect("messaging settings");
    settings.broker = settings.broker.isolated();
    let (_connection, channel, queue) = probe(&settings.broker).await;
    let id = ready(&store, "o-1").await;
    store.start_or_join(&id).await.expect("started");
    store.start_or_join(&id).await.expect("joined");
    store
        .start_or_join(&OrderId::from_trusted("ghost".into()))
        .await
        .expect_err("unknown");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown: Shutdown = stopped.map(drop).boxed().shared();

    let telemetry = platform::telemetry::Telemetry::new("order");
    let relay = chores.run_relay(
        &settings,
        events::topology(),
        "order store test relay",
        &telemetry,
        shutdown,
    );
    let observe = async {
        let drained = test_support::eventually(Duration::from_secs(10), || async {
            store.pending_events().await.expect("outbox readable") == 0
        })
        .await;
        let published = published_now(&channel, &queue).await;
        let _ = stop.send(());
        (drained, published)
    };
    let ((drained, published), ()) = tokio::join!(observe, relay);

    assert!(
        drained,
        "the relay published the checkout request and deleted its row"
    );
    assert_eq!(published, ["CheckoutRequested"]);
}

/// The message types waiting in the probe queue, taken off it.
async fn published_now(channel: &lapin::Channel, queue: &str) -> Vec<String> {
    let mut found = Vec::new();
    while let Some(message) = channel
        .basic_get(queue.into(), BasicGetOptions { no_ack: true })
        .await
        .expect("basic.get")
    {
        let kind = message.delivery.properties.kind().as_ref().map(|k| k.to_string());
        found.push(kind.unwrap_or_default());
    }
    found
}
