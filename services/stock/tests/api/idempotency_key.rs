use futures::future::join_all;
use reqwest::StatusCode;
use test_support::item_with;

use crate::helpers::{post_with_key, snapshot, spawn_app};

#[tokio::test]
async fn a_repeated_request_gets_the_first_answer_and_changes_nothing_more() {
    let app = spawn_app().await;
    let id = item_with(&app, 1, 10).await;
    let path = format!("/stock/subtract/{id}/3");

    let first = post_with_key(&app, &path, "key-1").await;
    let second = post_with_key(&app, &path, "key-1").await;

    assert_eq!((first.0, first.2), (StatusCode::OK, false));
    assert_eq!((second.0, &second.1, second.2), (StatusCode::OK, &first.1, true));
    assert_eq!(app.get(&format!("/stock/find/{id}")).await.1["stock"], 7);
}

#[tokio::test]
async fn concurrent_repeats_have_one_effect_and_one_answer() {
    let app = spawn_app().await;
    let id = item_with(&app, 1, 10).await;
    let path = format!("/stock/subtract/{id}/1");

    let answers = join_all((0..20).map(|_| post_with_key(&app, &path, "same-key"))).await;

    assert!(
        answers
            .iter()
            .all(|(status, body, _)| *status == StatusCode::OK && *body == answers[0].1)
    );
    assert_eq!(answers.iter().filter(|(_, _, replayed)| !replayed).count(), 1);
    assert_eq!(app.get(&format!("/stock/find/{id}")).await.1["stock"], 9);
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_refused() {
    let app = spawn_app().await;
    let id = item_with(&app, 1, 10).await;
    post_with_key(&app, &format!("/stock/subtract/{id}/1"), "k").await;
    let before = snapshot(&app).await;

    let (status, body, _) = post_with_key(&app, &format!("/stock/subtract/{id}/2"), "k").await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("another request")
    );
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_refusal_is_final_for_its_key() {
    let app = spawn_app().await;
    let id = item_with(&app, 1, 1).await;
    let path = format!("/stock/subtract/{id}/5");
    let (status, refusal, _) = post_with_key(&app, &path, "k").await;
    assert_eq!(status, StatusCode::CONFLICT);
    app.post(&format!("/stock/add/{id}/10")).await;

    let (status, body, replayed) = post_with_key(&app, &path, "k").await;

    assert_eq!((status, body, replayed), (StatusCode::CONFLICT, refusal, true));
    assert_eq!(app.get(&format!("/stock/find/{id}")).await.1["stock"], 11);
}

#[tokio::test]
async fn a_repeated_create_creates_one_item() {
    let app = spawn_app().await;

    let first = post_with_key(&app, "/stock/item/create/5", "create-1").await;
    let second = post_with_key(&app, "/stock/item/create/5", "create-1").await;

    assert_eq!(first.1, second.1);
    assert_eq!(snapshot(&app).await.len(), 1);
}

#[tokio::test]
async fn a_malformed_key_is_a_400_and_changes_nothing() {
    let app = spawn_app().await;
    let id = item_with(&app, 1, 10).await;
    let before = snapshot(&app).await;

    let (status, body, _) = post_with_key(&app, &format!("/stock/subtract/{id}/1"), &"k".repeat(300)).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Idempotency-Key")
    );
    assert_eq!(snapshot(&app).await, before);
}

#[tokio::test]
async fn a_key_that_is_not_text_is_a_400_not_a_request_without_a_key() {
    let app = spawn_app().await;
    let id = item_with(&app, 1, 10).await;
    let before = snapshot(&app).await;
    let key = reqwest::header::HeaderValue::from_bytes(b"caf\xe9").expect("a header value");

    let response = app
        .client
        .post(format!("{}/stock/subtract/{id}/1", app.address))
        .header("Idempotency-Key", key)
        .send()
        .await
        .expect("request sent");

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(snapshot(&app).await, before);
}
