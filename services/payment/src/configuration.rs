use idempotency::participant::{self, Service};

/// The port `make up` gives the first payment replica; the default for running
/// the service alone.
pub const DEFAULT_PORT: u16 = 8301;

/// Names the payment service to the start-up it shares with the other saga
/// participants.
#[derive(Debug, Clone, Copy)]
pub struct Payment;

impl Service for Payment {
    const NAME: &'static str = "payment";
    const DEFAULT_PORT: u16 = DEFAULT_PORT;
}

pub type Settings = participant::Settings<Payment>;
