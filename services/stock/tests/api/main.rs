//! Integration tests of the stock service: each test spawns the application
//! on port 0 with a fresh database on the local PostgreSQL server.
mod alone;
mod batch_init;
mod concurrency;
mod health;
mod helpers;
mod idempotency_key;
mod items;
mod malformed;
mod openapi;
mod saga;
mod together;
