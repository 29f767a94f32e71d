use reqwest::StatusCode;
use serde_json::json;
use test_support::user_with;

use crate::helpers::{snapshot, spawn_app};

#[tokio::test]
async fn a_created_user_has_no_credit() {
    let app = spawn_app().await;

    let (status, body) = app.post("/payment/create_user").await;

    assert_eq!(status, StatusCode::OK);
    let id = body["user_id"].as_str().expect("user_id is a string");
    let (status, body) = app.get(&format!("/payment/find_user/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"user_id": id, "credit": 0}));
}

#[tokio::test]
async fn add_funds_then_pay_changes_the_credit() {
    let app = spawn_app().await;
    let id = user_with(&app, 10).await;

    let (status, body) = app.post(&format!("/payment/pay/{id}/4")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["credit"], 6);
    let (_, body) = app.get(&format!("/payment/find_user/{id}")).await;
    assert_eq!(body, json!({"user_id": id, "credit": 6}));
}

#[tokio::test]
async fn paying_the_whole_credit_leaves_zero() {
    let app = spawn_app().await;
    let id = user_with(&app, 5).await;

    let (status, body) = app.post(&format!("/payment/pay/{id}/5")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["credit"], 0);
}

#[tokio::test]
async fn paying_more_than_the_credit_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let id = user_with(&app, 5).await;
    let before = snapshot(&app).await;

    let (status, body) = app.post(&format!("/payment/pay/{id}/6")).await;

    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("less than 6 credit"),
        "{body}"
    );
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn an_unknown_user_is_not_found_on_every_endpoint() {
    let app = spawn_app().await;

    for (status, body) in [
        app.get("/payment/find_user/nope").await,
        app.post("/payment/add_funds/nope/1").await,
        app.post("/payment/pay/nope/1").await,
    ] {
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"], "user nope does not exist");
    }
    assert!(snapshot(&app).await.is_empty());
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_answer_json_errors() {
    let app = spawn_app().await;

    let (status, body) = app.get("/payment/nothing/here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].is_string());

    let (status, _) = app.get("/payment/create_user").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_payment_repeated_with_its_idempotency_key_charges_once() {
    let app = spawn_app().await;
    let id = user_with(&app, 10).await;
    let pay = || {
        app.client
            .post(format!("{}/payment/pay/{id}/4", app.address))
            .header("Idempotency-Key", "pay-once")
            .send()
    };

    let first = pay().await.expect("sent");
    let second = pay().await.expect("sent");

    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    assert!(second.headers().contains_key("idempotent-replayed"));
    assert_eq!(app.get(&format!("/payment/find_user/{id}")).await.1["credit"], 6);
}
