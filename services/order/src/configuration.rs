use std::str::FromStr;
use std::time::Duration;

use idempotency::messaging::MessagingSettings;
use platform::database::DatabaseSettings;
use platform::http::HttpSettings;
use platform::secret::redact;
use platform::settings::{SettingError, env_or, env_string};

/// The port `make up` gives the first order replica; the default for running
/// the service alone.
pub const DEFAULT_PORT: u16 = 8101;

/// The gateway: it spreads calls over the peers' replicas and retries a
/// refused connection on another one.
const DEFAULT_PEER_URL: &str = "http://127.0.0.1:8000";

#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpSettings,
    /// `ORDER_STORE`: which database holds the orders.
    pub store: StoreKind,
    /// The PostgreSQL database, used when `store` is `Postgres`.
    pub database: DatabaseSettings,
    /// The MongoDB database, used when `store` is `MongoDb`.
    pub mongodb: MongoSettings,
    pub messaging: MessagingSettings,
    pub peers: PeerSettings,
    /// `CHECKOUT_TIMEOUT_SECS` (60): the longest a checkout request waits
    /// for its saga before answering 503; the saga goes on regardless.
    pub checkout_timeout: Duration,
    /// `SAGA_REDRIVE_AFTER_MS` (10000): a saga with no progress for this
    /// long is driven again from its start (see `checkout::watchdog`).
    pub saga_redrive_after: Duration,
}

/// Where the stock and payment services answer, and how long to wait for them.
#[derive(Clone)]
pub struct PeerSettings {
    /// `STOCK_URL`, without the `/stock` prefix. It may hold a password (sent
    /// as basic authentication), which `Debug` masks.
    pub stock_url: String,
    /// `PAYMENT_URL`, without the `/payment` prefix; masked as `stock_url`.
    pub payment_url: String,
    /// `PEER_TIMEOUT_MS`: a peer slower than this makes the request fail with
    /// 503 rather than hold a client and a connection indefinitely.
    pub timeout: Duration,
}

/// The databases the order service can keep its orders in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// `postgres`, the default: what the stock and payment services use too.
    Postgres,
    /// `mongodb`: orders sharded by a hashed order id. Only in a build with
    /// the `mongodb` feature; start-up fails otherwise.
    MongoDb,
}

impl FromStr for StoreKind {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "postgres" => Ok(StoreKind::Postgres),
            "mongodb" => Ok(StoreKind::MongoDb),
            other => Err(format!(
                "unknown order store {other:?}: expected postgres or mongodb"
            )),
        }
    }
}

/// Where the MongoDB store lives.
#[derive(Clone)]
pub struct MongoSettings {
    /// `MONGODB_URL` (`mongodb://127.0.0.1:27017`); it may hold a password,
    /// which `Debug` masks.
    pub url: String,
    /// `MONGODB_DATABASE` (`order_db`).
    pub database: String,
}

impl MongoSettings {
    pub fn from_env() -> Self {
        MongoSettings {
            url: env_string("MONGODB_URL", "mongodb://127.0.0.1:27017"),
            database: env_string("MONGODB_DATABASE", "order_db"),
        }
    }
}

// The URLs stay `String`s rather than `SecretUrl`s because tests point
// them at servers of their own by assigning strings.
impl std::fmt::Debug for MongoSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoSettings")
            .field("url", &redact(&self.url))
            .field("database", &self.database)
            .finish()
    }
}

impl std::fmt::Debug for PeerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerSettings")
            .field("stock_url", &redact(&self.stock_url))
            .field("payment_url", &redact(&self.payment_url))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Settings {
    pub fn from_env() -> Result<Self, SettingError> {
        Ok(Settings {
            http: HttpSettings::from_env(DEFAULT_PORT)?,
            store: env_or("ORDER_STORE", StoreKind::Postgres)?,
            database: DatabaseSettings::from_env("order")?,
            mongodb: MongoSettings::from_env(),
            messaging: MessagingSettings::from_env()?,
            peers: PeerSettings {
                stock_url: env_string("STOCK_URL", DEFAULT_PEER_URL),
                payment_url: env_string("PAYMENT_URL", DEFAULT_PEER_URL),
                timeout: Duration::from_millis(env_or("PEER_TIMEOUT_MS", 5000)?),
            },
            checkout_timeout: Duration::from_secs(env_or("CHECKOUT_TIMEOUT_SECS", 60)?),
            saga_redrive_after: Duration::from_millis(env_or("SAGA_REDRIVE_AFTER_MS", 10_000)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cret-pw";

    #[test]
    fn the_store_is_postgres_or_mongodb_and_nothing_else() {
        assert_eq!("postgres".parse(), Ok(StoreKind::Postgres));
        assert_eq!("mongodb".parse(), Ok(StoreKind::MongoDb));
        assert!("mongo".parse::<StoreKind>().is_err());
        assert!("Postgres".parse::<StoreKind>().is_err());
    }

    #[test]
    fn the_mongodb_password_stays_out_of_debug_output() {
        let url = format!("mongodb://admin:{SECRET}@m1:27017,m2:27017/?replicaSet=rs0");
        let settings = MongoSettings {
            url: url.clone(),
            database: "order_db".into(),
        };

        let printed = format!("{settings:?}");

        assert!(!printed.contains(SECRET), "{printed}");
        assert!(printed.contains("admin:***@m1:27017,m2:27017"), "{printed}");
        assert!(printed.contains("order_db"));
        assert_eq!(settings.url, url, "the driver is given the real URL");
    }

    #[test]
    fn no_password_of_the_environment_shows_in_the_settings_debug_output() {
        let mut settings = Settings::from_env().expect("settings from the environment");
        settings.database.options = format!("postgres://app:{SECRET}@pg.internal:5432/order_db")
            .parse()
            .expect("a valid URL");
        settings.messaging.broker.urls = vec![format!("amqp://app:{SECRET}@rabbit.internal:5672/%2f").into()];
        settings.mongodb.url = format!("mongodb://app:{SECRET}@mongo.internal:27017");
        settings.peers.stock_url = format!("http://app:{SECRET}@stock.internal:8000");
        settings.peers.payment_url = format!("http://app:{SECRET}@payment.internal:8000");

        let printed = format!("{settings:?}");

        // `s3cret` also rules out sqlx's percent-encoded `s3cret%2Dpw`.
        assert!(!printed.contains("s3cret"), "{printed}");
        for host in [
            "pg.internal",
            "rabbit.internal",
            "mongo.internal",
            "stock.internal",
            "payment.internal",
        ] {
            assert!(
                printed.contains(&format!("app:***@{host}")),
                "{host} in {printed}"
            );
        }
    }
}
