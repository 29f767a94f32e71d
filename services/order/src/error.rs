use platform::database::DbError;
use platform::domain::InputError;
use platform::http::ApiError;
use warp::http::StatusCode;

use crate::domain::{ItemId, OrderId, UserId};
use crate::peers::PeerError;
use crate::storage::StoreError;

/// Everything an order request can fail with. The status of each variant is
/// decided here and nowhere else.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    /// A path segment was not a valid id or number: 400.
    #[error(transparent)]
    InvalidInput(#[from] InputError),
    /// 404: the client named an order that does not exist.
    #[error("order {0} does not exist")]
    OrderNotFound(OrderId),
    /// 404: the payment service does not know this user.
    #[error("user {0} does not exist")]
    UserNotFound(UserId),
    /// 404: the stock service does not know this item.
    #[error("item {0} does not exist")]
    ItemNotFound(ItemId),
    /// 409: a paid order cannot change any more.
    #[error("order {0} is already paid and cannot change")]
    AlreadyPaid(OrderId),
    /// 409: a checkout runs; the order's items are frozen until it ends.
    #[error("order {0} is being checked out and cannot change")]
    CheckoutInProgress(OrderId),
    /// 409: the checkout's saga ended without payment; nothing was taken.
    #[error("checkout of order {order} failed: {reason}")]
    CheckoutFailed { order: OrderId, reason: String },
    /// 503: the saga did not end within the checkout timeout. It still ends;
    /// a later checkout of the order answers its outcome.
    #[error("checkout of order {0} is still in progress; check it out again to get its outcome")]
    CheckoutPending(OrderId),
    /// 422: the order's total would not fit in 64 bits.
    #[error("adding this line would make the total cost of order {0} exceed the largest possible amount")]
    CostOverflow(OrderId),
    /// 503: a peer service is down or slow; worth a retry.
    #[error(transparent)]
    Peer(#[from] PeerError),
    /// 503: our fault, most likely a database that is down; worth a retry.
    #[error("the order database is unavailable, try again later")]
    Database(#[source] StoreError),
}

impl From<DbError> for OrderError {
    fn from(error: DbError) -> Self {
        OrderError::Database(StoreError::Postgres(error))
    }
}

#[cfg(feature = "mongodb")]
impl From<mongodb::error::Error> for OrderError {
    fn from(error: mongodb::error::Error) -> Self {
        OrderError::Database(StoreError::MongoDb(error))
    }
}

impl ApiError for OrderError {
    fn status_code(&self) -> StatusCode {
        match self {
            OrderError::InvalidInput(_) => StatusCode::BAD_REQUEST,
            OrderError::OrderNotFound(_) | OrderError::UserNotFound(_) | OrderError::ItemNotFound(_) => {
                StatusCode::NOT_FOUND
            }
            OrderError::AlreadyPaid(_)
            | OrderError::CheckoutInProgress(_)
            | OrderError::CheckoutFailed { .. } => StatusCode::CONFLICT,
            OrderError::CheckoutPending(_) => StatusCode::SERVICE_UNAVAILABLE,
            OrderError::CostOverflow(_) => StatusCode::UNPROCESSABLE_ENTITY,
            OrderError::Peer(_) | OrderError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

#[cfg(test)]
mod tests {
    use platform::failure::Failure;

    use super::*;

    #[test]
    fn a_store_fault_is_a_503_worth_a_retry_and_a_refused_change_is_not_retried() {
        let down = OrderError::from(DbError::Unavailable(sqlx::Error::PoolTimedOut));
        let refused = OrderError::from(DbError::Duplicate);

        assert_eq!(down.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(Failure::of(&down).is_transient());
        assert_eq!(Failure::of(&refused), Failure::Permanent);
    }
}
