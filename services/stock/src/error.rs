use platform::database::DbError;
use platform::domain::{Amount, InputError};
use platform::http::ApiError;
use warp::http::StatusCode;

use crate::domain::ItemId;

/// Everything a stock request can fail with. The status of each variant is
/// decided here and nowhere else.
#[derive(Debug, thiserror::Error)]
pub enum StockError {
    /// A path segment was not a valid id or number: 400.
    #[error(transparent)]
    InvalidInput(#[from] InputError),
    /// 404: the client named an item that does not exist.
    #[error("item {0} does not exist")]
    ItemNotFound(ItemId),
    /// 409: valid request, but the item's stock is smaller than asked for.
    #[error("item {item} has less than {amount} in stock")]
    InsufficientStock { item: ItemId, amount: Amount },
    /// 422: the result would not fit in a 64-bit stock.
    #[error("adding {amount} to the stock of item {item} would exceed the largest possible stock")]
    StockOverflow { item: ItemId, amount: Amount },
    /// 503: our fault, most likely a database that is down; worth a retry.
    #[error("the stock database is unavailable, try again later")]
    Database(#[source] DbError),
}

impl StockError {
    /// Reads a failed stock change: the database's constraint and range
    /// checks become the business errors they stand for.
    pub fn from_stock_change(error: DbError, item: &ItemId, amount: Amount) -> Self {
        match error {
            DbError::ConstraintViolated { constraint } if constraint == "items_stock_not_negative" => {
                StockError::InsufficientStock {
                    item: item.clone(),
                    amount,
                }
            }
            DbError::OutOfRange => StockError::StockOverflow {
                item: item.clone(),
                amount,
            },
            other => StockError::Database(other),
        }
    }
}

impl From<DbError> for StockError {
    fn from(error: DbError) -> Self {
        StockError::Database(error)
    }
}

impl ApiError for StockError {
    fn status_code(&self) -> StatusCode {
        match self {
            StockError::InvalidInput(_) => StatusCode::BAD_REQUEST,
            StockError::ItemNotFound(_) => StatusCode::NOT_FOUND,
            StockError::InsufficientStock { .. } => StatusCode::CONFLICT,
            StockError::StockOverflow { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            StockError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}
