use platform::testing::fresh_database_name;
use reqwest::StatusCode;
use test_support::{TestApp, isolated_broker, spawn_order};

use crate::helpers::snapshot;

/// An order service alone, whose peers are at `down`.
async fn spawn_order_alone(down: &str) -> TestApp {
    spawn_order(
        &fresh_database_name("order"),
        &isolated_broker(),
        down,
        down,
        |_| {},
    )
    .await
}

/// A port nothing listens on: binding then dropping a listener frees one.
async fn closed_port_address() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn an_unreachable_payment_service_is_a_503_and_creates_no_order() {
    let down = closed_port_address().await;
    let app = spawn_order_alone(&down).await;

    let (status, body) = app.post("/orders/create/0").await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body["error"],
        "the payment service is unavailable, try again later"
    );
    assert!(snapshot(&app).await.is_empty());
}

#[tokio::test]
async fn an_unreachable_stock_service_is_a_503_and_adds_no_line() {
    let down = closed_port_address().await;
    let app = spawn_order_alone(&down).await;
    app.post("/orders/batch_init/1/1/1/1").await;
    let before = snapshot(&app).await;

    let (status, body) = app.post("/orders/addItem/0/0/1").await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(snapshot(&app).await, before);
}
