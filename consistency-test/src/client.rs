//! The public HTTP contract, as the harness calls it.
use std::time::Duration;

use anyhow::Context;
use backon::{ExponentialBuilder, Retryable};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// How the set-up and read-back requests are retried: about 12 s in all,
/// more than the services' 5 s bound on waiting for a pooled connection or a
/// peer, so one slow moment of the system under test (a replica restarting,
/// a name lookup lost) is not a failed run. Checkouts are never retried
/// here: their answers are what the runs count.
const RETRIES: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(200))
    .with_max_delay(Duration::from_secs(3))
    .with_max_times(6)
    .with_jitter();

/// Where the system answers, from the command line.
#[derive(Debug, clap::Args)]
pub struct Urls {
    /// The gateway, or any base URL serving all three prefixes.
    #[arg(long, env = "WEBSHOP_URL", default_value = "http://127.0.0.1:8000")]
    url: String,
    /// Where the order service answers, if not at `--url`.
    #[arg(long)]
    order_url: Option<String>,
    #[arg(long)]
    stock_url: Option<String>,
    #[arg(long)]
    payment_url: Option<String>,
}

impl Urls {
    pub fn shop(&self) -> anyhow::Result<Shop> {
        let url = |own: &Option<String>| own.clone().unwrap_or_else(|| self.url.clone());
        Shop::new(
            &url(&self.order_url),
            &url(&self.stock_url),
            &url(&self.payment_url),
        )
    }
}

/// Where each service answers: one gateway, or three base URLs.
#[derive(Debug, Clone)]
pub struct Shop {
    http: reqwest::Client,
    pub order: String,
    pub stock: String,
    pub payment: String,
}

impl Shop {
    pub fn new(order: &str, stock: &str, payment: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(180))
            .pool_max_idle_per_host(1024)
            .build()?;
        let trim = |url: &str| url.trim_end_matches('/').to_owned();
        Ok(Shop {
            http,
            order: trim(order),
            stock: trim(stock),
            payment: trim(payment),
        })
    }

    /// A POST that must succeed; its JSON answer.
    pub async fn post_ok(&self, url: String) -> anyhow::Result<Value> {
        self.ok(Method::POST, url).await
    }

    /// A GET that must succeed; its JSON answer.
    pub async fn get_ok(&self, url: String) -> anyhow::Result<Value> {
        self.ok(Method::GET, url).await
    }

    /// Each POST carries an `Idempotency-Key`, the same on every retry, so a
    /// retried request whose first try did take effect is replayed, not
    /// applied twice.
    async fn ok(&self, method: Method, url: String) -> anyhow::Result<Value> {
        let key = format!("harness-{:032x}", fastrand::u128(..));
        let attempt = || async {
            let mut request = self.http.request(method.clone(), &url);
            if method == Method::POST {
                request = request.header("Idempotency-Key", &key);
            }
            let response = request.send().await.map_err(Failure::Unanswered)?;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if !status.is_success() {
                return Err(Failure::Answered(status, body));
            }
            Ok(body)
        };
        attempt
            .retry(RETRIES)
            .when(Failure::is_transient)
            .await
            .with_context(|| format!("{method} {url}"))
    }

    /// A checkout's status, or `None` when no answer came at all.
    pub async fn checkout(&self, order: &str) -> Option<StatusCode> {
        let url = format!("{}/orders/checkout/{order}", self.order);
        self.http.post(url).send().await.ok().map(|r| r.status())
    }

    pub async fn create_item(&self, price: i64, stock: i64) -> anyhow::Result<String> {
        let body = self
            .post_ok(format!("{}/stock/item/create/{price}", self.stock))
            .await?;
        let item = text(&body, "item_id")?;
        self.post_ok(format!("{}/stock/add/{item}/{stock}", self.stock))
            .await?;
        Ok(item)
    }

    pub async fn create_user(&self, credit: i64) -> anyhow::Result<String> {
        let body = self
            .post_ok(format!("{}/payment/create_user", self.payment))
            .await?;
        let user = text(&body, "user_id")?;
        self.post_ok(format!("{}/payment/add_funds/{user}/{credit}", self.payment))
            .await?;
        Ok(user)
    }

    pub async fn create_order(&self, user: &str, lines: &[(String, i64)]) -> anyhow::Result<String> {
        let body = self
            .post_ok(format!("{}/orders/create/{user}", self.order))
            .await?;
        let order = text(&body, "order_id")?;
        for (item, quantity) in lines {
            self.post_ok(format!("{}/orders/addItem/{order}/{item}/{quantity}", self.order))
                .await?;
        }
        Ok(order)
    }

    pub async fn stock_of(&self, item: &str) -> anyhow::Result<i64> {
        let body = self.get_ok(format!("{}/stock/find/{item}", self.stock)).await?;
        number(&body, "stock")
    }

    pub async fn credit_of(&self, user: &str) -> anyhow::Result<i64> {
        let body = self
            .get_ok(format!("{}/payment/find_user/{user}", self.payment))
            .await?;
        number(&body, "credit")
    }

    /// The saga's state (`open`, `checking_out`, `paid`, `failed`) from the
    /// status endpoint, or `None` when the system has no such endpoint.
    pub async fn saga_state(&self, order: &str) -> anyhow::Result<Option<String>> {
        let url = format!("{}/orders/status/{order}", self.order);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("GET {url}"))?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body: Value = response.error_for_status()?.json().await?;
        Ok(Some(text(&body, "status")?))
    }

    /// Whether every service answers its health check (through the gateway,
    /// one replica each).
    pub async fn is_healthy(&self) -> bool {
        let checks = [
            format!("{}/orders/health", self.order),
            format!("{}/stock/health", self.stock),
            format!("{}/payment/health", self.payment),
        ];
        for url in checks {
            match self.http.get(&url).send().await {
                Ok(response) if response.status().is_success() => {}
                _ => return false,
            }
        }
        true
    }

    /// The course's bulk set-up: items `0..n`, users `0..n`, orders `0..n`
    /// of two random items each at `price`.
    pub async fn batch_init(&self, n: usize, stock: i64, credit: i64, price: i64) -> anyhow::Result<()> {
        self.post_ok(format!("{}/stock/batch_init/{n}/{stock}/{price}", self.stock))
            .await?;
        self.post_ok(format!("{}/payment/batch_init/{n}/{credit}", self.payment))
            .await?;
        self.post_ok(format!("{}/orders/batch_init/{n}/{n}/{n}/{price}", self.order))
            .await?;
        Ok(())
    }

    pub async fn is_paid(&self, order: &str) -> anyhow::Result<bool> {
        let body = self.get_ok(format!("{}/orders/find/{order}", self.order)).await?;
        body["paid"].as_bool().context("find answered no paid flag")
    }
}

