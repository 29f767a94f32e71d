//! `GET /<prefix>/openapi.json`: each service's part of the one OpenAPI
//! document of the public API, `docs/openapi.json`.
//!
//! The document is written by hand and embedded at build time, so the file a
//! reader opens is exactly what the services serve. The handlers parse their
//! path segments themselves (parse, don't validate), which leaves nothing for
//! a generator to read the schemas from; the tests hold the two together:
//! unit tests here check the document's shape and the domain types' bounds,
//! and schemathesis (`make api-test`) checks every answer of the running
//! system against it.
use serde_json::{Map, Value};
use warp::http::header::CONTENT_TYPE;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// The whole document, as committed.
pub const DOCUMENT: &str = include_str!("../../../docs/openapi.json");

/// The document with only the paths under `/<prefix>/`. Components are kept
/// whole: a part stays valid on its own, and the few unused ones cost
/// nothing.
pub fn part(prefix: &str) -> Value {
    let mut document: Value = serde_json::from_str(DOCUMENT).expect("docs/openapi.json is JSON");
    let own = format!("/{prefix}/");
    if let Some(Value::Object(paths)) = document.get_mut("paths") {
        let kept: Map<String, Value> = std::mem::take(paths)
            .into_iter()
            .filter(|(path, _)| path.starts_with(&own))
            .collect();
        *paths = kept;
    }
    document
}

/// Serves [`part`] for `prefix`, serialised once at start.
pub fn route(prefix: &'static str) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let body = part(prefix).to_string();
    warp::path(prefix)
        .and(warp::path("openapi.json"))
        .and(warp::path::end())
        .and(warp::get())
        .map(move || warp::reply::with_header(body.clone(), CONTENT_TYPE, "application/json").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Amount, BatchSize, Id, IdKind, Quantity};

    enum Thing {}

    impl IdKind for Thing {
        const NAME: &'static str = "thing";
    }

    fn document() -> Value {
        serde_json::from_str(DOCUMENT).expect("JSON")
    }

    fn schema(name: &str) -> Value {
        document()["components"]["schemas"][name].clone()
    }

    #[test]
    fn each_part_holds_its_own_paths_only() {
        for prefix in ["orders", "stock", "payment"] {
            let part = part(prefix);
            let paths = part["paths"].as_object().expect("paths");
            assert!(paths.contains_key(&format!("/{prefix}/health")));
            assert!(paths.contains_key(&format!("/{prefix}/openapi.json")));
            assert!(
                paths.keys().all(|p| p.starts_with(&format!("/{prefix}/"))),
                "{prefix}: {paths:?}"
            );
            assert_eq!(part["openapi"], "3.1.0");
        }
    }

    #[test]
    fn every_path_of_the_contract_is_documented() {
        let document = document();
        let paths = document["paths"].as_object().expect("paths");
        for path in [
            "/stock/item/create/{price}",
            "/stock/batch_init/{n}/{starting_stock}/{item_price}",
            "/stock/find/{item_id}",
            "/stock/add/{item_id}/{amount}",
            "/stock/subtract/{item_id}/{amount}",
            "/payment/create_user",
            "/payment/batch_init/{n}/{starting_money}",
            "/payment/find_user/{user_id}",
            "/payment/add_funds/{user_id}/{amount}",
            "/payment/pay/{user_id}/{amount}",
            "/orders/create/{user_id}",
            "/orders/batch_init/{n}/{n_items}/{n_users}/{item_price}",
            "/orders/find/{order_id}",
            "/orders/addItem/{order_id}/{item_id}/{quantity}",
            "/orders/checkout/{order_id}",
            "/orders/status/{order_id}",
        ] {
            assert!(paths.contains_key(path), "{path} is not documented");
        }
    }

    #[test]
    fn number_bounds_are_the_domain_types_bounds() {
        let bounds = |name: &str| {
            let schema = schema(name);
            (schema["minimum"].as_i64(), schema["maximum"].as_i64())
        };
        assert_eq!(bounds("Amount"), (Some(0), Some(i64::MAX)));
        assert_eq!(bounds("Quantity"), (Some(1), Some(i64::MAX)));
        assert_eq!(bounds("BatchSize"), (Some(0), Some(BatchSize::MAX)));
        assert_eq!(bounds("PositiveBatchSize"), (Some(1), Some(BatchSize::MAX)));
        assert!(Amount::parse("a", &i64::MAX.to_string()).is_ok());
        assert!(Quantity::parse("0").is_err());
    }

    #[test]
    fn the_id_pattern_is_the_one_ids_are_parsed_with() {
        let pattern = schema("Id")["pattern"].as_str().expect("a pattern").to_owned();
        assert_eq!(
            pattern,
            format!("^[A-Za-z0-9._~-]{{1,{}}}$", Id::<Thing>::MAX_LEN)
        );
        for good in ["0", "42", "0b3f6c1e-2a8f-4a55-9d0c-6f1f4d7a2b11", "a.b_c~d"] {
            assert!(Id::<Thing>::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "a b", "a/b", "%2F", "é", "a?b"] {
            assert!(Id::<Thing>::parse(bad).is_err(), "{bad}");
        }
    }
}
