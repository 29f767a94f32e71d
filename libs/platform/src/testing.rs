//! Helpers for integration tests: a fresh database per test, as the services
//! get one in production, migrated the same way.
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::database::{DatabaseSettings, connect_and_migrate};

/// A database of its own on the local server (or `DATABASE_URL`'s), named
/// `<prefix>_test_<uuid>` so that `make test` can drop those of earlier runs.
pub async fn fresh_pool(prefix: &str, migrators: &[&Migrator]) -> PgPool {
    let name = fresh_database_name(prefix);
    let settings = DatabaseSettings::from_env("postgres")
        .expect("database settings")
        .with_database(&name);
    connect_and_migrate(&settings, migrators)
        .await
        .expect("a fresh test database (is PostgreSQL running?)")
}

pub fn fresh_database_name(prefix: &str) -> String {
    format!("{prefix}_test_{:032x}", fastrand::u128(..))
}
