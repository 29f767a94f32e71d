use platform::domain::Amount;
use platform::secret::SecretUrl;
use serde::Deserialize;

use super::PeerError;
use super::lookup::get_json;
use crate::domain::ItemId;

#[derive(Debug, Clone)]
pub struct StockClient {
    http: reqwest::Client,
    /// `Debug` masks a password in it.
    base_url: SecretUrl,
}

#[derive(Deserialize)]
struct StockLevel {
    price: i64,
}

impl StockClient {
    pub fn new(http: reqwest::Client, base_url: &str) -> Self {
        StockClient {
            http,
            base_url: base_url.trim_end_matches('/').into(),
        }
    }

    /// The item's current price, or `None` when the stock service does not
    /// know the item.
    #[tracing::instrument(skip(self))]
    pub async fn price(&self, item: &ItemId) -> Result<Option<Amount>, PeerError> {
        let url = format!("{}/stock/find/{item}", self.base_url.expose_secret());
        let level: Option<StockLevel> = get_json(&self.http, "stock", url).await?;
        // A negative price can only come from a broken peer; treat it as one.
        level
            .map(|l| Amount::try_from(l.price))
            .transpose()
            .map_err(|_| PeerError::UnexpectedAnswer {
                service: "stock",
                status: 200,
            })
    }
}
