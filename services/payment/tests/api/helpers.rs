//! What only the payment service's tests need; what every service's tests
//! need is in `test_support`.
use chrono::Utc;
use events::{Line, StockReserved};
use payment::configuration::Payment;
use test_support::TestApp;
use uuid::Uuid;

/// A payment service alone, with a database of its own.
pub async fn spawn_app() -> TestApp {
    test_support::spawn_alone::<Payment>().await
}

/// Every row of the users table, to prove that a refused request changed
/// nothing at all.
pub async fn snapshot(app: &TestApp) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT id, credit FROM users ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .expect("users readable")
}

pub fn reserved(user: &str, total_cost: i64) -> StockReserved {
    StockReserved {
        order_id: "o-1".into(),
        saga_id: Uuid::now_v7(),
        user_id: user.into(),
        total_cost,
        lines: vec![Line {
            item_id: "i-1".into(),
            quantity: 1,
        }],
        occurred_at: Utc::now(),
    }
}

pub async fn credit_of(app: &TestApp, user: &str) -> i64 {
    let (_, body) = app.get(&format!("/payment/find_user/{user}")).await;
    body["credit"].as_i64().expect("a credit")
}

/// Rows of the inbox, the outbox, the payments and the refusals.
pub async fn rows(app: &TestApp) -> (i64, i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM inbox), (SELECT count(*) FROM outbox), \
                (SELECT count(*) FROM payments), (SELECT count(*) FROM refusals)",
    )
    .fetch_one(&app.pool)
    .await
    .expect("counts")
}
