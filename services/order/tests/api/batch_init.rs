use std::collections::HashSet;

use reqwest::StatusCode;

use test_support::assert_analysed_with;

use crate::helpers::{snapshot, spawn_app};

#[tokio::test]
async fn batch_init_creates_unpaid_orders_of_two_random_items() {
    let app = spawn_app().await;

    let (status, body) = app.post("/orders/batch_init/1000/50/20/7").await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let mut users = HashSet::new();
    for id in ["0", "500", "999"] {
        let (status, order) = app.get(&format!("/orders/find/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(order["paid"], false);
        assert_eq!(order["total_cost"], 14);
        let items = order["items"].as_array().expect("items");
        assert_eq!(items.len(), 2);
        for line in items {
            let item: u32 = line[0].as_str().expect("item id").parse().expect("numeric id");
            assert!(item < 50);
            assert_eq!(line[1], 1);
        }
        users.insert(
            order["user_id"]
                .as_str()
                .expect("user")
                .parse::<u32>()
                .expect("numeric"),
        );
    }
    assert!(users.iter().all(|u| *u < 20));
    assert_eq!(app.get("/orders/find/1000").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn batch_init_leaves_the_orders_analysed_for_the_load_that_follows() {
    let app = spawn_app().await;

    let (status, body) = app.post("/orders/batch_init/1000/50/20/7").await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_analysed_with(&app.order, "orders", 1000).await;
}

#[tokio::test]
async fn a_second_batch_init_replaces_the_rows_of_the_same_ids() {
    let app = spawn_app().await;
    app.post("/orders/batch_init/10/5/5/1").await;
    sqlx::query("UPDATE orders SET paid = TRUE, status = 'paid'")
        .execute(&app.order.pool)
        .await
        .expect("orders marked paid");

    let (status, _) = app.post("/orders/batch_init/5/5/5/4").await;

    assert_eq!(status, StatusCode::OK);
    let (_, order) = app.get("/orders/find/4").await;
    assert_eq!(
        (order["paid"].clone(), order["total_cost"].clone()),
        (false.into(), 8.into())
    );
    let (_, order) = app.get("/orders/find/9").await;
    assert_eq!(
        (order["paid"].clone(), order["total_cost"].clone()),
        (true.into(), 2.into())
    );
    assert_eq!(snapshot(&app.order).await.len(), 10);
}
