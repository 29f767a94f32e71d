//! The PostgreSQL store: the order database's SQL, one function per
//! statement, each taking any executor so a caller may run it inside its
//! own transaction.
mod orders;
mod outcomes;
mod saga;
mod store;
mod writes;

pub use store::PostgresStore;
