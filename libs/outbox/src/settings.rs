//! Broker and relay settings, from the environment with local defaults.
use std::time::Duration;

use platform::secret::SecretUrl;
use platform::settings::{SettingError, env_or, env_string};

/// How to reach RabbitMQ and how the topology is named and shaped.
#[derive(Debug, Clone)]
pub struct BrokerSettings {
    /// `AMQP_URL`; it may hold a password, which `Debug` masks.
    pub url: SecretUrl,
    /// `AMQP_NAMESPACE`: prefix of every exchange and queue name. Tests use a
    /// fresh one each, as they use a fresh database.
    pub namespace: String,
    /// `AMQP_PREFETCH`: unacknowledged deliveries a consumer may hold; bounds
    /// its memory. Twice the batch, so that the next batch arrives while
    /// one is being applied.
    pub prefetch: u16,
    /// `AMQP_QUEUE_TYPE`: `quorum` (replicated, the default) or `classic`.
    pub queue_type: String,
    /// `AMQP_QUEUE_EXPIRES_MS`: unused queues vanish after this long; unset in
    /// production, set by tests so their queues do not pile up.
    pub queue_expires: Option<Duration>,
    /// `AMQP_RETRY_DELAY_MS`: how long a failed message waits before it is
    /// delivered again.
    pub retry_delay: Duration,
    /// `AMQP_MAX_DELIVERIES`: after this many failed deliveries a message is
    /// parked instead of retried.
    pub max_deliveries: u32,
    /// `AMQP_DELIVERY_LIMIT` (50): the broker's own bound on how often a
    /// quorum queue hands out one message that comes back unacknowledged (a
    /// consumer lost with it, a requeue). Past it the broker moves the
    /// message to the parking lot, never drops it. Set explicitly because
    /// RabbitMQ 4 otherwise drops after 20.
    pub delivery_limit: u32,
    /// `AMQP_TRANSIENT_RETRY_MAX_MS`: the longest pause between two tries of
    /// a message whose handling failed for want of the database (or another
    /// transient fault, see `platform::failure`). Such tries are not counted:
    /// the message waits in the consumer for as long as the fault lasts.
    pub transient_retry_max: Duration,
    /// `AMQP_CONSUMER_BATCH`: at most this many deliveries, of those already
    /// received, are applied in one database transaction and acked together.
    pub consumer_batch: usize,
}

impl BrokerSettings {
    pub fn from_env() -> Result<Self, SettingError> {
        let expires: u64 = env_or("AMQP_QUEUE_EXPIRES_MS", 0)?;
        Ok(BrokerSettings {
            url: env_string("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f").into(),
            namespace: env_string("AMQP_NAMESPACE", "webshop"),
            prefetch: env_or("AMQP_PREFETCH", 256)?,
            queue_type: env_string("AMQP_QUEUE_TYPE", "quorum"),
            queue_expires: (expires > 0).then(|| Duration::from_millis(expires)),
            retry_delay: Duration::from_millis(env_or("AMQP_RETRY_DELAY_MS", 1000)?),
            max_deliveries: env_or("AMQP_MAX_DELIVERIES", 5)?,
            delivery_limit: env_or("AMQP_DELIVERY_LIMIT", 50)?,
            consumer_batch: env_or("AMQP_CONSUMER_BATCH", 128)?,
            transient_retry_max: Duration::from_millis(env_or("AMQP_TRANSIENT_RETRY_MAX_MS", 5000)?),
        })
    }

    /// The broker-side name of an exchange or queue.
    pub fn name(&self, local: &str) -> String {
        format!("{}.{local}", self.namespace)
    }
}

/// How the relay batches and how long it sleeps when nothing wakes it.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    /// `OUTBOX_BATCH_SIZE`: rows claimed and published per round trip.
    pub batch_size: i64,
    /// `OUTBOX_POLL_INTERVAL_MS`: how often the relay sweeps for rows no
    /// live process handed over.
    pub poll_interval: Duration,
    /// `OUTBOX_SWEEP_AFTER_MS`: a row this old is taken by any relay's sweep;
    /// younger rows are left to the process that committed them. Rows a
    /// killed process left go out this long after their commit.
    pub sweep_after: Duration,
    /// `OUTBOX_MAX_BACKOFF_MS`: the longest pause after repeated failures.
    pub max_backoff: Duration,
    /// `OUTBOX_DELETE_AFTER_MS`: how long published rows may wait to be
    /// deleted together (or until a batch's worth have gathered). One
    /// delete a round trip per many events instead of one per event; a
    /// process that dies meanwhile leaves them to be published again, which
    /// consumers skip.
    pub delete_after: Duration,
    /// `OUTBOX_CONFIRM_TIMEOUT_MS` (10000): the longest a relay waits for
    /// the broker to take and confirm a batch (a broker under a memory alarm
    /// blocks publishers for as long as it lasts). Past it the batch counts
    /// as not published: its rows stay in the outbox and go out again, and
    /// the connection is opened afresh. A sweep's claim on its rows ends
    /// with its transaction, which PostgreSQL also ends after twice this
    /// long idle, should the relay hang.
    pub confirm_timeout: Duration,
}

impl RelaySettings {
    pub fn from_env() -> Result<Self, SettingError> {
        Ok(RelaySettings {
            batch_size: env_or("OUTBOX_BATCH_SIZE", 200)?,
            poll_interval: Duration::from_millis(env_or("OUTBOX_POLL_INTERVAL_MS", 1000)?),
            sweep_after: Duration::from_millis(env_or("OUTBOX_SWEEP_AFTER_MS", 3000)?),
            max_backoff: Duration::from_millis(env_or("OUTBOX_MAX_BACKOFF_MS", 5000)?),
            delete_after: Duration::from_millis(env_or("OUTBOX_DELETE_AFTER_MS", 100)?),
            confirm_timeout: Duration::from_millis(env_or("OUTBOX_CONFIRM_TIMEOUT_MS", 10_000)?),
        })
    }
}

impl BrokerSettings {
    /// The same broker with a namespace of its own whose queues expire when
    /// unused: what each integration test gets, as it gets its own database.
    pub fn isolated(mut self) -> Self {
        self.namespace = format!("test-{}", uuid::Uuid::new_v4().simple());
        self.queue_expires = Some(Duration::from_secs(120));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "amqp://app:s3cret-pw@rabbit.internal:5672/%2f";

    fn settings() -> BrokerSettings {
        let mut settings = BrokerSettings::from_env().expect("settings from the environment");
        settings.url = URL.into();
        settings
    }

    #[test]
    fn debug_masks_the_password_and_shows_the_broker() {
        let printed = format!("{:?}", settings());

        assert!(!printed.contains("s3cret-pw"), "{printed}");
        assert!(printed.contains("app:***@rabbit.internal:5672"), "{printed}");
    }

    #[test]
    fn the_connection_gets_the_real_url() {
        assert_eq!(settings().url.expose_secret(), URL);
    }
}
