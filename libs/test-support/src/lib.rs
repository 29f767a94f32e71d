//! What the services' integration tests share, so that each service's
//! `tests/` holds only what is its own.
//!
//! ```text
//! spawn.rs   a stock, payment or order service as production starts it:
//!            port 0, a database and a broker namespace of its own -> TestApp
//! system.rs  order services wired to real stock and payment services -> System
//! app.rs     TestApp: one spawned service, and requests to it
//! arrange.rs users and items created through the services' APIs
//! broker.rs  an isolated broker namespace, and a channel to look into it
//! checks.rs  malformed input and health, asserted on any service's paths
//! consumer.rs a handler's one-statement forms and batch path, called as the
//!            consumer calls them
//! ```
//!
//! A dev-dependency of the services it spawns: use it from their `tests/`
//! and `benches/` only, never from their unit tests, which would see two
//! copies of the service's crate.
mod app;
mod arrange;
mod broker;
mod checks;
mod consumer;
mod spawn;
mod system;

pub use app::{TestApp, answer, send};
pub use arrange::{item, item_with, user, user_with};
pub use broker::{broker_channel, isolated_broker};
pub use checks::{
    BAD, BAD_NUMBERS, assert_analysed_with, assert_healthy, assert_numbers_refused,
    assert_overlong_id_refused, assert_unhealthy_without_database,
};
pub use consumer::{applied_as_a_batch, events_written, handled_alone, handled_together};
/// Waiting for what a background task brings about; one implementation,
/// which the libraries' own tests use too.
pub use platform::testing::eventually;
pub use spawn::{spawn_alone, spawn_order, spawn_participant};
pub use system::{System, spawn_system};
