//! Integration tests of the payment service: each test spawns the application
//! on port 0 with a fresh database on the local PostgreSQL server.
mod alone;
mod batch_init;
mod concurrency;
mod health;
mod helpers;
mod malformed;
mod saga;
mod together;
mod users;
