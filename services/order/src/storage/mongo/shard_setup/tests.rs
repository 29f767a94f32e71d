//! Start-up's sharding path against a fake server that answers as MongoDB
//! would for each kind of user: the real `ensure` and `decide` run.
use std::sync::Mutex;

use super::*;
use crate::storage::mongo::sharding::ShardingError;

/// What is asked of it, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    Hello,
    Run(Step),
    Read,
}

/// A server whose answers are set by the test.
#[derive(Debug)]
struct FakeServer {
    router: bool,
    /// `shardCollection`'s answer; `enableSharding` gets the same but
    /// `AlreadyInitialized`, which it does not answer since 6.0.
    answer: Result<Answer, String>,
    state: ShardState,
    asked: Mutex<Vec<Asked>>,
}

impl FakeServer {
    fn mongos(answer: Answer, state: ShardState) -> Self {
        FakeServer {
            router: true,
            answer: Ok(answer),
            state,
            asked: Mutex::new(Vec::new()),
        }
    }

    fn asked(&self) -> Vec<Asked> {
        self.asked.lock().expect("not poisoned").clone()
    }

    fn ask(&self, question: Asked) {
        self.asked.lock().expect("not poisoned").push(question);
    }
}

impl ShardingServer for FakeServer {
    fn namespace(&self) -> String {
        "order_db.orders".into()
    }

    async fn is_router(&self) -> Result<bool, Error> {
        self.ask(Asked::Hello);
        Ok(self.router)
    }

    async fn run(&self, step: Step) -> Result<Answer, Error> {
        self.ask(Asked::Run(step));
        match (&self.answer, step) {
            (Ok(Answer::AlreadyInitialized), Step::EnableSharding) => Ok(Answer::Done),
            (Ok(answer), _) => Ok(*answer),
            (Err(message), _) => Err(Error::custom(message.clone())),
        }
    }

    async fn read_state(&self) -> Result<ShardState, Error> {
        self.ask(Asked::Read);
        Ok(self.state)
    }
}

const SHARDED_BY_HASHED_ID: ShardState = ShardState {
    sharded: true,
    hashed_id_index: true,
};
const NOT_SHARDED: ShardState = ShardState {
    sharded: false,
    hashed_id_index: false,
};

const THE_WHOLE_PATH: [Asked; 4] = [
    Asked::Hello,
    Asked::Run(Step::EnableSharding),
    Asked::Run(Step::ShardCollection),
    Asked::Read,
];

#[tokio::test]
async fn a_replica_set_is_served_without_a_sharding_command() {
    let server = FakeServer {
        router: false,
        ..FakeServer::mongos(Answer::Unauthorized, NOT_SHARDED)
    };

    let sharding = ensure(&server).await.expect("starts");

    assert_eq!(sharding, Sharding::NotACluster);
    assert_eq!(server.asked(), [Asked::Hello]);
}

#[tokio::test]
async fn an_administrator_shards_the_orders_at_start_up() {
    let server = FakeServer::mongos(Answer::Done, NOT_SHARDED);

    let sharding = ensure(&server).await.expect("starts");

    assert_eq!(sharding, Sharding::ShardedNow);
    assert_eq!(server.asked(), THE_WHOLE_PATH);
}

#[tokio::test]
async fn a_read_write_user_starts_once_the_shard_job_has_run() {
    let server = FakeServer::mongos(Answer::Unauthorized, SHARDED_BY_HASHED_ID);

    let sharding = ensure(&server).await.expect("starts");

    assert_eq!(sharding, Sharding::AlreadySharded);
    assert_eq!(server.asked(), THE_WHOLE_PATH);
}

#[tokio::test]
async fn code_23_on_a_collection_sharded_by_hashed_id_starts() {
    let server = FakeServer::mongos(Answer::AlreadyInitialized, SHARDED_BY_HASHED_ID);

    let sharding = ensure(&server).await.expect("starts");

    assert_eq!(sharding, Sharding::AlreadySharded);
}

#[tokio::test]
async fn a_read_write_user_on_an_unsharded_collection_fails_naming_the_role() {
    let server = FakeServer::mongos(Answer::Unauthorized, NOT_SHARDED);

    let error = ensure(&server).await.expect_err("must not start");

    let SetupError::Sharding(ShardingError::Missing { namespace }) = &error else {
        panic!("not the missing role: {error:?}");
    };
    assert_eq!(namespace, "order_db.orders");
    let driver: Error = error.into();
    assert!(driver.to_string().contains("clusterManager"), "{driver}");
}

#[tokio::test]
async fn any_other_failure_is_the_drivers_and_stops_at_once() {
    let server = FakeServer {
        answer: Err("connection reset".into()),
        ..FakeServer::mongos(Answer::Done, NOT_SHARDED)
    };

    let error = ensure(&server).await.expect_err("fails");

    assert!(matches!(error, SetupError::Driver(_)), "{error:?}");
    assert_eq!(server.asked(), [Asked::Hello, Asked::Run(Step::EnableSharding)]);
}
