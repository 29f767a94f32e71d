use order::configuration::Settings;
use order::startup::Application;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

/// An order service wired to its own stock and payment services.
pub struct TestApp {
    pub address: String,
    pub stock_address: String,
    pub payment_address: String,
    pub pool: PgPool,
    pub client: reqwest::Client,
}

pub async fn spawn_app() -> TestApp {
    let stock_address = spawn_stock().await;
    let payment_address = spawn_payment().await;
    spawn_order(&stock_address, &payment_address).await
}

/// An order service whose peers are at the given addresses, which need not
/// answer.
pub async fn spawn_order(stock_address: &str, payment_address: &str) -> TestApp {
    platform::telemetry::init_for_tests("order");
    let mut settings = Settings::from_env().expect("settings from the environment");
    settings.http.port = 0;
    settings.database = settings.database.with_database(&fresh_database("order"));
    settings.peers.stock_url = stock_address.to_owned();
    settings.peers.payment_url = payment_address.to_owned();
    let application = Application::build(settings)
        .await
        .expect("the order service starts (is PostgreSQL running?)");
    let app = TestApp {
        address: format!("http://127.0.0.1:{}", application.port()),
        stock_address: stock_address.to_owned(),
        payment_address: payment_address.to_owned(),
        pool: application.pool().clone(),
        client: reqwest::Client::new(),
    };
    tokio::spawn(application.run_until_stopped(std::future::pending()));
    app
}

async fn spawn_stock() -> String {
    let mut settings = stock::configuration::Settings::from_env().expect("stock settings");
    settings.http.port = 0;
    settings.database = settings.database.with_database(&fresh_database("stock"));
    let application = stock::startup::Application::build(settings)
        .await
        .expect("the stock service starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped(std::future::pending()));
    address
}

async fn spawn_payment() -> String {
    let mut settings = payment::configuration::Settings::from_env().expect("payment settings");
    settings.http.port = 0;
    settings.database = settings.database.with_database(&fresh_database("payment"));
    let application = payment::startup::Application::build(settings)
        .await
        .expect("the payment service starts");
    let address = format!("http://127.0.0.1:{}", application.port());
    tokio::spawn(application.run_until_stopped(std::future::pending()));
    address
}

fn fresh_database(service: &str) -> String {
    format!("{service}_test_{}", uuid::Uuid::new_v4().simple())
}

impl TestApp {
    /// POSTs to the order service.
    pub async fn post(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.client.post(format!("{}{path}", self.address)))
            .await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.client.get(format!("{}{path}", self.address)))
            .await
    }

    /// POSTs to the stock or payment service, to arrange a test.
    pub async fn post_to(&self, base: &str, path: &str) -> Value {
        let (status, body) = self.send(self.client.post(format!("{base}{path}"))).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.expect("request sent");
        let status = response.status();
        (status, response.json().await.expect("every answer is JSON"))
    }

    pub async fn user(&self) -> String {
        let body = self.post_to(&self.payment_address, "/payment/create_user").await;
        body["user_id"].as_str().expect("a user id").to_owned()
    }

    pub async fn item(&self, price: i64) -> String {
        let body = self
            .post_to(&self.stock_address, &format!("/stock/item/create/{price}"))
            .await;
        body["item_id"].as_str().expect("an item id").to_owned()
    }

    pub async fn order_for(&self, user: &str) -> String {
        let (status, body) = self.post(&format!("/orders/create/{user}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["order_id"].as_str().expect("an order id").to_owned()
    }

    /// Every row of the orders table, to prove that a refused request changed
    /// nothing at all.
    pub async fn snapshot(&self) -> Vec<(String, String, bool, String, i64)> {
        sqlx::query_as("SELECT id, user_id, paid, items::text, total_cost FROM orders ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .expect("orders readable")
    }
}
