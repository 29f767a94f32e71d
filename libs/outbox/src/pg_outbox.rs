//! The `outbox` table as the relay's store: a sweep's claim is a
//! transaction holding its rows with `FOR UPDATE SKIP LOCKED`.
use std::time::Duration;

use platform::database::DbError;
use sqlx::{PgPool, Postgres, Transaction};

use crate::claim;
use crate::outbox_store::OutboxStore;
use crate::settings::RelaySettings;
use crate::store::{self, Stored};

/// The outbox of one PostgreSQL database. [`crate::Relay::new`] builds it.
#[derive(Debug, Clone)]
pub struct PgOutbox {
    pool: PgPool,
    /// PostgreSQL ends a claim's transaction once it has sat idle this
    /// long: a relay that hangs while it holds rows holds them no longer.
    claim_idle_limit: Duration,
}

impl PgOutbox {
    pub(crate) fn new(pool: PgPool, settings: &RelaySettings) -> Self {
        PgOutbox {
            pool,
            claim_idle_limit: settings.confirm_timeout * 2,
        }
    }
}

impl OutboxStore for PgOutbox {
    type Claim = Transaction<'static, Postgres>;
    type Error = DbError;

    async fn claim(&self, limit: i64, min_age: Duration) -> Result<(Self::Claim, Vec<Stored>), DbError> {
        let mut tx = self.pool.begin().await?;
        claim::end_if_idle(&mut tx, self.claim_idle_limit).await?;
        let rows = claim::claim(&mut tx, limit, min_age.as_secs_f64()).await?;
        Ok((tx, rows))
    }

    async fn settle(&self, mut tx: Self::Claim, confirmed: &[i64]) -> Result<(), DbError> {
        store::delete(&mut *tx, confirmed).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Waits for the rollback, where dropping the transaction would roll
    /// back only once the pool gets the connection back.
    async fn abandon(&self, tx: Self::Claim) -> Result<(), DbError> {
        tx.rollback().await?;
        Ok(())
    }

    async fn delete(&self, positions: &[i64]) -> Result<(), DbError> {
        store::delete(&self.pool, positions).await
    }

    async fn backlog(&self) -> Result<(i64, f64), DbError> {
        claim::backlog(&self.pool).await
    }
}
