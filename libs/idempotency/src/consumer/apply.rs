use std::future::Future;

use sqlx::PgPool;

use super::{Handler, HandlerError, IncomingMessage, Outcome};

/// Applies a message's effect at most once, wherever the effect is stored:
/// the message id is recorded with the effect, atomically, so a message seen
/// before is skipped. The consumer acks only after this returns `Ok`.
pub trait ApplyOnce: Send + Sync + 'static {
    /// `consumer` names the inbox the message id is recorded in (the queue).
    fn apply_once<'a>(
        &'a self,
        consumer: &'a str,
        message: &'a IncomingMessage,
    ) -> impl Future<Output = Result<Outcome, HandlerError>> + Send + 'a;
}

/// A [`Handler`] applied once through the `inbox` table of a PostgreSQL
/// database: the inbox row and the handler's effect share one transaction.
#[derive(Debug)]
pub struct PgInbox<H> {
    pool: PgPool,
    handler: H,
}

impl<H: Handler> PgInbox<H> {
    pub fn new(pool: PgPool, handler: H) -> Self {
        PgInbox { pool, handler }
    }
}

impl<H: Handler> ApplyOnce for PgInbox<H> {
    async fn apply_once(&self, consumer: &str, message: &IncomingMessage) -> Result<Outcome, HandlerError> {
        let mut tx = self.pool.begin().await?;
        if !crate::inbox::record(&mut tx, consumer, message.message_id).await? {
            return Ok(Outcome::Duplicate);
        }
        self.handler.handle(&mut tx, message).await?;
        tx.commit().await?;
        Ok(Outcome::Applied)
    }
}
