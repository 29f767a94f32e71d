//! What the relay needs of the database its outbox lives in. The relay
//! itself (publishing in rounds with confirms, the hand-over, the sweeps,
//! backoff, metrics) is written once over this trait: `PgOutbox` implements
//! it for the `outbox` table, and a service whose outbox lives elsewhere
//! (the order service's MongoDB store) implements it for its own.
use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use crate::store::Stored;

/// An outbox the relay can claim events from and delete published ones in.
///
/// A row's `position` is how the relay names it back to the store. The
/// relay also remembers the positions it published, to check the order of
/// rows handed over later ([`crate::Handoff`]); a store whose commits hand
/// no rows over may number the rows of each claim afresh.
pub trait OutboxStore: Debug + Send + Sync {
    /// What a sweep holds while it publishes: ended by [`OutboxStore::settle`]
    /// or [`OutboxStore::abandon`].
    type Claim: Debug + Send;
    type Error: std::error::Error + Send + Sync + 'static;

    /// Whether a wake-up without rows ([`crate::Handoff::wake`]) means
    /// "sweep now": a store whose commits hand no rows over wakes its relay
    /// this way, and its claims are exclusive whatever the events' age, so
    /// a sweep takes what was just committed.
    const SWEEP_WHEN_WOKEN: bool = false;

    /// How long a claim stays this relay's alone when it lapses by the
    /// clock (MongoDB's leases), or `None` when it lasts as long as the
    /// relay holds it (a PostgreSQL transaction). The relay gives up on
    /// publishing a claim half-way through it, so that no other relay
    /// sends the same events beside it.
    const LEASE: Option<Duration> = None;

    /// Claims up to `limit` events committed at least `min_age` ago that no
    /// other relay holds, each aggregate's in order, so that this relay
    /// alone publishes them until the claim ends.
    fn claim(
        &self,
        limit: i64,
        min_age: Duration,
    ) -> impl Future<Output = Result<(Self::Claim, Vec<Stored>), Self::Error>> + Send;

    /// Deletes the claimed rows at the `confirmed` positions and ends the
    /// claim; the rest stay to be published again. Of each aggregate, the
    /// relay confirms only a prefix of its events in the claim: it never
    /// publishes an event behind an unconfirmed one.
    fn settle(
        &self,
        claim: Self::Claim,
        confirmed: &[i64],
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Ends the claim with every row still in place, as a relay that dies
    /// would leave it.
    fn abandon(&self, claim: Self::Claim) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Deletes rows handed over and published, outside any claim.
    fn delete(&self, positions: &[i64]) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// How many events wait, and the age in seconds of the oldest (0 if
    /// none): the relay's backlog gauges.
    fn backlog(&self) -> impl Future<Output = Result<(i64, f64), Self::Error>> + Send;
}
