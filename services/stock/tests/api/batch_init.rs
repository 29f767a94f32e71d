use reqwest::StatusCode;
use serde_json::json;

use test_support::assert_analysed_with;

use crate::helpers::{snapshot, spawn_app};

#[tokio::test]
async fn batch_init_creates_items_zero_to_n_minus_one() {
    let app = spawn_app().await;

    let (status, body) = app.post("/stock/batch_init/1000/100/3").await;

    assert_eq!(status, StatusCode::OK);
    assert!(body["msg"].is_string());
    assert_eq!(
        app.get("/stock/find/0").await.1,
        json!({"stock": 100, "price": 3})
    );
    assert_eq!(
        app.get("/stock/find/999").await.1,
        json!({"stock": 100, "price": 3})
    );
    assert_eq!(app.get("/stock/find/1000").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn batch_init_leaves_the_items_analysed_for_the_load_that_follows() {
    let app = spawn_app().await;

    let (status, _) = app.post("/stock/batch_init/1000/100/3").await;

    assert_eq!(status, StatusCode::OK);
    assert_analysed_with(&app, "items", 1000).await;
}

#[tokio::test]
async fn a_second_batch_init_replaces_the_rows_of_the_same_ids() {
    let app = spawn_app().await;
    app.post("/stock/batch_init/10/100/3").await;
    app.post("/stock/subtract/4/50").await;

    let (status, _) = app.post("/stock/batch_init/5/7/9").await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.get("/stock/find/4").await.1, json!({"stock": 7, "price": 9}));
    assert_eq!(
        app.get("/stock/find/9").await.1,
        json!({"stock": 100, "price": 3})
    );
    assert_eq!(snapshot(&app).await.len(), 10);
}
