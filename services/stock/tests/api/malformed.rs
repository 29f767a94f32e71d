use reqwest::StatusCode;

use crate::helpers::spawn_app;

/// Numbers the contract refuses: negative, not whole, not a number at all,
/// and one past the 64-bit range.
const BAD_NUMBERS: [&str; 6] = ["-1", "1.5", "abc", "1e3", "%2B1", "9223372036854775808"];

#[tokio::test]
async fn every_malformed_number_is_a_400_that_names_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let id = app.item_with(2, 10).await;
    let before = app.snapshot().await;

    for bad in BAD_NUMBERS {
        for (path, field) in [
            (format!("/stock/item/create/{bad}"), "price"),
            (format!("/stock/add/{id}/{bad}"), "amount"),
            (format!("/stock/subtract/{id}/{bad}"), "amount"),
            (format!("/stock/batch_init/{bad}/1/1"), "n"),
            (format!("/stock/batch_init/1/{bad}/1"), "starting_stock"),
            (format!("/stock/batch_init/1/1/{bad}"), "item_price"),
        ] {
            let (status, body) = app.post(&path).await;

            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
            let message = body["error"].as_str().unwrap_or_default();
            assert!(message.starts_with(field), "{path}: {message}");
        }
    }
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn stock_beyond_64_bits_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let id = app.item_with(2, i64::MAX).await;
    let before = app.snapshot().await;

    let (status, body) = app.post(&format!("/stock/add/{id}/1")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn an_overlong_id_is_a_400() {
    let app = spawn_app().await;
    let id = "x".repeat(200);

    let (status, body) = app.get(&format!("/stock/find/{id}")).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn a_batch_beyond_the_limit_is_refused() {
    let app = spawn_app().await;

    let (status, body) = app.post("/stock/batch_init/10000001/1/1").await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(app.snapshot().await.is_empty());
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
