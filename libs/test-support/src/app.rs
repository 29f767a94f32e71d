//! One spawned service and the requests tests send it.
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;
use sqlx::PgPool;

/// A running service: where it answers, and its database, which a test
/// reads to see what a request changed (or did not).
#[derive(Debug, Clone)]
pub struct TestApp {
    pub address: String,
    pub pool: PgPool,
    pub client: reqwest::Client,
}

impl TestApp {
    pub(crate) fn new(port: u16, pool: PgPool) -> TestApp {
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            pool,
            client: reqwest::Client::new(),
        }
    }

    pub async fn post(&self, path: &str) -> (StatusCode, Value) {
        send(self.client.post(self.url(path))).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        send(self.client.get(self.url(path))).await
    }

    /// `path` on this service, for requests `post` and `get` do not build
    /// (headers of their own, answers read before they are decoded).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

pub async fn send(request: RequestBuilder) -> (StatusCode, Value) {
    answer(request.send().await.expect("request sent")).await
}

/// The status and body of `response`: the contract makes every answer JSON,
/// errors included, so a body that is not fails the test.
pub async fn answer(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.expect("every answer is JSON"))
}
