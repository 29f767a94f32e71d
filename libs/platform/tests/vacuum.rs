//! Vacuuming churned tables, against the real PostgreSQL.
use platform::vacuum::{analyze_changed, vacuum_churned};
use sqlx::PgConnection;

/// Runs each statement in turn on `connection`.
async fn run(connection: &mut PgConnection, statements: &[&'static str]) {
    for &statement in statements {
        sqlx::query(statement)
            .execute(&mut *connection)
            .await
            .expect(statement);
    }
}

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
    run(
        &mut connection,
        &[
            "CREATE TABLE churned (id BIGINT PRIMARY KEY)",
            "CREATE TABLE quiet (id BIGINT PRIMARY KEY)",
            "INSERT INTO churned SELECT generate_series(1, 5000)",
            "INSERT INTO quiet SELECT generate_series(1, 5000)",
            "DELETE FROM churned",
            "DELETE FROM quiet WHERE id <= 10",
        ],
    )
    .await;
    assert_eq!(dead_rows(&mut connection, "churned").await, 5000);

    let vacuumed = vacuum_churned(&pool, 1000).await.expect("vacuumed");

    assert_eq!(vacuumed, vec!["public.churned".to_owned()]);
    assert_eq!(dead_rows(&mut connection, "churned").await, 0);
    assert_eq!(dead_rows(&mut connection, "quiet").await, 10);
}

/// How the prepared statement `lookup` would run now.
async fn plan(connection: &mut PgConnection) -> String {
    let lines: Vec<String> =
        sqlx::query_scalar("EXPLAIN (COSTS OFF) EXECUTE lookup('00000000-0000-0000-0000-000000000001')")
            .fetch_all(&mut *connection)
            .await
            .expect("explained");
    lines.join("\n")
}

#[tokio::test]
async fn a_grown_table_is_analysed_and_a_plan_made_while_it_was_empty_is_made_again() {
    let pool = platform::testing::fresh_pool("analyze", &[]).await;
    let mut connection = pool.acquire().await.expect("connection");
    run(
        &mut connection,
        &[
            "CREATE TABLE sagas (id UUID PRIMARY KEY)",
            "ANALYZE sagas",
            // One plan for every execution, made now, on an empty table.
            "SET plan_cache_mode = force_generic_plan",
            "PREPARE lookup(uuid) AS SELECT 1 FROM sagas WHERE id = $1",
        ],
    )
    .await;
    let while_empty = plan(&mut connection).await;
    sqlx::query("INSERT INTO sagas SELECT gen_random_uuid() FROM generate_series(1, 20000)")
        .execute(&mut *connection)
        .await
        .expect("rows");
    sqlx::query("SELECT pg_stat_force_next_flush()")
        .execute(&mut *connection)
        .await
        .expect("flush");
    let grown = plan(&mut connection).await;

    let analysed = analyze_changed(&pool).await.expect("analysed");

    assert!(while_empty.contains("Seq Scan"), "{while_empty}");
    assert!(
        grown.contains("Seq Scan"),
        "the plan stays until new statistics: {grown}"
    );
    assert_eq!(analysed, vec!["public.sagas".to_owned()]);
    let replanned = plan(&mut connection).await;
    assert!(replanned.contains("Index"), "{replanned}");
    assert!(
        analyze_changed(&pool).await.expect("looked").is_empty(),
        "nothing changed since"
    );
}

#[tokio::test]
async fn only_a_table_that_doubled_is_analysed_not_one_updated_grown_by_a_tenth_or_shrunk() {
    let pool = platform::testing::fresh_pool("analyze_updates", &[]).await;
    let mut connection = pool.acquire().await.expect("connection");
    run(
        &mut connection,
        &[
            "CREATE TABLE updated (id BIGINT PRIMARY KEY, status TEXT NOT NULL)",
            "CREATE TABLE grown (id BIGINT PRIMARY KEY)",
            "CREATE TABLE doubled (id BIGINT PRIMARY KEY)",
            "CREATE TABLE shrunk (id BIGINT PRIMARY KEY)",
            "INSERT INTO updated SELECT generate_series(1, 5000), 'open'",
            "INSERT INTO grown SELECT generate_series(1, 5000)",
            "INSERT INTO doubled SELECT generate_series(1, 5000)",
            "INSERT INTO shrunk SELECT generate_series(1, 5000)",
            // The inserts counted before the analyses, which then forget them.
            "SELECT pg_stat_force_next_flush()",
            "ANALYZE updated, grown, doubled, shrunk",
            // Every row changed twice over, none added: ten times what
            // autovacuum's analyse would wait for.
            "UPDATE updated SET status = 'checking_out'",
            "UPDATE updated SET status = 'paid'",
            // Twelve times what autovacuum's analyse would wait for.
            "INSERT INTO grown SELECT generate_series(5001, 5600)",
            "INSERT INTO doubled SELECT generate_series(5001, 10100)",
            "DELETE FROM shrunk WHERE id > 1000",
            "SELECT pg_stat_force_next_flush()",
        ],
    )
    .await;
    let modified: i64 =
        sqlx::query_scalar("SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'updated'")
            .fetch_one(&mut *connection)
            .await
            .expect("table statistics");

    let analysed = analyze_changed(&pool).await.expect("analysed");

    assert_eq!(modified, 10_000);
    assert_eq!(analysed, vec!["public.doubled".to_owned()]);
}
