use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_is_200_while_the_database_answers() {
    let app = spawn_app().await;

    let (status, body) = app.get("/stock/health").await;

    assert_eq!(status, StatusCode::OK, "{body}");
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

    let (status, body) = app.get("/stock/health").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}
