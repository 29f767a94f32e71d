use reqwest::StatusCode;
use test_support::{BAD, BAD_NUMBERS, assert_numbers_refused, assert_overlong_id_refused, item_with};

use crate::helpers::{snapshot, spawn_app};

#[tokio::test]
async fn every_malformed_number_is_a_400_that_names_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let id = item_with(&app, 2, 10).await;
    let before = snapshot(&app).await;

    let paths = [
        (format!("/stock/item/create/{BAD}"), "price"),
        (format!("/stock/add/{id}/{BAD}"), "amount"),
        (format!("/stock/subtract/{id}/{BAD}"), "amount"),
        (format!("/stock/batch_init/{BAD}/1/1"), "n"),
        (format!("/stock/batch_init/1/{BAD}/1"), "starting_stock"),
        (format!("/stock/batch_init/1/1/{BAD}"), "item_price"),
    ];
    assert_numbers_refused(&app, &paths, &BAD_NUMBERS).await;

    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn stock_beyond_64_bits_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let id = item_with(&app, 2, i64::MAX).await;
    let before = snapshot(&app).await;

    let (status, body) = app.post(&format!("/stock/add/{id}/1")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn an_overlong_id_is_a_400() {
    let app = spawn_app().await;

    assert_overlong_id_refused(&app, &format!("/stock/find/{BAD}")).await;
}

#[tokio::test]
async fn a_batch_beyond_the_limit_is_refused() {
    let app = spawn_app().await;

    let (status, body) = app.post("/stock/batch_init/10000001/1/1").await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(snapshot(&app).await.is_empty());
}

#[tokio::test]
async fn an_id_with_a_character_urls_escape_is_a_400_that_says_so() {
    let app = spawn_app().await;

    for id in ["a%20b", "%C3%A9", "a%2Fb", "a%3Fb"] {
        let (status, body) = app.get(&format!("/stock/find/{id}")).await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{id}: {body}");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(message.contains("character"), "{id}: {message}");
    }
}
