//! The MongoDB database: connecting, the collections, their indexes, and
//! the orders' sharding where the server is a sharded cluster (`shard_setup`).
use std::time::Duration;

use idempotency::RetentionSettings;
use mongodb::bson::{Document, doc};
use mongodb::error::{Error, ErrorKind};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};

use super::shard_setup;
use super::sharding::ShardingError;
use crate::configuration::MongoSettings;

/// A request waits this long for a reachable server before it answers 503,
/// unless `MONGODB_URL` sets `serverSelectionTimeoutMS`; the driver's own
/// default of 30 s would hold clients far longer than the gateway waits.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// An index of that name exists with other options, e.g. a TTL changed by a
/// new retention setting.
const INDEX_OPTIONS_CONFLICT: i32 = 85;

/// Why the store could not be prepared: the server failed, or the orders
/// are not sharded as the service needs on a sharded cluster.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Driver(#[from] Error),
    #[error(transparent)]
    Sharding(#[from] ShardingError),
}

/// `MongoStore::open` answers the driver's error: a failure of the server
/// stays itself (an unreachable one is told apart), a sharding refusal
/// carries its one-line explanation as the driver's custom error.
impl From<SetupError> for Error {
    fn from(error: SetupError) -> Self {
        match error {
            SetupError::Driver(error) => error,
            SetupError::Sharding(error) => Error::custom(error.to_string()),
        }
    }
}

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
    pub async fn prepare(&self, retention: &RetentionSettings) -> Result<(), SetupError> {
        shard_setup::ensure(self).await?;
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
        .await?;
        Ok(())
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

pub(super) fn command_code(error: &Error) -> Option<i32> {
    match error.kind.as_ref() {
        ErrorKind::Command(failure) => Some(failure.code),
        _ => None,
    }
}
