use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_is_200_once_the_database_answers_and_the_consumer_is_connected() {
    let app = spawn_app().await;

    // The consumer connects in the background, within milliseconds.
    let mut answer = app.get("/payment/health").await;
    for _ in 0..500 {
        if answer.0 == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        answer = app.get("/payment/health").await;
    }

    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
}

#[tokio::test]
async fn health_is_503_once_the_database_is_gone() {
    let app = spawn_app().await;
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&app.pool)
        .await
        .expect("database name");
    let admin = sqlx::PgPool::connect_with(app.pool.connect_options().as_ref().clone().database("postgres"))
        .await
        .expect("maintenance connection");

    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE \"{name}\" WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .expect("database dropped");

    let (status, body) = app.get("/payment/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}
