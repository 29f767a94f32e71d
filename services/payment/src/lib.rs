//! The payment service: users and the credit they can spend.
//!
//! ```text
//! main.rs           wires settings, telemetry and the application
//! configuration.rs  its name and default port; Settings from the environment
//! startup.rs        its queue, handler, routes and migrations; Application,
//!                   the start-up shared with the other saga participants
//!                   (idempotency::participant)
//! routes/           one file per resource of the `/payment` contract
//! domain/           UserId and the answers' shapes
//! storage/          the SQL, one function per statement
//! error.rs          PaymentError, the one mapping to HTTP status codes
//! ```
//!
//! Credit never goes below zero because the `users` table refuses it, not
//! because a handler checked first: concurrent payments are serialised by
//! PostgreSQL's row lock and the `CHECK` constraint decides.
pub mod configuration;
pub mod consumers;
pub mod domain;
pub mod error;
pub mod routes;
pub mod startup;
pub mod storage;
