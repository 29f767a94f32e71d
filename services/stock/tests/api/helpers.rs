//! What only the stock service's tests need; what every service's tests
//! need is in `test_support`.
use chrono::Utc;
use events::{CheckoutRequested, Line};
use reqwest::StatusCode;
use serde_json::Value;
use stock::configuration::Stock;
use test_support::TestApp;
use uuid::Uuid;

/// A stock service alone, with a database of its own.
pub async fn spawn_app() -> TestApp {
    test_support::spawn_alone::<Stock>().await
}

/// POSTs with an `Idempotency-Key`; also says whether the answer was
/// replayed from an earlier request.
pub async fn post_with_key(app: &TestApp, path: &str, key: &str) -> (StatusCode, Value, bool) {
    let response = app
        .client
        .post(app.url(path))
        .header("Idempotency-Key", key)
        .send()
        .await
        .expect("request sent");
    let replayed = response.headers().contains_key("idempotent-replayed");
    let (status, body) = test_support::answer(response).await;
    (status, body, replayed)
}

/// Every row of the items table, to prove that a refused request changed
/// nothing at all.
pub async fn snapshot(app: &TestApp) -> Vec<(String, i64, i64)> {
    sqlx::query_as("SELECT id, stock, price FROM items ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .expect("items readable")
}

pub fn checkout(item: &str, quantity: i64) -> CheckoutRequested {
    CheckoutRequested {
        order_id: "o-1".into(),
        saga_id: Uuid::now_v7(),
        user_id: "u-1".into(),
        total_cost: 5 * quantity,
        lines: vec![Line {
            item_id: item.into(),
            quantity,
        }],
        occurred_at: Utc::now(),
    }
}

pub async fn stock_of(app: &TestApp, item: &str) -> i64 {
    let (_, body) = app.get(&format!("/stock/find/{item}")).await;
    body["stock"].as_i64().expect("a stock level")
}

/// Rows of the inbox, the outbox and the reservations and rejections.
pub async fn rows(app: &TestApp) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM inbox), (SELECT count(*) FROM outbox), \
                (SELECT count(*) FROM reservations), (SELECT count(*) FROM rejections)",
    )
    .fetch_one(&app.pool)
    .await
    .expect("counts")
}
