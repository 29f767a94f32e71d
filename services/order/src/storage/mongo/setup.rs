//! The MongoDB database: connecting, the collections, their indexes, and
//! sharding the orders where the server is a sharded cluster.
use std::time::Duration;

use idempotency::RetentionSettings;
use mongodb::bson::{Document, doc};
use mongodb::error::{Error, ErrorKind};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};

use crate::configuration::MongoSettings;

/// A request waits this long for a reachable server before it answers 503,
/// unless `MONGODB_URL` sets `serverSelectionTimeoutMS`; the driver's own
/// default of 30 s would hold clients far longer than the gateway waits.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// Server codes that mean "already so": sharding enabled or a collection
/// already sharded with the same key.
const ALREADY_INITIALIZED: i32 = 23;

/// An index of that name exists with other options, e.g. a TTL changed by a
/// new retention setting.
const INDEX_OPTIONS_CONFLICT: i32 = 85;

/// The collections of the order store.
#[derive(Debug, Clone)]
pub struct Collections {
    pub client: Client,
    pub database: Database,
    /// One document per order, its saga state and timeline included.
    pub orders: Collection<Document>,
    /// Events waiting for the relay.
    pub outbox: Collection<Document>,
    /// Which relay publishes which aggregate's events, until when.
    pub outbox_leases: Collection<Document>,
    /// `(consumer, message id)` of every applied message, expiring by TTL.
    pub inbox: Collection<Document>,
    /// `Idempotency-Key`s and their answers, expiring by TTL.
    pub idempotency_keys: Collection<Document>,
}

impl Collections {
    pub async fn connect(settings: &MongoSettings) -> Result<Self, Error> {
        let mut options = ClientOptions::parse(settings.url.as_str()).await?;
        options
            .server_selection_timeout
            .get_or_insert(SERVER_SELECTION_TIMEOUT);
        options.app_name.get_or_insert_with(|| "order".into());
        let client = Client::with_options(options)?;
        let database = client.database(&settings.database);
        Ok(Collections {
            orders: database.collection("orders"),
            outbox: database.collection("outbox"),
            outbox_leases: database.collection("outbox_leases"),
            inbox: database.collection("inbox"),
            idempotency_keys: database.collection("idempotency_keys"),
            client,
            database,
        })
    }

    /// Creates what is missing; safe to run from every replica at once.
    pub async fn prepare(&self, retention: &RetentionSettings) -> Result<(), Error> {
        self.shard_orders().await?;
        let by_aggregate = IndexModel::builder()
            .keys(doc! { "aggregate_id": 1, "seq": 1 })
            .options(IndexOptions::builder().unique(true).build())
            .build();
        self.outbox.create_index(by_aggregate).await?;
        expire(&self.database, &self.inbox, "processed_at", retention.inbox).await?;
        expire(
            &self.database,
            &self.idempotency_keys,
            "created_at",
            retention.keys,
        )
        .await
    }

    /// Shards `orders` by a hashed `_id` when connected to a `mongos`; a
    /// replica set or a single server holds the collection whole.
    async fn shard_orders(&self) -> Result<(), Error> {
        let hello = self.database.run_command(doc! { "hello": 1 }).await?;
        if hello.get_str("msg") != Ok("isdbgrid") {
            tracing::info!("not a sharded cluster: the orders collection is not sharded");
            return Ok(());
        }
        let admin = self.client.database("admin");
        let name = self.database.name();
        already_ok(admin.run_command(doc! { "enableSharding": name }).await)?;
        let shard = doc! { "shardCollection": format!("{name}.orders"), "key": { "_id": "hashed" } };
        already_ok(admin.run_command(shard).await)?;
        tracing::info!("orders sharded by hashed order id");
        Ok(())
    }
}

fn already_ok(result: Result<Document, Error>) -> Result<(), Error> {
    match result {
        Err(error) if command_code(&error) == Some(ALREADY_INITIALIZED) => Ok(()),
        other => other.map(drop),
    }
}

/// A TTL index on `field`: the server deletes documents `after` that date,
/// so no pruner runs against MongoDB. A changed retention is applied to the
/// existing index.
async fn expire(
    database: &Database,
    collection: &Collection<Document>,
    field: &str,
    after: Duration,
) -> Result<(), Error> {
    let keys = doc! { field: 1 };
    let index = IndexModel::builder()
        .keys(keys.clone())
        .options(IndexOptions::builder().expire_after(after).build())
        .build();
    match collection.create_index(index).await {
        Err(error) if command_code(&error) == Some(INDEX_OPTIONS_CONFLICT) => {
            let seconds = i64::try_from(after.as_secs()).unwrap_or(i64::MAX);
            let index = doc! { "keyPattern": keys, "expireAfterSeconds": seconds };
            database
                .run_command(doc! { "collMod": collection.name(), "index": index })
                .await
                .map(drop)
        }
        other => other.map(drop),
    }
}

fn command_code(error: &Error) -> Option<i32> {
    match error.kind.as_ref() {
        ErrorKind::Command(failure) => Some(failure.code),
        _ => None,
    }
}
