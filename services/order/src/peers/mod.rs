//! HTTP clients of the stock and payment services, for the two requests that
//! need a peer's answer before they can change anything (creating an order,
//! adding a line). The checkout never uses them.
mod error;
mod lookup;
mod payment;
mod stock;

pub use error::PeerError;
pub use payment::PaymentClient;
pub use stock::StockClient;

use crate::configuration::PeerSettings;

/// Both clients share one connection pool.
#[derive(Debug, Clone)]
pub struct Peers {
    pub stock: StockClient,
    pub payment: PaymentClient,
}

impl Peers {
    pub fn new(settings: &PeerSettings) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .build()?;
        Ok(Peers {
            stock: StockClient::new(http.clone(), &settings.stock_url),
            payment: PaymentClient::new(http, &settings.payment_url),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn debug_masks_the_peers_passwords_and_shows_their_hosts() {
        let settings = PeerSettings {
            stock_url: "http://app:s3cret-pw@stock.internal:8000/".into(),
            payment_url: "http://app:s3cret-pw@payment.internal:8000".into(),
            timeout: Duration::from_secs(1),
        };

        let printed = format!("{:?}", Peers::new(&settings).expect("an HTTP client"));

        assert!(!printed.contains("s3cret-pw"), "{printed}");
        assert!(printed.contains("app:***@stock.internal:8000"), "{printed}");
        assert!(printed.contains("app:***@payment.internal:8000"), "{printed}");
    }
}
