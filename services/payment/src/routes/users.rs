use idempotency::http::{execute, request};
use platform::domain::Amount;
use platform::http::{respond, with_state};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use warp::{Filter, Rejection, Reply};

use crate::domain::{CreditChanged, UserId};
use crate::error::PaymentError;
use crate::storage;

pub fn routes(pool: PgPool) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone {
    let create = warp::path!("payment" / "create_user")
        .and(warp::post())
        .and(request())
        .and(with_state(pool.clone()))
        .then(|request, pool: PgPool| async move {
            execute(&pool, request, move |conn| Box::pin(create_user(conn))).await
        });
    let find = warp::path!("payment" / "find_user" / String)
        .and(warp::get())
        .and(with_state(pool.clone()))
        .then(find_user)
        .map(respond);
    let add_funds = warp::path!("payment" / "add_funds" / String / String)
        .and(warp::post())
        .and(request())
        .and(with_state(pool.clone()))
        .then(|user, amount, request, pool: PgPool| async move {
            execute(&pool, request, move |conn| {
                Box::pin(change_credit(conn, user, amount, Change::Add))
            })
            .await
        });
    let pay = warp::path!("payment" / "pay" / String / String)
        .and(warp::post())
        .and(request())
        .and(with_state(pool))
        .then(|user, amount, request, pool: PgPool| async move {
            execute(&pool, request, move |conn| {
                Box::pin(change_credit(conn, user, amount, Change::Subtract))
            })
            .await
        });
    create.or(find).unify().or(add_funds).unify().or(pay).unify()
}

#[derive(Debug, Serialize)]
struct Created {
    user_id: UserId,
}

#[tracing::instrument(skip(conn))]
async fn create_user(conn: &mut PgConnection) -> Result<Created, PaymentError> {
    let user_id = UserId::from_trusted(uuid::Uuid::new_v4().to_string());
    storage::insert_user(conn, &user_id).await?;
    Ok(Created { user_id })
}

#[tracing::instrument(skip(pool))]
async fn find_user(user_id: String, pool: PgPool) -> Result<CreditChanged, PaymentError> {
    let user_id = UserId::parse(&user_id)?;
    match storage::find_credit(&pool, &user_id).await? {
        Some(credit) => Ok(CreditChanged::new(user_id, credit)),
        None => Err(PaymentError::UserNotFound(user_id)),
    }
}

/// Which way a request moves the credit.
#[derive(Debug, Clone, Copy)]
enum Change {
    Add,
    Subtract,
}

/// `add_funds` and `pay`: parse, change the credit, read the database's
/// verdict (not found, not enough credit, overflow).
#[tracing::instrument(skip(conn))]
async fn change_credit(
    conn: &mut PgConnection,
    user_id: String,
    amount: String,
    change: Change,
) -> Result<CreditChanged, PaymentError> {
    let user_id = UserId::parse(&user_id)?;
    let amount = Amount::parse("amount", &amount)?;
    let credit = match change {
        Change::Add => storage::add_credit(conn, &user_id, amount).await,
        Change::Subtract => storage::subtract_credit(conn, &user_id, amount).await,
    };
    let credit = credit.map_err(|e| PaymentError::from_credit_change(e, &user_id, amount))?;
    let credit = credit.ok_or_else(|| PaymentError::UserNotFound(user_id.clone()))?;
    Ok(CreditChanged::new(user_id, credit))
}
