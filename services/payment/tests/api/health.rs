use test_support::{assert_healthy, assert_unhealthy_without_database};

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_is_200_once_the_database_answers_and_the_consumer_is_connected() {
    let app = spawn_app().await;

    assert_healthy(&app, "/payment/health").await;
}

#[tokio::test]
async fn health_is_503_once_the_database_is_gone() {
    let app = spawn_app().await;

    assert_unhealthy_without_database(&app, "/payment/health").await;
}
