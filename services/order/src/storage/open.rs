use std::sync::Arc;

use idempotency::membership::{Membership, PgMembership};
use sqlx::PgPool;

use super::postgres::PostgresStore;
use super::{OrderStore, StoreChores};
use crate::configuration::{Settings, StoreKind};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A store ready to serve.
#[derive(Debug)]
pub struct Opened {
    pub store: Arc<dyn OrderStore>,
    /// The loops the store needs, for `startup` to run.
    pub chores: Arc<dyn StoreChores>,
    /// Where the consumer beats to learn its partitions.
    pub membership: Arc<dyn Membership>,
    /// The PostgreSQL store's pool, which tests read directly; `None` for
    /// other stores.
    pub pool: Option<PgPool>,
}

/// Opens the store `settings.store` names: creates its database and schema
/// (tables or collections and indexes) when they are missing.
pub async fn open(settings: &Settings) -> anyhow::Result<Opened> {
    match settings.store {
        StoreKind::Postgres => {
            let migrators = [&MIGRATOR, &outbox::MIGRATOR, &idempotency::MIGRATOR];
            let pool = platform::database::connect_and_migrate(&settings.database, &migrators).await?;
            tracing::info!(
                database = settings.database.database_name(),
                "order store: PostgreSQL"
            );
            let store = PostgresStore::new(pool.clone());
            Ok(Opened {
                chores: Arc::new(store.chores()),
                store: Arc::new(store),
                membership: Arc::new(PgMembership::new(&pool)),
                pool: Some(pool),
            })
        }
        StoreKind::MongoDb => open_mongodb(settings).await,
    }
}

#[cfg(feature = "mongodb")]
async fn open_mongodb(settings: &Settings) -> anyhow::Result<Opened> {
    use mongodb::error::ErrorKind;
    let store = super::mongo::MongoStore::open(&settings.mongodb, &settings.messaging.retention)
        .await
        .map_err(|error| {
            // No server answered: say so first, so an operator looks at the
            // network or MONGODB_URL's hosts rather than at the settings. The
            // driver's message names the hosts it tried, never the password.
            let unreachable = matches!(*error.kind, ErrorKind::ServerSelection { .. });
            let database = &settings.mongodb.database;
            anyhow::Error::new(error).context(if unreachable {
                format!("cannot reach MongoDB (MONGODB_URL) for the order store {database:?}")
            } else {
                format!("could not open the MongoDB order store {database:?}")
            })
        })?;
    tracing::info!(database = %settings.mongodb.database, "order store: MongoDB");
    Ok(Opened {
        chores: Arc::new(store.chores()),
        membership: Arc::new(store.membership()),
        store: Arc::new(store),
        pool: None,
    })
}

#[cfg(not(feature = "mongodb"))]
async fn open_mongodb(_settings: &Settings) -> anyhow::Result<Opened> {
    anyhow::bail!(
        "ORDER_STORE=mongodb, but this order service was built without its MongoDB store; \
         build it with `cargo build-services` (.cargo/config.toml)"
    )
}

#[cfg(all(test, not(feature = "mongodb")))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_build_without_the_feature_refuses_mongodb_at_start_up() {
        let mut settings = Settings::from_env().expect("settings");
        settings.store = StoreKind::MongoDb;

        let error = open(&settings).await.expect_err("no MongoDB store in this build");

        assert!(error.to_string().contains("cargo build-services"), "{error}");
    }
}
