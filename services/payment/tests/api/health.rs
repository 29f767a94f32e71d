use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_is_200_once_the_database_answers_and_the_consumer_is_connected() {
    let app = spawn_app().await;

    // The consumer connects in the background, within milliseconds.
    let healthy = platform::testing::eventually(Duration::from_secs(10), || async {
        app.get("/payment/health").await.0 == StatusCode::OK
    });

    assert!(healthy.await, "{:?}", app.get("/payment/health").await);
}

#[tokio::test]
async fn health_is_503_once_the_database_is_gone() {
    let app = spawn_app().await;

    platform::testing::drop_database(&app.pool).await;

    let (status, body) = app.get("/payment/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}
