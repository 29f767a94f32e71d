mod user;

pub use user::{CreditChanged, User, UserId};
