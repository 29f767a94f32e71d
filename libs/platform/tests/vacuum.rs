//! Vacuuming churned tables, against the real PostgreSQL.
use platform::vacuum::vacuum_churned;
use sqlx::PgConnection;

/// Run on the connection that changed the table: a backend's statistics
/// reach the shared counters when it next goes idle after a forced flush.
async fn dead_rows(connection: &mut PgConnection, table: &str) -> i64 {
    sqlx::query("SELECT pg_stat_force_next_flush()")
        .execute(&mut *connection)
        .await
        .expect("flush");
    sqlx::query_scalar("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = $1")
        .bind(table)
        .fetch_one(&mut *connection)
        .await
        .expect("table statistics")
}

#[tokio::test]
async fn a_table_full_of_dead_rows_is_vacuumed_and_a_quiet_one_is_left_alone() {
    let pool = platform::testing::fresh_pool("vacuum", &[]).await;
    let mut connection = pool.acquire().await.expect("connection");
    for statement in [
        "CREATE TABLE churned (id BIGINT PRIMARY KEY)",
        "CREATE TABLE quiet (id BIGINT PRIMARY KEY)",
        "INSERT INTO churned SELECT generate_series(1, 5000)",
        "INSERT INTO quiet SELECT generate_series(1, 5000)",
        "DELETE FROM churned",
        "DELETE FROM quiet WHERE id <= 10",
    ] {
        sqlx::query(statement)
            .execute(&mut *connection)
            .await
            .expect(statement);
    }
    assert_eq!(dead_rows(&mut connection, "churned").await, 5000);

    let vacuumed = vacuum_churned(&pool, 1000).await.expect("vacuumed");

    assert_eq!(vacuumed, vec!["public.churned".to_owned()]);
    assert_eq!(dead_rows(&mut connection, "churned").await, 0);
    assert_eq!(dead_rows(&mut connection, "quiet").await, 10);
}
