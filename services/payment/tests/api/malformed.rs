use reqwest::StatusCode;
use test_support::{BAD, BAD_NUMBERS, assert_numbers_refused, assert_overlong_id_refused, user_with};

use crate::helpers::{snapshot, spawn_app};

#[tokio::test]
async fn every_malformed_number_is_a_400_that_names_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let id = user_with(&app, 10).await;
    let before = snapshot(&app).await;

    let paths = [
        (format!("/payment/add_funds/{id}/{BAD}"), "amount"),
        (format!("/payment/pay/{id}/{BAD}"), "amount"),
        (format!("/payment/batch_init/{BAD}/1"), "n"),
        (format!("/payment/batch_init/1/{BAD}"), "starting_money"),
    ];
    assert_numbers_refused(&app, &paths, &BAD_NUMBERS).await;

    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn credit_beyond_64_bits_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let id = user_with(&app, i64::MAX).await;
    let before = snapshot(&app).await;

    let (status, body) = app.post(&format!("/payment/add_funds/{id}/1")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn an_overlong_id_is_a_400() {
    let app = spawn_app().await;

    assert_overlong_id_refused(&app, &format!("/payment/find_user/{BAD}")).await;
}
