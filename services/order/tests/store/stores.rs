use order::configuration::{Settings, StoreKind};
use order::storage::Opened;

/// The PostgreSQL store on a fresh database.
pub async fn postgres() -> Opened {
    let mut settings = settings();
    let database = platform::testing::fresh_database_name("order");
    settings.database = platform::testing::database(&database);
    settings.database.max_connections = 4;
    open(settings).await
}

/// The MongoDB store on a fresh database of `MONGODB_URL`'s server.
pub async fn mongodb() -> Opened {
    let url = std::env::var("MONGODB_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .expect("MONGODB_URL names the MongoDB replica set to test against");
    if !cfg!(feature = "mongodb") {
        panic!("the MongoDB store is tested only in a build with `--features mongodb`");
    }
    let mut settings = settings();
    settings.store = StoreKind::MongoDb;
    settings.mongodb.url = url;
    settings.mongodb.database = platform::testing::fresh_database_name("order");
    open(settings).await
}

fn settings() -> Settings {
    platform::telemetry::init_for_tests("order");
    let mut settings = Settings::from_env().expect("settings from the environment");
    settings.store = StoreKind::Postgres;
    settings
}

async fn open(settings: Settings) -> Opened {
    order::storage::open(&settings)
        .await
        .expect("the store opens (is its database running?)")
}
