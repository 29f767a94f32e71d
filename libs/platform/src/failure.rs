//! Whose failure it was: the infrastructure's or the work's own. The one
//! place where errors are classified for retrying.
//!
//! A database or broker that is down, a pool with no free connection, a
//! serialisation failure or a deadlock say nothing about the message being
//! handled: the same work succeeds once the fault is over, however long it
//! lasts, so such a failure must never bring a message closer to the parking
//! lot. A message that cannot be decoded, breaks the contract or is refused
//! by the handler fails the same way every time: that failure counts.
use std::error::Error;

use crate::database::DbError;

/// How a failed piece of work is to be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The infrastructure failed: wait, then try the same work again, for as
    /// long as the fault lasts. Never counted as an attempt.
    Transient,
    /// The work itself failed: trying again gives the same answer, so it
    /// counts toward parking.
    Permanent,
}

impl Failure {
    /// Classifies `error` by the first error of its source chain that this
    /// module knows; an error it knows nothing about is the work's own.
    pub fn of(error: &(dyn Error + 'static)) -> Failure {
        let mut current = Some(error);
        while let Some(error) = current {
            if let Some(failure) = known(error) {
                return failure;
            }
            current = error.source();
        }
        Failure::Permanent
    }

    pub fn is_transient(self) -> bool {
        self == Failure::Transient
    }
}

fn known(error: &(dyn Error + 'static)) -> Option<Failure> {
    if let Some(error) = error.downcast_ref::<DbError>() {
        return Some(of_db(error));
    }
    if let Some(error) = error.downcast_ref::<sqlx::Error>() {
        return Some(of_sqlx(error));
    }
    if error.is::<std::io::Error>() || error.is::<tokio::time::error::Elapsed>() {
        return Some(Failure::Transient);
    }
    #[cfg(feature = "mongodb")]
    if let Some(error) = error.downcast_ref::<mongodb::error::Error>() {
        return Some(of_mongodb(error));
    }
    None
}

fn of_db(error: &DbError) -> Failure {
    match error {
        DbError::Conflict => Failure::Transient,
        DbError::Unavailable(error) => of_sqlx(error),
        DbError::ConstraintViolated { .. } | DbError::Duplicate | DbError::OutOfRange => Failure::Permanent,
    }
}

fn of_sqlx(error: &sqlx::Error) -> Failure {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Failure::Transient,
        sqlx::Error::Database(error) => of_sqlstate(error.code().as_deref().unwrap_or_default()),
        _ => Failure::Permanent,
    }
}

/// PostgreSQL's error codes (appendix A of its manual) that mean "the server
/// or the connection failed, or the transaction lost a race", not "this
/// statement is wrong".
fn of_sqlstate(code: &str) -> Failure {
    let transient = code.starts_with("08") // connection exception
        || code.starts_with("53") // insufficient resources: too many connections, disk full
        || code.starts_with("58") // system error: I/O
        || matches!(
            code,
            "40001" // serialization failure
                | "40P01" // deadlock detected
                | "55P03" // lock not available
                | "57014" // canceled: statement timeout
                | "57P01" // admin shutdown
                | "57P02" // crash shutdown
                | "57P03" // cannot connect now: starting up, recovering
                | "57P05" // idle session timeout
                | "25P03" // idle in transaction session timeout
        );
    if transient {
        Failure::Transient
    } else {
        Failure::Permanent
    }
}

#[cfg(feature = "mongodb")]
fn of_mongodb(error: &mongodb::error::Error) -> Failure {
    use mongodb::error::{ErrorKind, RETRYABLE_WRITE_ERROR, TRANSIENT_TRANSACTION_ERROR};
    let unreachable = matches!(
        error.kind.as_ref(),
        ErrorKind::Io(_) | ErrorKind::ConnectionPoolCleared { .. } | ErrorKind::ServerSelection { .. }
    );
    if unreachable
        || error.contains_label(RETRYABLE_WRITE_ERROR)
        || error.contains_label(TRANSIENT_TRANSACTION_ERROR)
    {
        Failure::Transient
    } else {
        Failure::Permanent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error wrapping another, as a service's error enum wraps `DbError`.
    #[derive(Debug, thiserror::Error)]
    #[error("the step failed")]
    struct Wrapped(#[source] DbError);

    fn boxed(error: impl Error + Send + Sync + 'static) -> Box<dyn Error + Send + Sync> {
        Box::new(error)
    }

    #[test]
    fn an_unreachable_or_exhausted_database_is_transient() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        for error in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::WorkerCrashed,
            sqlx::Error::Io(refused),
        ] {
            let error = boxed(DbError::Unavailable(error));
            assert_eq!(Failure::of(error.as_ref()), Failure::Transient, "{error:?}");
        }
    }

    #[test]
    fn a_race_lost_to_another_transaction_is_transient() {
        assert!(Failure::of(&DbError::Conflict).is_transient());
    }

    #[test]
    fn server_states_and_connection_codes_are_transient() {
        for code in [
            "08006", "08001", "53300", "57P01", "57P03", "40001", "40P01", "58030",
        ] {
            assert_eq!(of_sqlstate(code), Failure::Transient, "{code}");
        }
    }

    #[test]
    fn a_wrong_statement_or_a_refused_change_is_permanent() {
        for code in ["42703", "42P01", "22P02", "23502"] {
            assert_eq!(of_sqlstate(code), Failure::Permanent, "{code}");
        }
        let refused = DbError::ConstraintViolated {
            constraint: "stock_not_negative".into(),
        };
        for error in [refused, DbError::Duplicate, DbError::OutOfRange] {
            assert_eq!(Failure::of(&error), Failure::Permanent, "{error:?}");
        }
        assert_eq!(
            Failure::of(&DbError::Unavailable(sqlx::Error::RowNotFound)),
            Failure::Permanent
        );
    }

    #[test]
    fn the_cause_is_found_behind_the_errors_that_wrap_it() {
        let error = boxed(Wrapped(DbError::Unavailable(sqlx::Error::PoolTimedOut)));
        assert!(Failure::of(error.as_ref()).is_transient());
        let error = boxed(Wrapped(DbError::Duplicate));
        assert_eq!(Failure::of(error.as_ref()), Failure::Permanent);
    }

    #[test]
    fn what_the_message_itself_gets_wrong_is_permanent() {
        let undecodable = serde_json::from_str::<u32>("\"not a number\"").expect_err("not a number");
        assert_eq!(Failure::of(&undecodable), Failure::Permanent);
        let text: Box<dyn Error + Send + Sync> = "stock.checkout does not carry Foo events".into();
        assert_eq!(Failure::of(text.as_ref()), Failure::Permanent);
    }
}
