//! Broker and relay settings, from the environment with local defaults.
use std::num::NonZeroU16;
use std::time::Duration;

use lapin::uri::AMQPUri;
use platform::secret::SecretUrl;
use platform::settings::{SettingError, env_or, env_string};

use crate::partitions::Partitions;

/// How to reach RabbitMQ and how the topology is named and shaped.
#[derive(Debug, Clone)]
pub struct BrokerSettings {
    /// `AMQP_URL`: one broker address, or the nodes of a cluster separated
    /// by commas, tried in turn from a random one, so that a process moves
    /// to a live node when its own dies. They may hold a password, which
    /// `Debug` masks.
    pub urls: Vec<SecretUrl>,
    /// `AMQP_HEARTBEAT_SECS` (10): the AMQP heartbeat, unless a URL sets
    /// `heartbeat=`. A peer silent for two of them is taken for dead, by the
    /// broker (which then hands the process's partitions to the replica
    /// waiting behind it) and by the process (which reconnects). RabbitMQ's
    /// own default, 60 s, left a paused replica's partitions unconsumed for
    /// two minutes.
    pub heartbeat_secs: u16,
    /// `AMQP_PARTITIONS` (8): how many partitions, each a queue, every saga
    /// stream is split into. Every process of the system must have the same.
    pub partitions: Partitions,
    /// `AMQP_PARTITION_LEASE_MS` (3000): a replica that has not said it is
    /// alive for this long loses its partitions to the others.
    pub partition_lease: Duration,
    /// `AMQP_NAMESPACE`: prefix of every exchange and queue name. Tests use a
    /// fresh one each, as they use a fresh database.
    pub namespace: String,
    /// `AMQP_PREFETCH`: unacknowledged deliveries a consumer may hold; bounds
    /// its memory. Twice the batch, so that the next batch arrives while
    /// one is being applied.
    pub prefetch: u16,
    /// `AMQP_QUEUE_TYPE`: `quorum` (replicated, the default) or `classic`.
    pub queue_type: String,
    /// `AMQP_DELAY_QUEUE_TYPE` (`AMQP_QUEUE_TYPE`'s): the type of the queue
    /// where retried messages wait out their delay.
    pub delay_queue_type: String,
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
        let queue_type = env_string("AMQP_QUEUE_TYPE", "quorum");
        Ok(BrokerSettings {
            urls: broker_urls(&env_string("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f"))?,
            heartbeat_secs: env_or("AMQP_HEARTBEAT_SECS", 10)?,
            partitions: env_or("AMQP_PARTITIONS", DEFAULT_PARTITIONS)?,
            partition_lease: Duration::from_millis(env_or("AMQP_PARTITION_LEASE_MS", 3000)?),
            namespace: env_string("AMQP_NAMESPACE", "webshop"),
            prefetch: env_or("AMQP_PREFETCH", 256)?,
            queue_type: queue_type.clone(),
            delay_queue_type: env_string("AMQP_DELAY_QUEUE_TYPE", &queue_type),
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

    /// The addresses to connect to, each with the heartbeat and a connection
    /// timeout set unless the URL sets its own: a node that does not answer
    /// is given up after 5 s for the next one.
    pub fn uris(&self) -> Vec<AMQPUri> {
        self.urls
            .iter()
            .filter_map(|url| url.expose_secret().parse::<AMQPUri>().ok())
            .map(|mut uri| {
                uri.query.heartbeat.get_or_insert(self.heartbeat_secs);
                uri.query.connection_timeout.get_or_insert(5000);
                uri
            })
            .collect()
    }
}

/// Eight partitions spread evenly over one, two, four or eight replicas.
const DEFAULT_PARTITIONS: Partitions = Partitions::new(NonZeroU16::new(8).expect("not zero"));

/// `AMQP_URL` split at commas, each address checked to be an AMQP URL.
fn broker_urls(value: &str) -> Result<Vec<SecretUrl>, SettingError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .map(|url| match url.parse::<AMQPUri>() {
            Ok(_) => Ok(SecretUrl::from(url)),
            Err(reason) => Err(SettingError {
                name: "AMQP_URL".into(),
                value: SecretUrl::from(url).to_string(),
                reason,
            }),
        })
        .collect()
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
    /// One partition a stream: every quorum queue is a Raft group of its
    /// own, and RabbitMQ 3.10 took seconds to create the many a test suite's
    /// namespaces would need with more, which made tests that wait for a
    /// consumer time out; a test about partitions sets its own.
    pub fn isolated(mut self) -> Self {
        self.namespace = format!("test-{}", uuid::Uuid::new_v4().simple());
        self.queue_expires = Some(Duration::from_secs(120));
        self.partitions = "1".parse().expect("one partition");
        // A test suite creates and expires thousands of queues on one node;
        // with its delay queues quorum ones too, RabbitMQ 3.10 stalled for
        // a minute at a time while it deleted them.
        self.delay_queue_type = "classic".into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "amqp://app:s3cret-pw@rabbit.internal:5672/%2f";

    fn settings() -> BrokerSettings {
        let mut settings = BrokerSettings::from_env().expect("settings from the environment");
        settings.urls = vec![URL.into()];
        settings
    }

    #[test]
    fn debug_masks_the_password_and_shows_the_broker() {
        let printed = format!("{:?}", settings());

        assert!(!printed.contains("s3cret-pw"), "{printed}");
        assert!(printed.contains("app:***@rabbit.internal:5672"), "{printed}");
    }

    #[test]
    fn the_connection_gets_the_real_url_with_a_heartbeat() {
        let uris = settings().uris();

        assert_eq!(uris.len(), 1);
        assert_eq!(uris[0].authority.userinfo.password, "s3cret-pw");
        assert_eq!(uris[0].query.heartbeat, Some(10));
    }

    #[test]
    fn a_cluster_is_a_list_of_addresses_and_a_url_keeps_its_own_heartbeat() {
        let urls = broker_urls("amqp://a:5681/%2f, amqp://b:5682/%2f?heartbeat=3,").expect("two URLs");
        let mut settings = settings();
        settings.urls = urls;

        let uris = settings.uris();

        let ports: Vec<u16> = uris.iter().map(|u| u.authority.port).collect();
        assert_eq!(ports, [5681, 5682]);
        assert_eq!(uris[1].query.heartbeat, Some(3));
    }

    #[test]
    fn an_address_that_is_not_amqp_is_refused_without_its_password() {
        let error = broker_urls("amqp://a/%2f,http://u:pw@b").expect_err("not AMQP");

        assert!(!error.to_string().contains("pw@"), "{error}");
    }
}
