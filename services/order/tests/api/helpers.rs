use order::configuration::Settings;
use order::startup::Application;
use outbox::BrokerSettings;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

/// The system under test: order services wired to their own stock and
/// payment services, all sharing one fresh broker namespace. With several
/// replicas, replicas of a service share its database, as in production.
pub struct TestApp {
    /// The first order replica; `order_addresses` has them all.
    pub address: String,
    pub order_addresses: Vec<String>,
    pub stock_address: String,
    pub payment_address: String,
    pub pool: PgPool,
    pub stock_pool: PgPool,
    pub payment_pool: PgPool,
    pub client: reqwest::Client,
}

/// One replica of each service.
pub async fn spawn_app() -> TestApp {
    spawn_system(1).await
}

/// `replicas` replicas of each service.
pub async fn spawn_system(replicas: usize) -> TestApp {
    let broker = BrokerSettings::from_env().expect("broker settings").isolated();
    let (stock_db, payment_db, order_db) = (fresh("stock"), fresh("payment"), fresh("order"));
    let mut stock = Vec::new();
    let mut payment = Vec::new();
    for _ in 0..replicas {
        stock.push(spawn_stock(&stock_db, &broker).await);
        payment.push(spawn_payment(&payment_db, &broker).await);
    }
    let mut orders = Vec::new();
    for _ in 0..replicas {
        orders.push(spawn(&order_db, &broker, &stock[0].0, &payment[0].0).await);
    }
    let (first, pool) = orders[0].clone();
    TestApp {
        address: first,
        order_addresses: orders.into_iter().map(|(address, _)| address).collect(),
        stock_address: stock[0].0.clone(),
        payment_address: payment[0].0.clone(),
        pool,
        stock_pool: stock[0].1.clone(),
        payment_pool: payment[0].1.clone(),
        client: reqwest::Client::new(),
    }
}

/// An order service alone, whose peers are at the given addresses, which
/// need not answer.
pub async fn spawn_order(stock_address: &str, payment_address: &str) -> TestApp {
    let broker = BrokerSettings::from_env().expect("broker settings").isolated();
    let (address, pool) = spawn(&fresh("order"), &broker, stock_address, payment_address).await;
    TestApp {
        address: address.clone(),
        order_addresses: vec![address],
        stock_address: stock_address.to_owned(),
        payment_address: payment_address.to_owned(),
        stock_pool: pool.clone(),
        payment_pool: pool.clone(),
        pool,
        client: reqwest::Client::new(),
    }
}

async fn spawn(database: &str, broker: &BrokerSettings, stock: &str, payment: &str) -> (String, PgPool) {
    spawn_order_with(database, broker, stock, payment, |_| {}).await
}

/// An order replica on `database` and `broker`, with its settings changed
/// by `configure`; its address and pool.
pub async fn spawn_order_with(
    database: &str,
    broker: &BrokerSettings,
    stock: &str,
    payment: &str,
    configure: impl FnOnce(&mut Settings),
) -> (String, PgPool) {
    platform::telemetry::init_for_tests("order");
    let mut settings = Settings::from_env().expect("settings from the environment");
    settings.http.port = 0;
    settings.database = platform::testing::database(database);
    settings.database.max_connections = TEST_POOL_SIZE;
    settings.messaging.broker = broker.clone();
    settings.peers.stock_url = stock.to_owned();
    settings.peers.payment_url = payment.to_owned();
    configure(&mut settings);
    let application = Application::build(settings)
        .await
        .expect("the order service starts (is PostgreSQL running?)");
    let started = (
        format!("http://127.0.0.1:{}", application.port()),
        application
            .pool()
            .expect("the order service's default store is PostgreSQL")
            .clone(),
    );
    tokio::spawn(application.run_until_stopped(std::future::pending()));
    started
}

async fn spawn_stock(database: &str, broker: &BrokerSettings) -> (String, PgPool) {
    spawn_stock_until(database, broker, std::future::pending()).await
}

/// A stock replica that stops when `shutdown` completes.
pub async fn spawn_stock_until(
    database: &str,
    broker: &BrokerSettings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> (String, PgPool) {
    let mut settings = stock::configuration::Settings::from_env().expect("stock settings");
    settings.http.port = 0;
    settings.database = platform::testing::database(database);
    settings.database.max_connections = TEST_POOL_SIZE;
    settings.messaging.broker = broker.clone();
    let application = stock::startup::Application::build(settings)
        .await
        .expect("the stock service starts");
    let started = (
        format!("http://127.0.0.1:{}", application.port()),
        application.pool().clone(),
    );
    tokio::spawn(application.run_until_stopped(shutdown));
    started
}

pub async fn spawn_payment(database: &str, broker: &BrokerSettings) -> (String, PgPool) {
    let mut settings = payment::configuration::Settings::from_env().expect("payment settings");
    settings.http.port = 0;
    settings.database = platform::testing::database(database);
    settings.database.max_connections = TEST_POOL_SIZE;
    settings.messaging.broker = broker.clone();
    let application = payment::startup::Application::build(settings)
        .await
        .expect("the payment service starts");
    let started = (
        format!("http://127.0.0.1:{}", application.port()),
        application.pool().clone(),
    );
    tokio::spawn(application.run_until_stopped(std::future::pending()));
    started
}

/// Tests run side by side on one server with a limit of 100 connections.
const TEST_POOL_SIZE: u32 = 4;

pub fn fresh(service: &str) -> String {
    platform::testing::fresh_database_name(service)
}

impl TestApp {
    /// POSTs to the (first) order service.
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

    pub async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.send().await.expect("request sent");
        let status = response.status();
        (status, response.json().await.expect("every answer is JSON"))
    }

    pub async fn user(&self) -> String {
        let body = self.post_to(&self.payment_address, "/payment/create_user").await;
        body["user_id"].as_str().expect("a user id").to_owned()
    }

    pub async fn user_with(&self, credit: i64) -> String {
        let user = self.user().await;
        self.post_to(
            &self.payment_address,
            &format!("/payment/add_funds/{user}/{credit}"),
        )
        .await;
        user
    }

    pub async fn item(&self, price: i64) -> String {
        let body = self
            .post_to(&self.stock_address, &format!("/stock/item/create/{price}"))
            .await;
        body["item_id"].as_str().expect("an item id").to_owned()
    }

    pub async fn item_with(&self, price: i64, stock: i64) -> String {
        let item = self.item(price).await;
        self.post_to(&self.stock_address, &format!("/stock/add/{item}/{stock}"))
            .await;
        item
    }

    pub async fn order_for(&self, user: &str) -> String {
        let (status, body) = self.post(&format!("/orders/create/{user}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["order_id"].as_str().expect("an order id").to_owned()
    }

    pub async fn stock_of(&self, item: &str) -> i64 {
        sqlx::query_scalar("SELECT stock FROM items WHERE id = $1")
            .bind(item)
            .fetch_one(&self.stock_pool)
            .await
            .expect("stock readable")
    }

    pub async fn credit_of(&self, user: &str) -> i64 {
        sqlx::query_scalar("SELECT credit FROM users WHERE id = $1")
            .bind(user)
            .fetch_one(&self.payment_pool)
            .await
            .expect("credit readable")
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
