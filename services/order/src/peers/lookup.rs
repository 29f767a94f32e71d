use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use super::PeerError;

/// GETs `url` from `service`: `Some(body)` on 200, `None` on 404 (the peer
/// does not know the id), an error for anything else. The request carries
/// the caller's trace context, so the peer's span joins its trace.
pub(super) async fn get_json<T: DeserializeOwned>(
    http: &reqwest::Client,
    service: &'static str,
    url: String,
) -> Result<Option<T>, PeerError> {
    let unreachable = |source| PeerError::Unreachable { service, source };
    let mut request = http.get(url);
    if let Some(traceparent) = platform::telemetry::current_traceparent() {
        request = request.header(platform::telemetry::TRACEPARENT, traceparent);
    }
    let response = request.send().await.map_err(unreachable)?;
    match response.status() {
        StatusCode::OK => response.json().await.map(Some).map_err(unreachable),
        StatusCode::NOT_FOUND => Ok(None),
        status => Err(PeerError::UnexpectedAnswer {
            service,
            status: status.as_u16(),
        }),
    }
}
