//! Checks every service's contract makes alike, each asserted on the paths
//! of the service whose test calls it.
use std::time::Duration;

use reqwest::StatusCode;

use crate::{TestApp, eventually};

/// Numbers the contract refuses: negative, not whole, not a number at all,
/// and one past the 64-bit range.
pub const BAD_NUMBERS: [&str; 6] = ["-1", "1.5", "abc", "1e3", "%2B1", "9223372036854775808"];

/// Marks where a check puts its malformed value in a path:
/// `format!("/stock/add/{id}/{BAD}")`.
pub const BAD: &str = "{bad}";

/// POSTs each of `paths` with each of `numbers` in place of [`BAD`] and
/// asserts a 400 whose message starts with the path's field name. Whether
/// the requests changed nothing is the caller's to compare: only it knows
/// its tables.
pub async fn assert_numbers_refused(app: &TestApp, paths: &[(String, &str)], numbers: &[&str]) {
    for bad in numbers {
        for (path, field) in paths {
            let path = path.replace(BAD, bad);
            let (status, body) = app.post(&path).await;

            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
            let message = body["error"].as_str().unwrap_or_default();
            assert!(message.starts_with(field), "{path}: {message}");
        }
    }
}

/// GETs `path` with a 200-character id in place of [`BAD`]: a 400, not a
/// lookup that reaches the database.
pub async fn assert_overlong_id_refused(app: &TestApp, path: &str) {
    let path = path.replace(BAD, &"x".repeat(200));

    let (status, body) = app.get(&path).await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// Waits until the health endpoint at `path` answers 200: the service's
/// consumer connects in the background, within milliseconds, so ten
/// seconds leave room for a loaded machine.
pub async fn assert_healthy(app: &TestApp, path: &str) {
    let healthy = eventually(Duration::from_secs(10), || async {
        app.get(path).await.0 == StatusCode::OK
    });

    assert!(healthy.await, "{:?}", app.get(path).await);
}

/// Drops the service's database, then asserts that the health endpoint at
/// `path` answers 503: health must notice the database, not only the
/// process.
pub async fn assert_unhealthy_without_database(app: &TestApp, path: &str) {
    platform::testing::drop_database(&app.pool).await;

    let (status, body) = app.get(path).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}

/// Asserts that the statistics of `table`, in the app's database, count
/// `rows` rows: it was analysed since it reached that size. PostgreSQL's
/// `reltuples` is -1 for a table never analysed; a table this small is
/// sampled whole, so the count is exact.
pub async fn assert_analysed_with(app: &TestApp, table: &str, rows: usize) {
    let counted = sqlx::query_scalar!(
        "SELECT reltuples FROM pg_class WHERE oid = to_regclass($1)",
        table
    )
    .fetch_one(&app.pool)
    .await
    .expect("the table's statistics");
    assert_eq!(counted, rows as f32, "rows in the statistics of {table}");
}
