use reqwest::StatusCode;

use crate::helpers::spawn_app;

/// Numbers the contract refuses: negative, not whole, not a number at all,
/// and one past the 64-bit range.
const BAD_NUMBERS: [&str; 6] = ["-1", "1.5", "abc", "1e3", "%2B1", "9223372036854775808"];

#[tokio::test]
async fn every_malformed_number_is_a_400_that_names_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let order = app.order_for(&app.user().await).await;
    let item = app.item(1).await;
    let before = app.snapshot().await;

    for bad in BAD_NUMBERS.iter().chain(&["0"]) {
        let (status, body) = app.post(&format!("/orders/addItem/{order}/{item}/{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["error"].as_str().unwrap_or_default().starts_with("quantity"),
            "{body}"
        );
    }
    for bad in BAD_NUMBERS {
        for (path, field) in [
            (format!("/orders/batch_init/{bad}/1/1/1"), "n"),
            (format!("/orders/batch_init/1/{bad}/1/1"), "n_items"),
            (format!("/orders/batch_init/1/1/{bad}/1"), "n_users"),
            (format!("/orders/batch_init/1/1/1/{bad}"), "item_price"),
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
async fn a_total_cost_beyond_64_bits_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let order = app.order_for(&app.user().await).await;
    let item = app.item(i64::MAX / 2 + 1).await;
    let before = app.snapshot().await;

    let (status, body) = app.post(&format!("/orders/addItem/{order}/{item}/2")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    app.post(&format!("/orders/addItem/{order}/{item}/1")).await;
    let after_one = app.snapshot().await;
    let (status, body) = app.post(&format!("/orders/addItem/{order}/{item}/1")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(app.snapshot().await, after_one);
    assert_ne!(after_one, before);
}

#[tokio::test]
async fn batch_init_refuses_a_price_whose_order_total_overflows() {
    let app = spawn_app().await;

    let (status, body) = app
        .post(&format!("/orders/batch_init/1/1/1/{}", i64::MAX / 2 + 1))
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(app.snapshot().await.is_empty());
}
