//! The public HTTP contract, as the harness calls it.
use anyhow::{Context, bail};
use reqwest::{Method, StatusCode};
use serde_json::Value;

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

    async fn ok(&self, method: Method, url: String) -> anyhow::Result<Value> {
        let response = self
            .http
            .request(method.clone(), &url)
            .send()
            .await
            .with_context(|| format!("{method} {url}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{method} {url} answered {status}: {body}");
        }
        Ok(body)
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
