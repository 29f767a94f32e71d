//! What only the order service's tests need; spawning the system and
//! arranging users, items and orders are in `test_support`.
use test_support::{System, TestApp};

/// One replica of each service.
pub async fn spawn_app() -> System {
    test_support::spawn_system(1).await
}

/// Read from the stock service's database, which the order service never
/// touches: what a saga took, whatever the services answered.
pub async fn stock_of(app: &System, item: &str) -> i64 {
    sqlx::query_scalar("SELECT stock FROM items WHERE id = $1")
        .bind(item)
        .fetch_one(&app.stock.pool)
        .await
        .expect("stock readable")
}

/// Read from the payment service's database, as `stock_of` is.
pub async fn credit_of(app: &System, user: &str) -> i64 {
    sqlx::query_scalar("SELECT credit FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(&app.payment.pool)
        .await
        .expect("credit readable")
}

/// Every row of the orders table of `order`, to prove that a refused
/// request changed nothing at all.
pub async fn snapshot(order: &TestApp) -> Vec<(String, String, bool, String, i64)> {
    sqlx::query_as("SELECT id, user_id, paid, items::text, total_cost FROM orders ORDER BY id")
        .fetch_all(&order.pool)
        .await
        .expect("orders readable")
}
