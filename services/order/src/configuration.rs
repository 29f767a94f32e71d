use std::time::Duration;

use idempotency::messaging::MessagingSettings;
use platform::database::DatabaseSettings;
use platform::http::HttpSettings;
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
    pub database: DatabaseSettings,
    pub messaging: MessagingSettings,
    pub peers: PeerSettings,
    /// `CHECKOUT_TIMEOUT_SECS` (60): the longest a checkout request waits
    /// for its saga before answering 503; the saga goes on regardless.
    pub checkout_timeout: Duration,
}

/// Where the stock and payment services answer, and how long to wait for them.
#[derive(Debug, Clone)]
pub struct PeerSettings {
    /// `STOCK_URL`, without the `/stock` prefix.
    pub stock_url: String,
    /// `PAYMENT_URL`, without the `/payment` prefix.
    pub payment_url: String,
    /// `PEER_TIMEOUT_MS`: a peer slower than this makes the request fail with
    /// 503 rather than hold a client and a connection indefinitely.
    pub timeout: Duration,
}

impl Settings {
    pub fn from_env() -> Result<Self, SettingError> {
        Ok(Settings {
            http: HttpSettings::from_env(DEFAULT_PORT)?,
            database: DatabaseSettings::from_env("order_db")?,
            messaging: MessagingSettings::from_env()?,
            peers: PeerSettings {
                stock_url: env_string("STOCK_URL", DEFAULT_PEER_URL),
                payment_url: env_string("PAYMENT_URL", DEFAULT_PEER_URL),
                timeout: Duration::from_millis(env_or("PEER_TIMEOUT_MS", 5000)?),
            },
            checkout_timeout: Duration::from_secs(env_or("CHECKOUT_TIMEOUT_SECS", 60)?),
        })
    }
}
