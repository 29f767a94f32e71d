//! `GET /metrics` on each service's own port: after one checkout, every
//! series the dashboard reads is there, each service showing its own.
use std::time::Duration;

use reqwest::StatusCode;
use test_support::System;

use crate::helpers::spawn_app;

/// Series every service exposes: its relay, its consumer, its pool.
const COMMON: &[&str] = &[
    "outbox_backlog_events",
    "outbox_oldest_event_age_seconds",
    "outbox_publish_duration_seconds_bucket",
    "outbox_published_total",
    "consumer_handle_duration_seconds_bucket",
    "db_pool_connections{state=\"in_use\"}",
    "db_pool_connections{state=\"idle\"}",
    "db_pool_max_connections",
];

#[tokio::test]
async fn every_service_exposes_its_series_after_a_checkout() {
    let app = spawn_app().await;
    let order = app.one_line_order().await;

    let (status, body) = app.post(&format!("/orders/checkout/{order}")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let expected = [
        (app.order.address.as_str(), "order.checkout", "PaymentSucceeded"),
        (app.stock.address.as_str(), "stock.checkout", "CheckoutRequested"),
        (app.payment.address.as_str(), "payment.checkout", "StockReserved"),
    ];
    for (address, queue, event) in expected {
        let mut series: Vec<String> = COMMON.iter().map(|s| (*s).to_owned()).collect();
        series.push(format!(
            "consumer_messages_total{{event=\"{event}\",outcome=\"applied\",queue=\"{queue}\"}} 1"
        ));
        series.push(format!(
            "consumer_duplicates_skipped_total{{queue=\"{queue}\"}} 0"
        ));
        series.push(format!("consumer_messages_parked_total{{queue=\"{queue}\"}} 0"));
        // The only replica holds the one partition of a test's streams.
        series.push("consumer_partitions_held 1".into());
        if address == app.order.address {
            series.push("checkout_requests_total{outcome=\"paid\"} 1".into());
            series.push("checkout_duration_seconds_count{outcome=\"paid\"} 1".into());
        }
        // A consumer counts a message after its ack, just after the
        // commit that let the saga go on: poll briefly.
        let all_there = test_support::eventually(Duration::from_secs(5), || async {
            missing(&metrics(&app, address).await, &series).is_empty()
        });
        assert!(
            all_there.await,
            "{address} lacks {:?}",
            missing(&metrics(&app, address).await, &series)
        );
    }
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_only_at_the_top_level_path() {
    let app = spawn_app().await;

    let response = app
        .order
        .client
        .get(format!("{}/metrics", app.stock.address))
        .send()
        .await
        .expect("sent");
    let prefixed = app
        .order
        .client
        .get(format!("{}/orders/metrics", app.order.address))
        .send()
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    assert!(
        response
            .text()
            .await
            .unwrap_or_default()
            .contains("# TYPE db_pool_connections gauge")
    );
    assert_eq!(prefixed.expect("sent").status(), StatusCode::NOT_FOUND);
}

async fn metrics(app: &System, address: &str) -> String {
    let response = app
        .order
        .client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .expect("sent");
    response.text().await.expect("a text body")
}

/// The expected series (a line prefix: name, labels, maybe the value) that
/// no line of `text` starts with.
fn missing<'a>(text: &str, series: &'a [String]) -> Vec<&'a str> {
    series
        .iter()
        .map(String::as_str)
        .filter(|s| !text.lines().any(|line| line.starts_with(s)))
        .collect()
}
