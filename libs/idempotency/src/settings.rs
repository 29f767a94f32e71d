use std::time::Duration;

use platform::settings::{SettingError, env_or};

/// How long dedup records are kept.
#[derive(Debug, Clone)]
pub struct RetentionSettings {
    /// `INBOX_RETENTION_HOURS` (168): must exceed the longest time a message
    /// can be redelivered or republished after it was first applied, which
    /// is bounded by the retries (seconds) and by outages (hours).
    pub inbox: Duration,
    /// `IDEMPOTENCY_KEY_RETENTION_HOURS` (24): how long a client may retry a
    /// request with the same key and get the first answer.
    pub keys: Duration,
    /// `PRUNE_INTERVAL_SECS` (600): how often expired rows are deleted.
    pub prune_interval: Duration,
}

impl RetentionSettings {
    pub fn from_env() -> Result<Self, SettingError> {
        let hours = |h: u64| Duration::from_secs(h * 3600);
        Ok(RetentionSettings {
            inbox: hours(env_or("INBOX_RETENTION_HOURS", 168)?),
            keys: hours(env_or("IDEMPOTENCY_KEY_RETENTION_HOURS", 24)?),
            prune_interval: Duration::from_secs(env_or("PRUNE_INTERVAL_SECS", 600)?),
        })
    }
}
