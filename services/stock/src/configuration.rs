use idempotency::participant::{self, Service};

/// The port `make up` gives the first stock replica; the default for running
/// the service alone.
pub const DEFAULT_PORT: u16 = 8201;

/// Names the stock service to the start-up it shares with the other saga
/// participants.
#[derive(Debug, Clone, Copy)]
pub struct Stock;

impl Service for Stock {
    const NAME: &'static str = "stock";
    const DEFAULT_PORT: u16 = DEFAULT_PORT;
}

pub type Settings = participant::Settings<Stock>;
