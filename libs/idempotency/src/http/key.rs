use warp::Filter;
use warp::http::{HeaderValue, Method};
use warp::path::FullPath;

/// The longest key accepted; clients send UUIDs or similar.
const MAX_KEY_LEN: usize = 255;

/// A client's `Idempotency-Key`: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl TryFrom<&str> for IdempotencyKey {
    type Error = &'static str;

    fn try_from(raw: &str) -> Result<Self, Self::Error> {
        if raw.is_empty() || raw.len() > MAX_KEY_LEN || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("Idempotency-Key must be 1 to 255 visible ASCII characters");
        }
        Ok(IdempotencyKey(raw.to_owned()))
    }
}

impl IdempotencyKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What [`execute`](super::execute) needs to know about a request: its key,
/// if any (still unparsed, so a bad one becomes a 400 answer), and what the
/// request was. The contract's requests carry everything in method and path.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    pub key: Option<String>,
    pub fingerprint: String,
}

/// Extracts the [`IdempotentRequest`] of any request.
pub fn request() -> impl Filter<Extract = (IdempotentRequest,), Error = std::convert::Infallible> + Clone {
    // Read as raw bytes: a value that is not text must reach the key's
    // check and be refused, not pass as no key at all.
    warp::header::value("idempotency-key")
        .map(|value: HeaderValue| Some(String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .or(warp::any().map(|| None))
        .unify()
        .and(warp::method())
        .and(warp::path::full())
        .map(|key, method: Method, path: FullPath| IdempotentRequest {
            key,
            fingerprint: format!("{method} {}", path.as_str()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_keys_and_blank_or_huge_ones_are_not() {
        assert!(IdempotencyKey::try_from("0b3f6c1e-2a8f-4a55-9d0c-6f1f4d7a2b11").is_ok());
        assert!(IdempotencyKey::try_from("").is_err());
        assert!(IdempotencyKey::try_from("has space").is_err());
        assert!(IdempotencyKey::try_from("k".repeat(256).as_str()).is_err());
    }
}
