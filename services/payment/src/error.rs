use platform::database::DbError;
use platform::domain::{Amount, InputError};
use platform::http::ApiError;
use warp::http::StatusCode;

use crate::domain::UserId;

/// Everything a payment request can fail with. The status of each variant is
/// decided here and nowhere else.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// A path segment was not a valid id or number: 400.
    #[error(transparent)]
    InvalidInput(#[from] InputError),
    /// 404: the client named a user that does not exist.
    #[error("user {0} does not exist")]
    UserNotFound(UserId),
    /// 409: valid request, but the user's credit is smaller than asked for.
    #[error("user {user} has less than {amount} credit")]
    InsufficientCredit { user: UserId, amount: Amount },
    /// 422: the result would not fit in a 64-bit credit.
    #[error("adding {amount} to the credit of user {user} would exceed the largest possible credit")]
    CreditOverflow { user: UserId, amount: Amount },
    /// 503: our fault, most likely a database that is down; worth a retry.
    #[error("the payment database is unavailable, try again later")]
    Database(#[source] DbError),
}

impl PaymentError {
    /// Reads a failed credit change: the database's constraint and range
    /// checks become the business errors they stand for.
    pub fn from_credit_change(error: DbError, user: &UserId, amount: Amount) -> Self {
        match error {
            DbError::ConstraintViolated { constraint } if constraint == "users_credit_not_negative" => {
                PaymentError::InsufficientCredit {
                    user: user.clone(),
                    amount,
                }
            }
            DbError::OutOfRange => PaymentError::CreditOverflow {
                user: user.clone(),
                amount,
            },
            other => PaymentError::Database(other),
        }
    }
}

impl From<DbError> for PaymentError {
    fn from(error: DbError) -> Self {
        PaymentError::Database(error)
    }
}

impl ApiError for PaymentError {
    fn status_code(&self) -> StatusCode {
        match self {
            PaymentError::InvalidInput(_) => StatusCode::BAD_REQUEST,
            PaymentError::UserNotFound(_) => StatusCode::NOT_FOUND,
            PaymentError::InsufficientCredit { .. } => StatusCode::CONFLICT,
            PaymentError::CreditOverflow { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            PaymentError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}
