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
