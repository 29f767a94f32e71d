//! Start-up's questions to the server about sharding, and what it does with
//! the answers (`sharding::decide`). The questions are behind
//! `ShardingServer` so that tests can answer them without a server.
use futures::TryStreamExt;
use mongodb::IndexModel;
use mongodb::bson::{Document, doc};
use mongodb::error::Error;

use super::setup::{Collections, SetupError, command_code};
use super::sharding::{Answer, ShardState, Sharding, Step, decide};

/// No such collection (or database) yet: nothing is sharded.
const NAMESPACE_NOT_FOUND: i32 = 26;

/// What start-up asks the server; `Collections` asks the real one.
pub(super) trait ShardingServer {
    /// `<database>.orders`, as the commands and the log name it.
    fn namespace(&self) -> String;
    /// Whether the server is a `mongos`, the only one that shards.
    async fn is_router(&self) -> Result<bool, Error>;
    /// Runs one sharding command as this user.
    async fn run(&self, step: Step) -> Result<Answer, Error>;
    /// What this user can read of how the orders are sharded.
    async fn read_state(&self) -> Result<ShardState, Error>;
}

/// Shards the orders where the server is mongos and this user may; checks
/// that they are sharded by hashed `_id` where it may not. A refusal is
/// logged in one line and returned, so the service exits.
pub(super) async fn ensure(server: &impl ShardingServer) -> Result<Sharding, SetupError> {
    if !server.is_router().await? {
        tracing::info!("not a sharded cluster: the orders collection is not sharded");
        return Ok(Sharding::NotACluster);
    }
    server.run(Step::EnableSharding).await?;
    let answer = server.run(Step::ShardCollection).await?;
    let state = server.read_state().await?;
    let namespace = server.namespace();
    match decide(answer, state, &namespace) {
        Ok(sharding) => {
            tracing::info!(%namespace, ?sharding, ?answer, "orders sharded by hashed order id");
            Ok(sharding)
        }
        Err(error) => {
            tracing::error!(%namespace, ?answer, ?state, "{error}");
            Err(error.into())
        }
    }
}

impl ShardingServer for Collections {
    fn namespace(&self) -> String {
        format!("{}.{}", self.database.name(), self.orders.name())
    }

    async fn is_router(&self) -> Result<bool, Error> {
        let hello = self.database.run_command(doc! { "hello": 1 }).await?;
        Ok(hello.get_str("msg") == Ok("isdbgrid"))
    }

    async fn run(&self, step: Step) -> Result<Answer, Error> {
        let command = match step {
            Step::EnableSharding => doc! { "enableSharding": self.database.name() },
            Step::ShardCollection => doc! {
                "shardCollection": self.namespace(),
                "key": { super::sharding::SHARD_KEY_FIELD: "hashed" },
            },
        };
        match self.client.database("admin").run_command(command).await {
            Ok(_) => Ok(Answer::Done),
            Err(error) => command_code(&error).and_then(Answer::from_code).ok_or(error),
        }
    }

    /// `collStats` and `listIndexes`: the `read` role grants both, and
    /// through mongos `collStats` says whether the collection is sharded.
    async fn read_state(&self) -> Result<ShardState, Error> {
        let stats = self
            .database
            .run_command(doc! { "collStats": self.orders.name() })
            .await;
        let stats = missing_is_none(stats)?;
        let indexes = match missing_is_none(self.orders.list_indexes().await)? {
            Some(cursor) => cursor.try_collect::<Vec<IndexModel>>().await?,
            None => Vec::new(),
        };
        let keys: Vec<&Document> = indexes.iter().map(|index| &index.keys).collect();
        Ok(ShardState::from_replies(stats.as_ref(), keys))
    }
}

fn missing_is_none<T>(result: Result<T, Error>) -> Result<Option<T>, Error> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error) if command_code(&error) == Some(NAMESPACE_NOT_FOUND) => Ok(None),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests;
