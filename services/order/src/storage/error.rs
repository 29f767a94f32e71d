//! What a store's database reported. The API error carries it as one
//! variant whichever store is in use; the driver's error stays its source,
//! so `platform::failure` can still tell a fault worth retrying.
use platform::database::DbError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("PostgreSQL")]
    Postgres(#[source] DbError),
    #[cfg(feature = "mongodb")]
    #[error("MongoDB")]
    MongoDb(#[source] mongodb::error::Error),
}
