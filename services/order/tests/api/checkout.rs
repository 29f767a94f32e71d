//! The checkout contract: answers, compensation, retries, idempotency.
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use test_support::System;

use crate::helpers::{credit_of, spawn_app, stock_of};

/// An order of `quantity` units of a fresh item, for a fresh user.
async fn order(app: &System, price: i64, stock: i64, credit: i64, quantity: i64) -> (String, String, String) {
    let user = app.user_with(credit).await;
    let item = app.item_with(price, stock).await;
    let order = app.order_for(&user).await;
    let (status, body) = app
        .post(&format!("/orders/addItem/{order}/{item}/{quantity}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (order, user, item)
}

/// The saga's status and the events of its timeline, from the status endpoint.
async fn saga(app: &System, order: &str) -> (String, Vec<String>) {
    let (_, body) = app.get(&format!("/orders/status/{order}")).await;
    let steps = body["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|step| step["event"].as_str().expect("event").to_owned())
        .collect();
    (body["status"].as_str().expect("status").to_owned(), steps)
}

#[tokio::test]
async fn a_checkout_takes_stock_and_credit_and_pays_the_order() {
    let app = spawn_app().await;
    let (order, user, item) = order(&app, 3, 5, 10, 2).await;

    let (status, body) = app.post(&format!("/orders/checkout/{order}")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (stock_of(&app, &item).await, credit_of(&app, &user).await),
        (3, 4)
    );
    assert_eq!(app.get(&format!("/orders/find/{order}")).await.1["paid"], true);
    let (status, steps) = saga(&app, &order).await;
    assert_eq!(steps, ["CheckoutRequested", "PaymentSucceeded"]);
    assert_eq!(status, "paid");
}

#[tokio::test]
async fn not_enough_stock_is_a_409_and_nothing_was_taken() {
    let app = spawn_app().await;
    let (order, user, item) = order(&app, 1, 1, 10, 2).await;

    let (status, body) = app.post(&format!("/orders/checkout/{order}")).await;

    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("less than 2 in stock"),
        "{body}"
    );
    assert_eq!(
        (stock_of(&app, &item).await, credit_of(&app, &user).await),
        (1, 10)
    );
    assert_eq!(app.get(&format!("/orders/find/{order}")).await.1["paid"], false);
}

#[tokio::test]
async fn not_enough_credit_gives_the_stock_back_before_the_409_and_a_retry_after_add_funds_pays() {
    let app = spawn_app().await;
    let (order, user, item) = order(&app, 5, 10, 4, 1).await;

    let (status, body) = app.post(&format!("/orders/checkout/{order}")).await;

    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("less than 5 credit"),
        "{body}"
    );
    assert_eq!(
        (stock_of(&app, &item).await, credit_of(&app, &user).await),
        (10, 4)
    );

    let (status, body) = app.payment.post(&format!("/payment/add_funds/{user}/1")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post(&format!("/orders/checkout/{order}")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (stock_of(&app, &item).await, credit_of(&app, &user).await),
        (9, 0)
    );
    let (_, steps) = saga(&app, &order).await;
    assert_eq!(
        steps,
        [
            "CheckoutRequested",
            "StockReleased",
            "CheckoutRequested",
            "PaymentSucceeded"
        ]
    );
}

#[tokio::test]
async fn an_unknown_order_is_a_404() {
    let app = spawn_app().await;

    let (status, body) = app.post("/orders/checkout/ghost").await;

    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(app.get("/orders/status/ghost").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_paid_order_checked_out_again_answers_2xx_and_charges_nothing() {
    let app = spawn_app().await;
    let (order, user, item) = order(&app, 2, 5, 10, 1).await;
    app.post(&format!("/orders/checkout/{order}")).await;

    let (status, body) = app.post(&format!("/orders/checkout/{order}")).await;

    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"order_id": order, "paid": true}))
    );
    assert_eq!(
        (stock_of(&app, &item).await, credit_of(&app, &user).await),
        (4, 8)
    );
}

#[tokio::test]
async fn concurrent_checkouts_of_one_order_join_one_saga_and_charge_once() {
    let app = spawn_app().await;
    let (order, user, item) = order(&app, 2, 5, 10, 1).await;
    let path = format!("/orders/checkout/{order}");

    let answers = join_all((0..20).map(|_| app.post(&path))).await;

    assert!(
        answers.iter().all(|(status, _)| *status == StatusCode::OK),
        "{answers:?}"
    );
    assert_eq!(
        (stock_of(&app, &item).await, credit_of(&app, &user).await),
        (4, 8)
    );
}

#[tokio::test]
async fn items_cannot_be_added_while_checking_out_or_once_paid() {
    let app = spawn_app().await;
    let (order, _, item) = order(&app, 2, 5, 10, 1).await;
    app.post(&format!("/orders/checkout/{order}")).await;

    let (status, body) = app.post(&format!("/orders/addItem/{order}/{item}/1")).await;

    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}
