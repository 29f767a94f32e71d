use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_service_serves_its_part_of_the_api_document() {
    let app = spawn_app().await;

    let (status, document) = app.get("/stock/openapi.json").await;

    assert_eq!(status, StatusCode::OK, "{document}");
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/stock/find/{item_id}"), "{paths:?}");
    assert!(paths.keys().all(|path| path.starts_with("/stock/")), "{paths:?}");
}
