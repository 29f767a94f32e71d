use idempotency::messaging::MessagingSettings;
use platform::database::DatabaseSettings;
use platform::http::HttpSettings;
use platform::settings::SettingError;

/// The port `make up` gives the first payment replica; the default for running
/// the service alone.
pub const DEFAULT_PORT: u16 = 8301;

#[derive(Debug, Clone)]
pub struct Settings {
    pub http: HttpSettings,
    pub database: DatabaseSettings,
    pub messaging: MessagingSettings,
}

impl Settings {
    pub fn from_env() -> Result<Self, SettingError> {
        Ok(Settings {
            http: HttpSettings::from_env(DEFAULT_PORT)?,
            database: DatabaseSettings::from_env("payment")?,
            messaging: MessagingSettings::from_env()?,
        })
    }
}
