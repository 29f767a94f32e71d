//! Which replica consumes which partitions of a stream.
//!
//! Every replica's consumer beats, every sixth of the lease, into a table of
//! its service's own database: "I am alive and hold these partitions". The
//! members are the replicas that beat within the lease. The rule, which
//! every replica applies alike to what it reads:
//!
//! - the live members, sorted by id, are numbered 0..m; partition p is
//!   assigned to member p mod m (8 partitions on 2 replicas: 4 each);
//! - a replica lets go of a partition that is no longer assigned to it
//!   between two batches, once the last is committed and acknowledged, by
//!   closing the partition's channel (what it had received and not yet
//!   applied goes back to the head of the queue, in order);
//! - it takes a partition assigned to it only once no other live member
//!   says it holds it; a member whose lease ran out holds nothing.
//!
//! The broker stays the safety net: each partition's queue has a single
//! active consumer, so a replica that takes a partition while another still
//! consumes it (a member paused past its lease, say) waits as a standby
//! until the broker drops the other's connection, after two missed AMQP
//! heartbeats.
mod pg;
mod plan;

use std::time::Duration;

use async_trait::async_trait;
use outbox::Partition;

pub use pg::PgMembership;
pub use plan::{Plan, assigned, plan};

/// A live member of a stream, as its last beat described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub held: Vec<Partition>,
}

/// Why a beat failed; the consumer keeps what it holds and beats again.
pub type MembershipError = Box<dyn std::error::Error + Send + Sync>;

/// Where the members of a stream beat: the service's own database.
#[async_trait]
pub trait Membership: Send + Sync + std::fmt::Debug + 'static {
    /// Records that `member` is alive and holds `held`, forgets members
    /// silent for many leases, and returns the other members that beat
    /// within `lease`.
    async fn beat(
        &self,
        stream: &str,
        member: &str,
        held: &[Partition],
        lease: Duration,
    ) -> Result<Vec<Member>, MembershipError>;

    /// Removes `member` at shutdown, so that the others take its partitions
    /// at their next beat instead of after the lease.
    async fn leave(&self, stream: &str, member: &str) -> Result<(), MembershipError>;
}