/// Why a request of [`Shop::ok`] failed.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("no answer")]
    Unanswered(#[source] reqwest::Error),
    #[error("answered {0}: {1}")]
    Answered(StatusCode, Value),
}

impl Failure {
    /// A 4xx is the system's considered answer and is final; a 5xx (a 503
    /// "try again", a gateway without a replica) or no answer may pass.
    fn is_transient(&self) -> bool {
        match self {
            Failure::Unanswered(_) => true,
            Failure::Answered(status, _) => status.is_server_error(),
        }
    }
}

fn text(body: &Value, field: &str) -> anyhow::Result<String> {
    body[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("answer has no {field}: {body}"))
}

fn number(body: &Value, field: &str) -> anyhow::Result<i64> {
    body[field]
        .as_i64()
        .with_context(|| format!("answer has no {field}: {body}"))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use warp::Filter;

    use super::*;

    type Keys = Arc<Mutex<Vec<Option<String>>>>;

    /// A server that answers `first` to the first request and 200 to every
    /// later one, keeping each request's `Idempotency-Key`.
    async fn answering_first(first: u16) -> (Shop, Keys) {
        let keys = Keys::default();
        let seen = keys.clone();
        let route = warp::header::optional::<String>("idempotency-key").map(move |key| {
            let mut keys = seen.lock().expect("not poisoned");
            keys.push(key);
            let status = if keys.len() == 1 { first } else { 200 };
            warp::reply::with_status(
                warp::reply::json(&serde_json::json!({ "request": keys.len() })),
                warp::http::StatusCode::from_u16(status).expect("a status code"),
            )
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let url = format!("http://{}", listener.local_addr().expect("bound"));
        tokio::spawn(warp::serve(route).incoming(listener).run());
        (Shop::new(&url, &url, &url).expect("a client"), keys)
    }

    fn seen(keys: &Keys) -> Vec<Option<String>> {
        keys.lock().expect("not poisoned").clone()
    }

    #[tokio::test]
    async fn a_post_answered_503_is_sent_again_under_the_same_key() {
        let (shop, keys) = answering_first(503).await;

        let body = shop
            .post_ok(format!("{}/x", shop.order))
            .await
            .expect("the retry succeeds");

        assert_eq!(body["request"], 2);
        let keys = seen(&keys);
        assert_eq!(keys.len(), 2);
        assert!(
            keys[0].as_deref().is_some_and(|key| key.starts_with("harness-")),
            "{keys:?}"
        );
        assert_eq!(keys[0], keys[1]);
    }

    #[tokio::test]
    async fn a_4xx_is_final() {
        let (shop, keys) = answering_first(409).await;

        let error = shop
            .post_ok(format!("{}/x", shop.order))
            .await
            .expect_err("no retry");

        assert!(format!("{error:#}").contains("409"), "{error:#}");
        assert_eq!(seen(&keys).len(), 1);
    }

    #[tokio::test]
    async fn a_get_carries_no_key() {
        let (shop, keys) = answering_first(200).await;

        shop.get_ok(format!("{}/x", shop.order)).await.expect("answered");

        assert_eq!(seen(&keys), vec![None]);
    }
}
