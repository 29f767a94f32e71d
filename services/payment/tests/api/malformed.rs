use reqwest::StatusCode;

use crate::helpers::spawn_app;

/// Numbers the contract refuses: negative, not whole, not a number at all,
/// and one past the 64-bit range.
const BAD_NUMBERS: [&str; 6] = ["-1", "1.5", "abc", "1e3", "%2B1", "9223372036854775808"];

#[tokio::test]
async fn every_malformed_number_is_a_400_that_names_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let id = app.user_with(10).await;
    let before = app.snapshot().await;

    for bad in BAD_NUMBERS {
        for (path, field) in [
            (format!("/payment/add_funds/{id}/{bad}"), "amount"),
            (format!("/payment/pay/{id}/{bad}"), "amount"),
            (format!("/payment/batch_init/{bad}/1"), "n"),
            (format!("/payment/batch_init/1/{bad}"), "starting_money"),
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
async fn credit_beyond_64_bits_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let id = app.user_with(i64::MAX).await;
    let before = app.snapshot().await;

    let (status, body) = app.post(&format!("/payment/add_funds/{id}/1")).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn an_overlong_id_is_a_400() {
    let app = spawn_app().await;
    let id = "x".repeat(200);

    let (status, body) = app.get(&format!("/payment/find_user/{id}")).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}
