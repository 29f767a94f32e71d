//! The course's consistency scenario against two replicas of each service.
use std::collections::HashMap;

use futures::future::join_all;
use reqwest::StatusCode;
use test_support::{System, spawn_system};

use crate::helpers::stock_of;

/// 1 000 users with 1 credit, orders of one unit of one item with stock
/// 100 at price 1, all checked out at once across both order replicas.
#[tokio::test]
async fn a_thousand_concurrent_checkouts_of_a_hundred_units_sell_exactly_a_hundred() {
    let app = spawn_system(2).await;
    let item = app.item_with(1, 100).await;
    let mut orders = Vec::new();
    for _ in 0..1000 {
        let user = app.user_with(1).await;
        let order = app.order_for(&user).await;
        app.post(&format!("/orders/addItem/{order}/{item}/1")).await;
        orders.push((order, user));
    }

    let answers = checkout_all(&app, &orders).await;

    let paid: Vec<bool> = answers.iter().map(|status| *status == StatusCode::OK).collect();
    assert!(
        answers
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{answers:?}"
    );
    assert_eq!(paid.iter().filter(|p| **p).count(), 100);
    assert_eq!(stock_of(&app, &item).await, 0);
    let credits = credits(&app).await;
    let flags = paid_flags(&app).await;
    for ((order, user), paid) in orders.iter().zip(&paid) {
        assert_eq!(credits[user], if *paid { 0 } else { 1 }, "user {user}");
        assert_eq!(flags[order], *paid, "order {order}");
    }
}

/// Orders of 1-4 different items, quantities 1-2, over several items, some
/// scarce: every answer matches the databases, and stock plus what the paid
/// orders took equals the starting stock.
#[tokio::test]
async fn multi_item_orders_leave_stock_and_credit_matching_the_answers() {
    let app = spawn_system(2).await;
    let stocks = [5_i64, 20, 200, 3, 50, 1000];
    let mut items = Vec::new();
    for (i, stock) in stocks.iter().enumerate() {
        items.push(app.item_with(1 + i as i64, *stock).await);
    }
    let mut orders = Vec::new();
    let mut wanted: Vec<HashMap<String, i64>> = Vec::new();
    for n in 0..300_usize {
        let user = app.user_with(if n % 7 == 0 { 2 } else { 40 }).await;
        let order = app.order_for(&user).await;
        let mut lines = HashMap::new();
        for k in 0..(1 + n % 4) {
            let item = &items[(n * 7 + k * 3) % items.len()];
            let quantity = 1 + ((n + k) % 2) as i64;
            app.post(&format!("/orders/addItem/{order}/{item}/{quantity}"))
                .await;
            *lines.entry(item.clone()).or_default() += quantity;
        }
        orders.push((order, user));
        wanted.push(lines);
    }
    let costs = order_costs(&app).await;

    let answers = checkout_all(&app, &orders).await;

    assert!(
        answers
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{answers:?}"
    );
    let credits = credits(&app).await;
    let flags = paid_flags(&app).await;
    let mut taken: HashMap<String, i64> = HashMap::new();
    for (n, ((order, user), status)) in orders.iter().zip(&answers).enumerate() {
        let paid = *status == StatusCode::OK;
        assert_eq!(flags[order], paid, "order {order}");
        let start = if n % 7 == 0 { 2 } else { 40 };
        assert_eq!(
            credits[user],
            if paid { start - costs[order] } else { start },
            "user {user}"
        );
        if paid {
            for (item, quantity) in &wanted[n] {
                *taken.entry(item.clone()).or_default() += quantity;
            }
        }
    }
    for (item, stock) in items.iter().zip(stocks) {
        let left = stock_of(&app, item).await;
        assert!(left >= 0);
        assert_eq!(left + taken.get(item).copied().unwrap_or(0), stock, "item {item}");
    }
}

/// Checks every order out at once, alternating between the order replicas.
async fn checkout_all(app: &System, orders: &[(String, String)]) -> Vec<StatusCode> {
    let requests = orders.iter().enumerate().map(|(n, (order, _))| {
        let base = &app.order_addresses[n % app.order_addresses.len()];
        app.order
            .client
            .post(format!("{base}/orders/checkout/{order}"))
            .send()
    });
    join_all(requests)
        .await
        .into_iter()
        .map(|answer| answer.expect("every checkout answers").status())
        .collect()
}

async fn credits(app: &System) -> HashMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>("SELECT id, credit FROM users")
        .fetch_all(&app.payment.pool)
        .await
        .expect("users")
        .into_iter()
        .collect()
}

async fn paid_flags(app: &System) -> HashMap<String, bool> {
    sqlx::query_as::<_, (String, bool)>("SELECT id, paid FROM orders")
        .fetch_all(&app.order.pool)
        .await
        .expect("orders")
        .into_iter()
        .collect()
}

async fn order_costs(app: &System) -> HashMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>("SELECT id, total_cost FROM orders")
        .fetch_all(&app.order.pool)
        .await
        .expect("orders")
        .into_iter()
        .collect()
}
