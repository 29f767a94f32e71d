use platform::secret::SecretUrl;
use serde::de::IgnoredAny;

use super::PeerError;
use super::lookup::get_json;
use crate::domain::UserId;

#[derive(Debug, Clone)]
pub struct PaymentClient {
    http: reqwest::Client,
    /// `Debug` masks a password in it.
    base_url: SecretUrl,
}

impl PaymentClient {
    pub fn new(http: reqwest::Client, base_url: &str) -> Self {
        PaymentClient {
            http,
            base_url: base_url.trim_end_matches('/').into(),
        }
    }

    #[tracing::instrument(skip(self))]
    pub async fn user_exists(&self, user: &UserId) -> Result<bool, PeerError> {
        let url = format!("{}/payment/find_user/{user}", self.base_url.expose_secret());
        let user: Option<IgnoredAny> = get_json(&self.http, "payment", url).await?;
        Ok(user.is_some())
    }
}
