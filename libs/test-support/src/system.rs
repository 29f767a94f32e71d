//! The checkout saga end to end: order services wired to real stock and
//! payment services.
use std::future::pending;

use idempotency::participant::Participant;
use outbox::BrokerSettings;
use payment::configuration::Payment;
use platform::testing::fresh_database_name;
use reqwest::StatusCode;
use serde_json::Value;
use stock::configuration::Stock;

use crate::{TestApp, isolated_broker, spawn_order, spawn_participant};

/// The system under test, all of it on one fresh broker namespace. With
/// several replicas, replicas of a service share its database, as in
/// production; `stock` and `payment` are the first replicas, which the
/// order services call.
#[derive(Debug)]
pub struct System {
    /// The first order replica; `order_addresses` has them all.
    pub order: TestApp,
    pub order_addresses: Vec<String>,
    pub stock: TestApp,
    pub payment: TestApp,
}

/// `replicas` replicas of each service.
pub async fn spawn_system(replicas: usize) -> System {
    let broker = isolated_broker();
    let stock = spawn_replicas::<Stock>(replicas, &broker).await;
    let payment = spawn_replicas::<Payment>(replicas, &broker).await;
    let database = fresh_database_name("order");
    let mut orders = Vec::new();
    for _ in 0..replicas {
        orders.push(spawn_order(&database, &broker, &stock.address, &payment.address, |_| {}).await);
    }
    System {
        order: orders[0].clone(),
        order_addresses: orders.into_iter().map(|order| order.address).collect(),
        stock,
        payment,
    }
}

/// `replicas` replicas of a stock or payment service on one fresh
/// database; the first, which the order services call.
async fn spawn_replicas<P: Participant + 'static>(replicas: usize, broker: &BrokerSettings) -> TestApp {
    let database = fresh_database_name(P::NAME);
    let first = spawn_participant::<P>(&database, broker, pending()).await;
    for _ in 1..replicas {
        spawn_participant::<P>(&database, broker, pending()).await;
    }
    first
}

impl System {
    /// POSTs to the first order replica.
    pub async fn post(&self, path: &str) -> (StatusCode, Value) {
        self.order.post(path).await
    }

    /// GETs from the first order replica.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.order.get(path).await
    }

    pub async fn user(&self) -> String {
        crate::user(&self.payment).await
    }

    pub async fn user_with(&self, credit: i64) -> String {
        crate::user_with(&self.payment, credit).await
    }

    pub async fn item(&self, price: i64) -> String {
        crate::item(&self.stock, price).await
    }

    pub async fn item_with(&self, price: i64, stock: i64) -> String {
        crate::item_with(&self.stock, price, stock).await
    }

    /// An empty order of `user`.
    pub async fn order_for(&self, user: &str) -> String {
        let (status, body) = self.post(&format!("/orders/create/{user}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["order_id"].as_str().expect("an order id").to_owned()
    }

    /// An order of one unit of a fresh item (price 3) for a fresh user who
    /// can pay it (credit 10), ready for checkout.
    pub async fn one_line_order(&self) -> String {
        let user = self.user_with(10).await;
        let item = self.item_with(3, 5).await;
        let order = self.order_for(&user).await;
        let (status, body) = self.post(&format!("/orders/addItem/{order}/{item}/1")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        order
    }
}
