//! Whether the orders may be served from a sharded cluster: the decision,
//! apart from the server. Sharding is an administrator's step (the deploy's
//! shard Job); the service's own user has `readWrite` only, so start-up tries
//! the commands and, when they are refused, checks what that user can read.
//!
//! ```text
//! hello                        not mongos      -> NotACluster (nothing to do)
//! enableSharding, shardCollection -> Answer     (the first for servers before 6.0)
//! collStats.sharded, listIndexes  -> ShardState (readable with readWrite)
//! decide(Answer, ShardState)   -> Sharding, or ShardingError (one log line)
//! ```
use mongodb::bson::{Bson, Document};

/// The key the service expects: `_id` hashed spreads orders over the shards
/// and sends a lookup by id to one of them. The shard Job uses the same.
pub const SHARD_KEY_FIELD: &str = "_id";

/// The server codes start-up expects from the sharding commands.
const UNAUTHORIZED: i32 = 13;
const ALREADY_INITIALIZED: i32 = 23;

/// The sharding commands start-up sends, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    EnableSharding,
    ShardCollection,
}

/// What a sharding command answered, as far as start-up cares; any other
/// failure is the driver's error, passed on as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// It did what was asked, or it was already so with the same options.
    Done,
    /// Code 23, AlreadyInitialized: `shardCollection` answers it for a
    /// collection already sharded with other options (another key).
    AlreadyInitialized,
    /// Code 13, Unauthorized: the user lacks the `enableSharding` action.
    Unauthorized,
}

impl Answer {
    /// The answer a server error code stands for, `None` for any other code.
    pub fn from_code(code: i32) -> Option<Answer> {
        match code {
            UNAUTHORIZED => Some(Answer::Unauthorized),
            ALREADY_INITIALIZED => Some(Answer::AlreadyInitialized),
            _ => None,
        }
    }
}

/// What a `readWrite` user can read of the orders collection through mongos
/// (`config.collections`, which holds the key, it cannot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardState {
    /// `collStats`' `sharded`: mongos holds a routing table for it.
    pub sharded: bool,
    /// An index on `{ _id: "hashed" }` exists: a hashed `_id` shard key needs
    /// one, so a sharded collection without it is sharded by another key.
    pub hashed_id_index: bool,
}

impl ShardState {
    /// From `collStats`' reply (`None`: no such collection) and the keys of
    /// the collection's indexes.
    pub fn from_replies<'a>(
        stats: Option<&Document>,
        index_keys: impl IntoIterator<Item = &'a Document>,
    ) -> ShardState {
        ShardState {
            sharded: stats.is_some_and(|reply| reply.get_bool("sharded") == Ok(true)),
            hashed_id_index: index_keys.into_iter().any(is_hashed_id),
        }
    }
}

fn is_hashed_id(keys: &Document) -> bool {
    keys.len() == 1 && keys.get(SHARD_KEY_FIELD) == Some(&Bson::String("hashed".into()))
}

/// How the orders collection stands once start-up has decided it may serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharding {
    /// Not mongos: a replica set or a single server holds the collection whole.
    NotACluster,
    /// This start-up sharded it (its user may: an administrator's, or no auth).
    ShardedNow,
    /// Sharded by hashed `_id` before, by the shard Job or an earlier start.
    AlreadySharded,
}

/// Why the service must not start on this cluster; each says in one line
/// what an operator has to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardingError {
    #[error(
        "orders collection `{namespace}` is not sharded and this user (MONGODB_URL's) lacks the \
         enableSharding action on it (built-in role enableSharding or clusterManager, on admin): \
         run the shard job (deploy/k8s/base/mongodb-shard-job.yaml, which deploy.sh runs) as an \
         administrator, or grant the user one of those roles"
    )]
    Missing { namespace: String },
    #[error(
        "orders collection `{namespace}` is sharded, but not by {{ _id: \"hashed\" }} (it has no \
         index on that key): reshard it as an administrator (reshardCollection, key \
         {{ _id: \"hashed\" }}), or drop it and run the shard job"
    )]
    WrongKey { namespace: String },
}

/// Decides from `shardCollection`'s answer and what was read of the
/// collection after it. `enableSharding`'s answer does not matter: its
/// refusal comes with `shardCollection`'s, and since 6.0 it is not needed.
pub fn decide(
    shard_collection: Answer,
    state: ShardState,
    namespace: &str,
) -> Result<Sharding, ShardingError> {
    let namespace = namespace.to_owned();
    match shard_collection {
        Answer::Done => Ok(Sharding::ShardedNow),
        // Refused, and nobody else did it: the deploy step is missing.
        Answer::Unauthorized if !state.sharded => Err(ShardingError::Missing { namespace }),
        // Sharded before (code 23 says so too): by our key only with its index.
        _ if state.hashed_id_index => Ok(Sharding::AlreadySharded),
        _ => Err(ShardingError::WrongKey { namespace }),
    }
}

#[cfg(test)]
mod tests;
