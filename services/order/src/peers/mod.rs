//! HTTP clients of the stock and payment services, for the two requests that
//! need a peer's answer before they can change anything (creating an order,
//! adding a line). The checkout never uses them.
mod error;
mod lookup;
mod payment;
mod resolver;
mod stock;

use std::future::Future;
use std::sync::Arc;

pub use error::PeerError;
pub use payment::PaymentClient;
pub use stock::StockClient;

use resolver::RememberingResolver;

use crate::configuration::PeerSettings;

/// Both clients share one connection pool, and one resolver that remembers
/// the peers' addresses.
#[derive(Debug, Clone)]
pub struct Peers {
    pub stock: StockClient,
    pub payment: PaymentClient,
    resolver: RememberingResolver,
    hosts: Vec<String>,
}

impl Peers {
    pub fn new(settings: &PeerSettings) -> Result<Self, reqwest::Error> {
        let resolver = RememberingResolver::default();
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .dns_resolver(Arc::new(resolver.clone()))
            .build()?;
        let hosts = [&settings.stock_url, &settings.payment_url]
            .into_iter()
            .filter_map(|url| reqwest::Url::parse(url).ok()?.host_str().map(str::to_owned))
            .collect();
        Ok(Peers {
            stock: StockClient::new(http.clone(), &settings.stock_url),
            payment: PaymentClient::new(http, &settings.payment_url),
            resolver,
            hosts,
        })
    }

    /// Looks the peers' host names up until they resolve, or until
    /// `shutdown`, so that the first burst of requests finds them
    /// remembered.
    pub async fn warm_up(&self, shutdown: impl Future<Output = ()>) {
        let resolved = async {
            for host in &self.hosts {
                self.resolver.warm_up(host).await;
            }
        };
        tokio::select! {
            () = resolved => {}
            () = shutdown => {}
        }
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
