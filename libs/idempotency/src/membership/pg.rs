//! Membership in the `consumer_members` table of the service's database.
use std::time::Duration;

use async_trait::async_trait;
use outbox::Partition;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use super::{Member, Membership, MembershipError};

/// A member silent for this many leases is deleted: long gone, not paused.
const FORGET_AFTER_LEASES: f64 = 20.0;

#[derive(Debug, Clone)]
pub struct PgMembership {
    pool: PgPool,
}

impl PgMembership {
    /// Beats on a connection of its own to the database of `pool`: under a
    /// load that holds every pooled connection, a beat that waited its turn
    /// timed out (measured with 3 connections a replica at 2.5 % of a core),
    /// and a replica that cannot beat takes no partition.
    pub fn new(pool: &PgPool) -> Self {
        let options = pool.connect_options().as_ref().clone();
        let own = PgPoolOptions::new().max_connections(1).connect_lazy_with(options);
        PgMembership { pool: own }
    }
}

#[async_trait]
impl Membership for PgMembership {
    /// One statement; the database's clock alone says who is live, so the
    /// replicas' clocks need not agree.
    async fn beat(
        &self,
        stream: &str,
        member: &str,
        held: &[Partition],
        lease: Duration,
    ) -> Result<Vec<Member>, MembershipError> {
        let held: Vec<i16> = held.iter().map(|&p| p as i16).collect();
        let lease = lease.as_secs_f64();
        let rows = sqlx::query!(
            r#"WITH beat AS (
                   INSERT INTO consumer_members (stream, member, seen_at, held)
                   VALUES ($1, $2, now(), $3)
                   ON CONFLICT (stream, member) DO UPDATE SET seen_at = now(), held = excluded.held
               ), forgotten AS (
                   DELETE FROM consumer_members
                   WHERE stream = $1 AND member <> $2 AND seen_at < now() - make_interval(secs => $5)
               )
               SELECT member, held FROM consumer_members
               WHERE stream = $1 AND member <> $2 AND seen_at > now() - make_interval(secs => $4)"#,
            stream,
            member,
            &held,
            lease,
            lease * FORGET_AFTER_LEASES,
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| Member {
                id: row.member,
                held: row.held.into_iter().map(|p| p as Partition).collect(),
            })
            .collect())
    }

    async fn leave(&self, stream: &str, member: &str) -> Result<(), MembershipError> {
        sqlx::query!(
            "DELETE FROM consumer_members WHERE stream = $1 AND member = $2",
            stream,
            member
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
