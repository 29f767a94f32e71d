//! The order service: orders, their lines and what they cost.
//!
//! ```text
//! main.rs           wires settings, telemetry and the application
//! configuration.rs  settings from the environment, peers' URLs included
//! startup.rs        Application::build: store, peers, listener, routes
//! routes/           one file per resource of the `/orders` contract
//! domain/           OrderId, Order and its status, what a checkout decides
//!                   (plan), the saga's steps and timeline
//! checkout/         starting a checkout and waiting for its outcome
//! waiters.rs        which requests of this replica wait on which order
//! consumers/        the saga's events, applied once through the store
//! storage/          OrderStore, the one storage interface, and its stores:
//!   postgres/         the default: SQL, one function per statement
//!   mongo/            `--features mongodb`, chosen by ORDER_STORE=mongodb
//! peers/            the HTTP clients of the stock and payment services
//! error.rs          OrderError, the one mapping to HTTP status codes
//! ```
//!
//! Creating an order asks the payment service whether its user exists, and
//! `addItem` asks the stock service for the item's current price: both are
//! synchronous calls, allowed off the checkout path. The checkout itself
//! only ever reacts to events.
pub mod checkout;
pub mod configuration;
pub mod consumers;
pub mod domain;
pub mod error;
pub mod peers;
pub mod routes;
pub mod startup;
pub mod storage;
pub mod waiters;
