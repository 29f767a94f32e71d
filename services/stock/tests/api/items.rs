use reqwest::StatusCode;
use serde_json::json;
use test_support::item_with;

use crate::helpers::{snapshot, spawn_app};

#[tokio::test]
async fn a_created_item_has_its_price_and_no_stock() {
    let app = spawn_app().await;

    let (status, body) = app.post("/stock/item/create/7").await;

    assert_eq!(status, StatusCode::OK);
    let id = body["item_id"].as_str().expect("item_id is a string");
    let (status, body) = app.get(&format!("/stock/find/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"stock": 0, "price": 7}));
}

#[tokio::test]
async fn add_then_subtract_changes_the_stock() {
    let app = spawn_app().await;
    let id = item_with(&app, 3, 10).await;

    let (status, body) = app.post(&format!("/stock/subtract/{id}/4")).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["stock"], 6);
    let (_, body) = app.get(&format!("/stock/find/{id}")).await;
    assert_eq!(body, json!({"stock": 6, "price": 3}));
}

#[tokio::test]
async fn subtracting_the_whole_stock_leaves_zero() {
    let app = spawn_app().await;
    let id = item_with(&app, 1, 5).await;

    let (status, body) = app.post(&format!("/stock/subtract/{id}/5")).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["stock"], 0);
}

#[tokio::test]
async fn subtracting_more_than_the_stock_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let id = item_with(&app, 1, 5).await;
    let before = snapshot(&app).await;

    let (status, body) = app.post(&format!("/stock/subtract/{id}/6")).await;

    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("less than 6 in stock"),
        "{body}"
    );
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn an_unknown_item_is_not_found_on_every_endpoint() {
    let app = spawn_app().await;

    for (status, body) in [
        app.get("/stock/find/nope").await,
        app.post("/stock/add/nope/1").await,
        app.post("/stock/subtract/nope/1").await,
    ] {
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"], "item nope does not exist");
    }
    assert!(snapshot(&app).await.is_empty());
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_answer_json_errors() {
    let app = spawn_app().await;

    let (status, body) = app.get("/stock/nothing/here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].is_string());

    let (status, _) = app.get("/stock/item/create/5").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}
