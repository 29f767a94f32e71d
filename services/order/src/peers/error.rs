/// A peer could not give an answer we can act on. Both variants are faults
/// of the system, not of the client, and so map to 503.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    #[error("the {service} service is unavailable, try again later")]
    Unreachable {
        service: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("the {service} service answered {status} unexpectedly, try again later")]
    UnexpectedAnswer { service: &'static str, status: u16 },
}
