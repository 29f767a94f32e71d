//! The order service: orders, their lines and what they cost.
//!
//! ```text
//! main.rs           wires settings, telemetry and the application
//! configuration.rs  settings from the environment, peers' URLs included
//! startup.rs        Application::build: database, peers, listener, routes
//! routes/           one file per resource of the `/orders` contract
//! domain/           OrderId, Order and the cost arithmetic
//! storage/          the SQL, one function per statement
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
