//! Integration tests of the order service. Each test spawns the order
//! service together with real stock and payment services, each on port 0
//! with a fresh database on the local PostgreSQL server.
mod batch_init;
mod checkout;
mod consistency;
mod health;
mod helpers;
mod malformed;
mod metrics;
mod orders;
mod peers_down;
mod self_healing;
