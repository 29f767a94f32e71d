use futures::future::join_all;
use reqwest::StatusCode;
use test_support::item_with;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_hundred_concurrent_subtractions_of_one_from_fifty_let_exactly_fifty_through() {
    let app = spawn_app().await;
    let id = item_with(&app, 1, 50).await;
    let path = format!("/stock/subtract/{id}/1");

    let answers = join_all((0..100).map(|_| app.post(&path))).await;

    let succeeded = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let refused = answers.iter().filter(|(s, _)| *s == StatusCode::CONFLICT).count();
    assert_eq!((succeeded, refused), (50, 50));
    let (_, body) = app.get(&format!("/stock/find/{id}")).await;
    assert_eq!(body["stock"], 0);
}
