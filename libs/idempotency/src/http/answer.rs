//! A request's answer as a key store hands it back, before it is a
//! response: stores return a [`KeyedAnswer`], routes send it. The status is
//! part of what a store keeps under a key, so it is data here, not a reply.
use http::{HeaderValue, StatusCode};
use platform::http::{error_reply, json_response};
use serde_json::Value;
use warp::reply::Response;

use super::key::IdempotencyKey;
use super::store::SavedAnswer;

/// Header set on an answer that was replayed from an earlier request.
const REPLAYED: &str = "idempotent-replayed";

/// What running a request under its `Idempotency-Key` came to.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyedAnswer {
    /// The request ran now (or had no key): its answer.
    Ran { status: StatusCode, body: Value },
    /// A repeat of a request that ran before: its saved answer, sent again
    /// marked as replayed.
    Replayed { status: StatusCode, body: Value },
    /// Nothing ran: the key is malformed (400), was used for another request
    /// (422) or expired just now (409), or the store is unavailable (503).
    Refused { status: StatusCode, message: String },
}

impl KeyedAnswer {
    /// The answer to a repeat of a request whose key was found taken: the
    /// saved answer when the request is the same, a 422 when the key came
    /// with another request.
    pub fn replay(key: &IdempotencyKey, fingerprint: &str, saved: Option<SavedAnswer>) -> Self {
        let Some(saved) = saved else {
            // Pruned between our claim and this read: ask the client to retry.
            return refused(StatusCode::CONFLICT, "Idempotency-Key expired just now; retry");
        };
        if saved.fingerprint != fingerprint {
            let message = format!(
                "Idempotency-Key {} was used for another request ({})",
                key.as_str(),
                saved.fingerprint
            );
            return refused(StatusCode::UNPROCESSABLE_ENTITY, &message);
        }
        KeyedAnswer::Replayed {
            status: StatusCode::from_u16(saved.status as u16).unwrap_or(StatusCode::OK),
            body: saved.body,
        }
    }

    /// A malformed `Idempotency-Key` header.
    pub fn bad_key(message: &str) -> Self {
        refused(StatusCode::BAD_REQUEST, message)
    }

    /// The store could not be reached or failed; `error` is logged, the
    /// client is told to try again.
    pub fn unavailable(error: &dyn std::error::Error) -> Self {
        tracing::error!(error = %platform::http::error_chain(error), "request failed");
        refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "the database is unavailable, try again later",
        )
    }

    /// The status the answer is sent with.
    pub fn status(&self) -> StatusCode {
        match self {
            KeyedAnswer::Ran { status, .. }
            | KeyedAnswer::Replayed { status, .. }
            | KeyedAnswer::Refused { status, .. } => *status,
        }
    }

    pub fn into_response(self) -> Response {
        match self {
            KeyedAnswer::Ran { status, body } => json_response(status, &body),
            KeyedAnswer::Replayed { status, body } => {
                let mut response = json_response(status, &body);
                response
                    .headers_mut()
                    .insert(REPLAYED, HeaderValue::from_static("true"));
                response
            }
            KeyedAnswer::Refused { status, message } => error_reply(status, &message),
        }
    }
}

fn refused(status: StatusCode, message: &str) -> KeyedAnswer {
    KeyedAnswer::Refused {
        status,
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn saved(fingerprint: &str) -> Option<SavedAnswer> {
        Some(SavedAnswer {
            fingerprint: fingerprint.into(),
            status: 404,
            body: json!({ "error": "order ghost not found" }),
        })
    }

    #[test]
    fn a_repeat_gets_the_saved_answer_marked_as_replayed() {
        let key = IdempotencyKey::try_from("k-1").expect("a valid key");

        let answer = KeyedAnswer::replay(&key, "POST /a", saved("POST /a"));
        let response = answer.clone().into_response();

        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[REPLAYED], "true");
    }

    #[test]
    fn a_key_of_another_request_or_one_pruned_meanwhile_is_refused() {
        let key = IdempotencyKey::try_from("k-1").expect("a valid key");

        let other = KeyedAnswer::replay(&key, "POST /b", saved("POST /a"));
        let pruned = KeyedAnswer::replay(&key, "POST /a", None);

        assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(pruned.status(), StatusCode::CONFLICT);
        assert!(!pruned.into_response().headers().contains_key(REPLAYED));
    }
}
