use platform::domain::{Id, IdKind};
use serde::Serialize;

/// Marker for user ids.
#[derive(Debug)]
pub enum User {}

impl IdKind for User {
    const NAME: &'static str = "user";
}

pub type UserId = Id<User>;

/// What `find_user` and every change of credit answer.
#[derive(Debug, Serialize)]
pub struct CreditChanged {
    pub user_id: UserId,
    pub credit: i64,
}

impl CreditChanged {
    pub fn new(user_id: UserId, credit: i64) -> Self {
        CreditChanged { user_id, credit }
    }
}
