//! Users and items created through the payment and stock services' APIs, to
//! arrange a test as a client would.
use reqwest::StatusCode;
use serde_json::Value;

use crate::TestApp;

/// A user with no credit.
pub async fn user(payment: &TestApp) -> String {
    let body = ok(payment, "/payment/create_user").await;
    body["user_id"].as_str().expect("a user id").to_owned()
}

pub async fn user_with(payment: &TestApp, credit: i64) -> String {
    let user = user(payment).await;
    ok(payment, &format!("/payment/add_funds/{user}/{credit}")).await;
    user
}

/// An item with no stock.
pub async fn item(stock: &TestApp, price: i64) -> String {
    let body = ok(stock, &format!("/stock/item/create/{price}")).await;
    body["item_id"].as_str().expect("an item id").to_owned()
}

pub async fn item_with(stock: &TestApp, price: i64, amount: i64) -> String {
    let item = item(stock, price).await;
    ok(stock, &format!("/stock/add/{item}/{amount}")).await;
    item
}

/// POSTs `path`, which must succeed: arranging a test cannot fail quietly.
async fn ok(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.post(path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}
