//! Helpers for integration tests: a fresh database per test, as the services
//! get one in production, migrated the same way.
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::database::{DatabaseSettings, connect_and_migrate};

/// The server the tests create their databases on: `TEST_DATABASE_URL`, by
/// default the developer machine's server as its superuser, which may
/// create and drop databases, with the password from `PGPASSWORD` or
/// `~/.pgpass` where the server asks for one (`make test` passes the one
/// `deploy/local/infra.sh` sets). Tests never read `DATABASE_URL`: a
/// service's default names its own role, which a test machine need not
/// have.
pub fn server() -> DatabaseSettings {
    let url = crate::settings::env_string("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres");
    DatabaseSettings::from_url("TEST_DATABASE_URL", &url).expect("test database settings")
}

/// [`server`] with the database `name`, which the service's start-up
/// creates: a service under test gets these as its database settings.
pub fn database(name: &str) -> DatabaseSettings {
    server().with_database(name)
}

/// A database of its own on the test server ([`server`]), named
/// `<prefix>_test_<uuid>` so that `make test` can drop those of earlier runs.
pub async fn fresh_pool(prefix: &str, migrators: &[&Migrator]) -> PgPool {
    let name = fresh_database_name(prefix);
    let settings = database(&name);
    connect_and_migrate(&settings, migrators)
        .await
        .expect("a fresh test database (is PostgreSQL running?)")
}

pub fn fresh_database_name(prefix: &str) -> String {
    format!("{prefix}_test_{:032x}", fastrand::u128(..))
}

/// Drops the database `pool` is connected to, closing its connections: what
/// a test does to see how a service behaves when its database is gone.
pub async fn drop_database(pool: &PgPool) {
    let name = sqlx::query_scalar!(r#"SELECT current_database() AS "name!""#)
        .fetch_one(pool)
        .await
        .expect("database name");
    let options = pool.connect_options().as_ref().clone().database("postgres");
    let admin = PgPool::connect_with(options)
        .await
        .expect("maintenance connection");
    let quoted = name.replace('"', "\"\"");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE \"{quoted}\" WITH (FORCE)"
    )))
    .execute(&admin)
    .await
    .expect("database dropped");
}

/// Waits (at most `seconds`) until `condition` holds, and fails the test
/// if it never does.
pub async fn wait_until<F, Fut>(seconds: u64, condition: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let reached = eventually(std::time::Duration::from_secs(seconds), condition).await;
    assert!(reached, "condition not reached within {seconds} s");
}

/// Polls `probe` every 20 ms until it returns `true`, for at most `limit`;
/// `false` if it never did. For conditions a background task brings about.
pub async fn eventually<F, Fut>(limit: std::time::Duration, probe: F) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if probe().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
