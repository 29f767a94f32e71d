use chrono::Utc;
use events::{CheckoutRequested, Line};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use stock::configuration::Settings;
use stock::startup::Application;
use uuid::Uuid;

/// A running stock service with its own database.
pub struct TestApp {
    pub address: String,
    pub pool: PgPool,
    pub client: reqwest::Client,
}

pub async fn spawn_app() -> TestApp {
    platform::telemetry::init_for_tests("stock");
    let mut settings = Settings::from_env().expect("settings from the environment");
    settings.http.port = 0;
    let database = format!("stock_test_{}", uuid::Uuid::new_v4().simple());
    settings.database = platform::testing::database(&database);
    // Tests run side by side on one server with a limit of 100 connections.
    settings.database.max_connections = 4;
    settings.messaging.broker = settings.messaging.broker.isolated();
    let application = Application::build(settings)
        .await
        .expect("the stock service starts (is PostgreSQL running?)");
    let app = TestApp {
        address: format!("http://127.0.0.1:{}", application.port()),
        pool: application.pool().clone(),
        client: reqwest::Client::new(),
    };
    tokio::spawn(application.run_until_stopped(std::future::pending()));
    app
}

impl TestApp {
    pub async fn post(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent");
        decode(response).await
    }

    /// POSTs with an `Idempotency-Key`; also says whether the answer was
    /// replayed from an earlier request.
    pub async fn post_with_key(&self, path: &str, key: &str) -> (StatusCode, Value, bool) {
        let response = self
            .client
            .post(format!("{}{path}", self.address))
            .header("Idempotency-Key", key)
            .send()
            .await
            .expect("request sent");
        let replayed = response.headers().contains_key("idempotent-replayed");
        let (status, body) = decode(response).await;
        (status, body, replayed)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent");
        decode(response).await
    }

    /// Creates an item with `price` and `stock` through the API.
    pub async fn item_with(&self, price: i64, stock: i64) -> String {
        let (status, body) = self.post(&format!("/stock/item/create/{price}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = body["item_id"].as_str().expect("an item id").to_owned();
        let (status, body) = self.post(&format!("/stock/add/{id}/{stock}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        id
    }

    /// Every row of the items table, to prove that a refused request changed
    /// nothing at all.
    pub async fn snapshot(&self) -> Vec<(String, i64, i64)> {
        sqlx::query_as("SELECT id, stock, price FROM items ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .expect("items readable")
    }
}

async fn decode(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.expect("every answer is JSON");
    (status, body)
}

pub fn checkout(item: &str, quantity: i64) -> CheckoutRequested {
    CheckoutRequested {
        order_id: "o-1".into(),
        saga_id: Uuid::now_v7(),
        user_id: "u-1".into(),
        total_cost: 5 * quantity,
        lines: vec![Line {
            item_id: item.into(),
            quantity,
        }],
        occurred_at: Utc::now(),
    }
}

pub async fn stock_of(app: &TestApp, item: &str) -> i64 {
    let (_, body) = app.get(&format!("/stock/find/{item}")).await;
    body["stock"].as_i64().expect("a stock level")
}
