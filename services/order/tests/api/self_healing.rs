//! Sagas heal themselves: an event lost on its way is sent again by the
//! order service's watchdog, and the saga ends as if nothing had happened.
use std::future::pending;
use std::time::Duration;

use lapin::options::{QueueDeclareOptions, QueuePurgeOptions};
use lapin::types::FieldTable;
use outbox::BrokerSettings;
use outbox::topology::partition_queue;
use payment::configuration::Payment;
use platform::testing::fresh_database_name;
use reqwest::StatusCode;
use stock::configuration::Stock;
use test_support::{System, broker_channel, isolated_broker, spawn_order, spawn_participant};

use crate::helpers::{credit_of, stock_of};

/// Messages and consumers of `queue` (broker-side name), asked without
/// declaring it; `None` while no service has declared it yet (they do once
/// their broker connections are up, after their ports are bound).
async fn queue_state(broker: &BrokerSettings, queue: &str) -> Option<(u32, u32)> {
    let (_connection, channel) = broker_channel(broker, "test probe").await;
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    let queue = channel
        .queue_declare(queue.into(), passive, FieldTable::default())
        .await
        .ok()?;
    Some((queue.message_count(), queue.consumer_count()))
}

async fn wait_for(what: &str, probe: impl AsyncFn() -> bool) {
    let reached = test_support::eventually(Duration::from_secs(15), || probe()).await;
    assert!(reached, "{what}: not within 15 s");
}

#[tokio::test]
async fn a_saga_whose_event_was_deleted_from_the_broker_finishes_by_itself() {
    let broker = isolated_broker();
    let stock_db = fresh_database_name("stock");
    let (stop_stock, stock_stopped) = tokio::sync::oneshot::channel::<()>();
    let stock = spawn_participant::<Stock>(&stock_db, &broker, async {
        let _ = stock_stopped.await;
    })
    .await;
    let payment = spawn_participant::<Payment>(&fresh_database_name("payment"), &broker, pending()).await;
    let order = spawn_order(
        &fresh_database_name("order"),
        &broker,
        &stock.address,
        &payment.address,
        |settings| settings.saga_redrive_after = Duration::from_millis(500),
    )
    .await;
    let app = System {
        order_addresses: vec![order.address.clone()],
        order,
        stock,
        payment,
    };
    let item = app.item_with(2, 5).await;
    let user = app.user_with(10).await;
    let id = app.order_for(&user).await;
    app.post(&format!("/orders/addItem/{id}/{item}/1")).await;
    // The queue of the stock stream's partition the order's events go to.
    let stock_queue = partition_queue(&broker.name(events::STOCK_QUEUE), broker.partitions.of(&id));
    // No stock consumer: the saga's first event waits in the stock queue.
    wait_for("the stock consumer up", async || {
        queue_state(&broker, &stock_queue)
            .await
            .is_some_and(|(_, consumers)| consumers == 1)
    })
    .await;
    stop_stock.send(()).expect("the stock service runs");
    wait_for("the stock consumer gone", async || {
        queue_state(&broker, &stock_queue)
            .await
            .is_some_and(|(_, consumers)| consumers == 0)
    })
    .await;

    let checkout = tokio::spawn(
        app.order
            .client
            .post(format!("{}/orders/checkout/{id}", app.order.address))
            .send(),
    );
    wait_for("CheckoutRequested in the stock queue", async || {
        queue_state(&broker, &stock_queue)
            .await
            .is_some_and(|(messages, _)| messages == 1)
    })
    .await;
    let (_connection, channel) = broker_channel(&broker, "test purge").await;
    let purged = channel
        .queue_purge(stock_queue.as_str().into(), QueuePurgeOptions::default())
        .await
        .expect("purged");
    assert_eq!(purged, 1, "the saga's event was deleted");
    spawn_participant::<Stock>(&stock_db, &broker, pending()).await;

    let answer = checkout.await.expect("joined").expect("answered");
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(stock_of(&app, &item).await, 4, "taken once");
    assert_eq!(credit_of(&app, &user).await, 8, "charged once");
    let (_, status) = app.get(&format!("/orders/status/{id}")).await;
    let driven_again = status["timeline"]
        .as_array()
        .expect("a timeline")
        .iter()
        .filter(|entry| {
            entry["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with("driven again"))
        })
        .count();
    assert!(driven_again >= 1, "{status}");
}
