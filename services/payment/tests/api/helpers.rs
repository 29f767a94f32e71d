use chrono::Utc;
use events::{Line, StockReserved};
use payment::configuration::Settings;
use payment::startup::Application;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// A running payment service with its own database.
pub struct TestApp {
    pub address: String,
    pub pool: PgPool,
    pub client: reqwest::Client,
}

pub async fn spawn_app() -> TestApp {
    platform::telemetry::init_for_tests("payment");
    let mut settings = Settings::from_env().expect("settings from the environment");
    settings.http.port = 0;
    let database = format!("payment_test_{}", uuid::Uuid::new_v4().simple());
    settings.database = platform::testing::database(&database);
    // Tests run side by side on one server with a limit of 100 connections.
    settings.database.max_connections = 4;
    settings.messaging.broker = settings.messaging.broker.isolated();
    let application = Application::build(settings)
        .await
        .expect("the payment service starts (is PostgreSQL running?)");
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

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent");
        decode(response).await
    }

    /// Creates a user with `credit` through the API.
    pub async fn user_with(&self, credit: i64) -> String {
        let (status, body) = self.post("/payment/create_user").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = body["user_id"].as_str().expect("a user id").to_owned();
        let (status, body) = self.post(&format!("/payment/add_funds/{id}/{credit}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        id
    }

    /// Every row of the users table, to prove that a refused request changed
    /// nothing at all.
    pub async fn snapshot(&self) -> Vec<(String, i64)> {
        sqlx::query_as("SELECT id, credit FROM users ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .expect("users readable")
    }
}

async fn decode(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.expect("every answer is JSON");
    (status, body)
}

pub fn reserved(user: &str, total_cost: i64) -> StockReserved {
    StockReserved {
        order_id: "o-1".into(),
        saga_id: Uuid::now_v7(),
        user_id: user.into(),
        total_cost,
        lines: vec![Line {
            item_id: "i-1".into(),
            quantity: 1,
        }],
        occurred_at: Utc::now(),
    }
}

pub async fn credit_of(app: &TestApp, user: &str) -> i64 {
    let (_, body) = app.get(&format!("/payment/find_user/{user}")).await;
    body["credit"].as_i64().expect("a credit")
}
