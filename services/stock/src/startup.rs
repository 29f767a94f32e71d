use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use idempotency::participant::{self, Participant};
use outbox::topology::Topology;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use warp::{Filter, Rejection, Reply};

use crate::configuration::Stock;
use crate::consumers::CheckoutHandler;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

impl Participant for Stock {
    const QUEUE: &'static str = events::STOCK_QUEUE;
    const MIGRATOR: &'static Migrator = &MIGRATOR;
    type Handler = CheckoutHandler;

    fn handler() -> CheckoutHandler {
        CheckoutHandler
    }

    fn topology() -> Topology {
        events::topology()
    }

    fn routes(
        pool: PgPool,
        connected: Arc<AtomicBool>,
    ) -> impl Filter<Extract = (impl Reply + 'static,), Error = Rejection> + Clone + Send + Sync + 'static
    {
        crate::routes::routes(pool, connected)
    }
}

/// A stock service whose database is ready and whose port is bound.
pub type Application = participant::Application<Stock>;
