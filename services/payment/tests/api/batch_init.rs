use reqwest::StatusCode;
use serde_json::json;

use test_support::assert_analysed_with;

use crate::helpers::{snapshot, spawn_app};

#[tokio::test]
async fn batch_init_creates_users_zero_to_n_minus_one() {
    let app = spawn_app().await;

    let (status, body) = app.post("/payment/batch_init/1000/100").await;

    assert_eq!(status, StatusCode::OK);
    assert!(body["msg"].is_string());
    assert_eq!(
        app.get("/payment/find_user/999").await.1,
        json!({"user_id": "999", "credit": 100})
    );
    assert_eq!(app.get("/payment/find_user/1000").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn batch_init_leaves_the_users_analysed_for_the_load_that_follows() {
    let app = spawn_app().await;

    let (status, _) = app.post("/payment/batch_init/1000/100").await;

    assert_eq!(status, StatusCode::OK);
    assert_analysed_with(&app, "users", 1000).await;
}

#[tokio::test]
async fn a_second_batch_init_replaces_the_rows_of_the_same_ids() {
    let app = spawn_app().await;
    app.post("/payment/batch_init/10/100").await;
    app.post("/payment/pay/4/50").await;

    let (status, _) = app.post("/payment/batch_init/5/7").await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.get("/payment/find_user/4").await.1["credit"], 7);
    assert_eq!(app.get("/payment/find_user/9").await.1["credit"], 100);
    assert_eq!(snapshot(&app).await.len(), 10);
}
