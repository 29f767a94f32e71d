use std::sync::Arc;

use order::configuration::{Settings, StoreKind};
use order::storage::OrderStore;

/// The PostgreSQL store on a fresh database.
pub async fn postgres() -> Arc<dyn OrderStore> {
    let mut settings = settings();
    let database = platform::testing::fresh_database_name("order");
    settings.database = platform::testing::database(&database);
    settings.database.max_connections = 4;
    open(settings).await
}

/// The MongoDB store on a fresh database of `MONGODB_URL`'s server, or
/// `None`, said on stderr, when there is none to test against.
pub async fn mongodb() -> Option<Arc<dyn OrderStore>> {
    let Some(url) = std::env::var("MONGODB_URL").ok().filter(|url| !url.is_empty()) else {
        eprintln!("SKIPPED: MONGODB_URL not set; the MongoDB order store was not tested");
        return None;
    };
    if !cfg!(feature = "mongodb") {
        eprintln!("SKIPPED: built without `--features mongodb`; the MongoDB order store was not tested");
        return None;
    }
    let mut settings = settings();
    settings.store = StoreKind::MongoDb;
    settings.mongodb.url = url;
    settings.mongodb.database = platform::testing::fresh_database_name("order");
    Some(open(settings).await)
}

fn settings() -> Settings {
    platform::telemetry::init_for_tests("order");
    let mut settings = Settings::from_env().expect("settings from the environment");
    settings.store = StoreKind::Postgres;
    settings
}

async fn open(settings: Settings) -> Arc<dyn OrderStore> {
    order::storage::open(&settings)
        .await
        .expect("the store opens (is its database running?)")
        .store
}
