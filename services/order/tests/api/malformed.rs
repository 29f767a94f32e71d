use reqwest::StatusCode;
use test_support::{BAD, BAD_NUMBERS, assert_numbers_refused};

use crate::helpers::{snapshot, spawn_app};

#[tokio::test]
async fn every_malformed_number_is_a_400_that_names_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let order = app.order_for(&app.user().await).await;
    let item = app.item(1).await;
    let before = snapshot(&app.order).await;

    let add_item = [(format!("/orders/addItem/{order}/{item}/{BAD}"), "quantity")];
    assert_numbers_refused(&app.order, &add_item, &[&BAD_NUMBERS[..], &["0"]].concat()).await;
    let batch_init = [
        (format!("/orders/batch_init/{BAD}/1/1/1"), "n"),
        (format!("/orders/batch_init/1/{BAD}/1/1"), "n_items"),
        (format!("/orders/batch_init/1/1/{BAD}/1"), "n_users"),
        (format!("/orders/batch_init/1/1/1/{BAD}"), "item_price"),
    ];
    assert_numbers_refused(&app.order, &batch_init, &BAD_NUMBERS).await;

    assert_eq!(snapshot(&app.order).await, before);
}

#[tokio::test]
async fn a_total_cost_beyond_64_bits_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let order = app.order_for(&app.user().await).await;
    let item = app.item(i64::MAX / 2 + 1).await;
    let before = snapshot(&app.order).await;

    let (status, body) = app.post(&format!("/orders/addItem/{order}/{item}/2")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    app.post(&format!("/orders/addItem/{order}/{item}/1")).await;
    let after_one = snapshot(&app.order).await;
    let (status, body) = app.post(&format!("/orders/addItem/{order}/{item}/1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(snapshot(&app.order).await, after_one);
    assert_ne!(after_one, before);
}

#[tokio::test]
async fn batch_init_refuses_a_price_whose_order_total_overflows() {
    let app = spawn_app().await;

    let (status, body) = app
        .post(&format!("/orders/batch_init/1/1/1/{}", i64::MAX / 2 + 1))
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(snapshot(&app.order).await.is_empty());
}
