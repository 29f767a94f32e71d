use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{snapshot, spawn_app};

#[tokio::test]
async fn a_created_order_is_empty_unpaid_and_belongs_to_its_user() {
    let app = spawn_app().await;
    let user = app.user().await;

    let (status, body) = app.post(&format!("/orders/create/{user}")).await;

    assert_eq!(status, StatusCode::OK);
    let order = body["order_id"].as_str().expect("order_id is a string");
    let (status, body) = app.get(&format!("/orders/find/{order}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"order_id": order, "paid": false, "items": [], "user_id": user, "total_cost": 0})
    );
}

#[tokio::test]
async fn an_order_for_an_unknown_user_is_refused() {
    let app = spawn_app().await;

    let (status, body) = app.post("/orders/create/nobody").await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "user nobody does not exist");
    assert!(snapshot(&app.order).await.is_empty());
}

#[tokio::test]
async fn add_item_appends_the_line_at_the_current_price() {
    let app = spawn_app().await;
    let order = app.order_for(&app.user().await).await;
    let (cheap, dear) = (app.item(3).await, app.item(10).await);

    app.post(&format!("/orders/addItem/{order}/{cheap}/2")).await;
    app.post(&format!("/orders/addItem/{order}/{dear}/1")).await;
    let (status, body) = app.post(&format!("/orders/addItem/{order}/{cheap}/1")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total_cost"], 19);
    let (_, body) = app.get(&format!("/orders/find/{order}")).await;
    assert_eq!(body["items"], json!([[cheap, 2], [dear, 1], [cheap, 1]]));
    assert_eq!(body["total_cost"], 19);
}

#[tokio::test]
async fn add_item_with_an_unknown_item_or_order_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let order = app.order_for(&app.user().await).await;
    let item = app.item(1).await;
    let before = snapshot(&app.order).await;

    let (status, body) = app.post(&format!("/orders/addItem/{order}/ghost/1")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "item ghost does not exist");

    let (status, body) = app.post(&format!("/orders/addItem/ghost/{item}/1")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "order ghost does not exist");

    assert_eq!(snapshot(&app.order).await, before);
}

#[tokio::test]
async fn a_paid_order_cannot_change() {
    let app = spawn_app().await;
    let order = app.order_for(&app.user().await).await;
    let item = app.item(1).await;
    sqlx::query("UPDATE orders SET paid = TRUE, status = 'paid' WHERE id = $1")
        .bind(&order)
        .execute(&app.order.pool)
        .await
        .expect("order marked paid");
    let before = snapshot(&app.order).await;

    let (status, body) = app.post(&format!("/orders/addItem/{order}/{item}/1")).await;

    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(snapshot(&app.order).await, before);
}

#[tokio::test]
async fn an_unknown_order_is_not_found() {
    let app = spawn_app().await;

    let (status, body) = app.get("/orders/find/ghost").await;

    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "order ghost does not exist");
}

#[tokio::test]
async fn add_item_repeated_with_its_idempotency_key_adds_one_line() {
    let app = spawn_app().await;
    let order = app.order_for(&app.user().await).await;
    let item = app.item(4).await;
    let add = || {
        app.order
            .client
            .post(format!("{}/orders/addItem/{order}/{item}/2", app.order.address))
            .header("Idempotency-Key", "add-once")
            .send()
    };

    let first = add().await.expect("sent");
    let second = add().await.expect("sent");

    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let (_, body) = app.get(&format!("/orders/find/{order}")).await;
    assert_eq!(body["items"], json!([[item, 2]]));
    assert_eq!(body["total_cost"], 8);
}
