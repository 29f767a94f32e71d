use mongodb::bson::doc;

use super::*;

const NAMESPACE: &str = "order_db.orders";

const SHARDED_BY_HASHED_ID: ShardState = ShardState {
    sharded: true,
    hashed_id_index: true,
};
const SHARDED_BY_ANOTHER_KEY: ShardState = ShardState {
    sharded: true,
    hashed_id_index: false,
};
const NOT_SHARDED: ShardState = ShardState {
    sharded: false,
    hashed_id_index: false,
};

#[test]
fn the_server_codes_that_matter_are_unauthorized_and_already_initialized() {
    assert_eq!(Answer::from_code(13), Some(Answer::Unauthorized));
    assert_eq!(Answer::from_code(23), Some(Answer::AlreadyInitialized));
    assert_eq!(Answer::from_code(26), None);
    assert_eq!(Answer::from_code(20), None);
}

#[test]
fn a_collection_this_start_up_sharded_is_served() {
    assert_eq!(
        decide(Answer::Done, NOT_SHARDED, NAMESPACE),
        Ok(Sharding::ShardedNow)
    );
}

#[test]
fn already_sharded_by_hashed_id_code_23_is_served() {
    assert_eq!(
        decide(Answer::AlreadyInitialized, SHARDED_BY_HASHED_ID, NAMESPACE),
        Ok(Sharding::AlreadySharded)
    );
}

#[test]
fn already_sharded_by_another_key_code_23_is_refused() {
    let decided = decide(Answer::AlreadyInitialized, SHARDED_BY_ANOTHER_KEY, NAMESPACE);

    assert_eq!(
        decided,
        Err(ShardingError::WrongKey {
            namespace: NAMESPACE.into()
        })
    );
}

#[test]
fn unauthorized_on_a_collection_the_shard_job_sharded_is_served() {
    assert_eq!(
        decide(Answer::Unauthorized, SHARDED_BY_HASHED_ID, NAMESPACE),
        Ok(Sharding::AlreadySharded)
    );
}

#[test]
fn unauthorized_on_a_collection_sharded_by_another_key_is_refused() {
    let decided = decide(Answer::Unauthorized, SHARDED_BY_ANOTHER_KEY, NAMESPACE);

    assert!(
        matches!(decided, Err(ShardingError::WrongKey { .. })),
        "{decided:?}"
    );
}

#[test]
fn unauthorized_on_an_unsharded_collection_names_the_missing_role_in_one_line() {
    let error = decide(Answer::Unauthorized, NOT_SHARDED, NAMESPACE).expect_err("must not start");

    let line = error.to_string();
    assert_eq!(
        error,
        ShardingError::Missing {
            namespace: NAMESPACE.into()
        }
    );
    assert!(!line.contains('\n'), "{line}");
    for needed in [
        "`order_db.orders` is not sharded",
        "enableSharding action",
        "clusterManager",
        "deploy/k8s/base/mongodb-shard-job.yaml",
    ] {
        assert!(line.contains(needed), "{needed:?} missing from: {line}");
    }
}

#[test]
fn a_sharded_collection_with_a_hashed_id_index_reads_as_sharded_by_it() {
    let stats = doc! { "sharded": true, "ns": NAMESPACE, "ok": 1 };
    let indexes = [doc! { "_id": 1 }, doc! { "_id": "hashed" }];

    assert_eq!(
        ShardState::from_replies(Some(&stats), &indexes),
        SHARDED_BY_HASHED_ID
    );
}

#[test]
fn another_or_a_compound_key_is_not_the_hashed_id() {
    let stats = doc! { "sharded": true };
    let indexes = [
        doc! { "_id": 1 },
        doc! { "user_id": "hashed" },
        doc! { "_id": "hashed", "user_id": 1 },
    ];

    assert_eq!(
        ShardState::from_replies(Some(&stats), &indexes),
        SHARDED_BY_ANOTHER_KEY
    );
}

#[test]
fn a_missing_collection_or_a_reply_without_sharded_reads_as_not_sharded() {
    let unsharded = doc! { "sharded": false, "primary": "shard0" };

    assert_eq!(ShardState::from_replies(None, []), NOT_SHARDED);
    assert_eq!(ShardState::from_replies(Some(&doc! {}), []), NOT_SHARDED);
    assert_eq!(ShardState::from_replies(Some(&unsharded), []), NOT_SHARDED);
}
