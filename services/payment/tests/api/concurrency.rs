use futures::future::join_all;
use reqwest::StatusCode;
use test_support::user_with;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_hundred_concurrent_payments_of_one_from_fifty_let_exactly_fifty_through() {
    let app = spawn_app().await;
    let id = user_with(&app, 50).await;
    let path = format!("/payment/pay/{id}/1");

    let answers = join_all((0..100).map(|_| app.post(&path))).await;

    let succeeded = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let refused = answers.iter().filter(|(s, _)| *s == StatusCode::CONFLICT).count();
    assert_eq!((succeeded, refused), (50, 50));
    let (_, body) = app.get(&format!("/payment/find_user/{id}")).await;
    assert_eq!(body["credit"], 0);
}
