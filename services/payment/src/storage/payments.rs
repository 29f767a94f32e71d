use idempotency::{Lone, Together};
use outbox::Stored;
use platform::database::DbError;
use platform::domain::Amount;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::UserId;

/// What a charge for a saga came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Charge {
    /// Charged now, and recorded.
    Charged,
    /// The saga was charged before: nothing was charged now.
    ChargedBefore,
    /// The saga's charge was refused before, for this reason: nothing was
    /// charged now.
    RefusedBefore(String),
    /// The user is unknown or short of credit: nothing was charged. The
    /// caller records why with [`record_refusal`].
    Refused,
}

/// Charges `amount` to the user and records the payment, in one statement,
/// unless the saga was charged or refused before (a step asked twice for one
/// saga acts once) or the user cannot pay. The condition in the `UPDATE`
/// decides under the row lock, so concurrent charges cannot overdraw; the
/// payment's primary key makes a concurrent second charge of one saga fail
/// and roll back. A refusal aborts nothing: it can share its transaction
/// with other messages of a batch.
#[tracing::instrument(skip(executor))]
pub async fn charge(
    executor: impl PgExecutor<'_>,
    saga_id: Uuid,
    order_id: &str,
    user: &UserId,
    amount: Amount,
) -> Result<Charge, DbError> {
    let answer = sqlx::query!(
        r#"WITH paid_before AS (SELECT 1 FROM payments WHERE saga_id = $1),
              refused_before AS (SELECT reason FROM refusals WHERE saga_id = $1),
              charged AS (
                 UPDATE users SET credit = credit - $4
                 WHERE id = $3 AND credit >= $4
                   AND NOT EXISTS (SELECT 1 FROM paid_before)
                   AND NOT EXISTS (SELECT 1 FROM refused_before)
                 RETURNING id),
              recorded AS (
                 INSERT INTO payments (saga_id, order_id, user_id, amount)
                 SELECT $1, $2, id, $4 FROM charged RETURNING saga_id)
         SELECT EXISTS (SELECT 1 FROM recorded) AS "charged!",
                EXISTS (SELECT 1 FROM paid_before) AS "charged_before!",
                (SELECT reason FROM refused_before) AS "refused_before?""#,
        saga_id,
        order_id,
        user.as_str(),
        amount.get()
    )
    .fetch_one(executor)
    .await?;
    Ok(
        match (answer.charged, answer.charged_before, answer.refused_before) {
            (true, _, _) => Charge::Charged,
            (false, true, _) => Charge::ChargedBefore,
            (false, false, Some(reason)) => Charge::RefusedBefore(reason),
            (false, false, None) => Charge::Refused,
        },
    )
}

/// Records why the saga's charge was refused, so that the saga asked again
/// gets the same answer.
#[tracing::instrument(skip(executor))]
pub async fn record_refusal(
    executor: impl PgExecutor<'_>,
    saga_id: Uuid,
    order_id: &str,
    reason: &str,
) -> Result<(), DbError> {
    sqlx::query!(
        "INSERT INTO refusals (saga_id, order_id, reason) VALUES ($1, $2, $3)",
        saga_id,
        order_id,
        reason
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// [`charge`]'s common case for a message that arrives alone, in one
/// statement with no transaction: charges, records the payment, records the
/// message in the inbox and writes `events` (its `PaymentSucceeded`), only
/// when the message is new, the saga was neither charged nor refused before
/// and the user can pay. Otherwise it writes nothing and answers `None`,
/// and the caller takes the transactional path, which tells those cases
/// apart.
#[tracing::instrument(skip(executor, lone, events))]
pub async fn charge_alone(
    executor: impl PgExecutor<'_>,
    lone: Lone<'_>,
    events: outbox::Rows,
    saga_id: Uuid,
    order_id: &str,
    user: &UserId,
    amount: Amount,
) -> Result<Option<Vec<Stored>>, DbError> {
    let answer = idempotency::applied_alone!(
        lone,
        events,
        "charged AS ( \
                 UPDATE users SET credit = credit - $14 \
                 WHERE id = $13 AND credit >= $14 AND EXISTS (SELECT 1 FROM unseen) \
                   AND NOT EXISTS (SELECT 1 FROM payments WHERE saga_id = $11) \
                   AND NOT EXISTS (SELECT 1 FROM refusals WHERE saga_id = $11) \
                 RETURNING id), \
             applied AS ( \
                 INSERT INTO payments (saga_id, order_id, user_id, amount) \
                 SELECT $11::uuid, $12::text, id, $14 FROM charged RETURNING saga_id)",
        saga_id,
        order_id,
        user.as_str(),
        amount.get()
    )
    .fetch_all(executor)
    .await?;
    Ok(Lone::written(events, answer))
}

/// One charge of a batch as [`charge_together`] takes it.
#[derive(Debug)]
pub struct Charging<'a> {
    pub saga_id: Uuid,
    pub order_id: &'a str,
    pub user: &'a UserId,
    pub amount: Amount,
}

/// [`charge_alone`] for a batch, in one statement with no transaction:
/// locks every user charged in id order and, only when none of the messages
/// was seen, none of the sagas was charged or refused before and each user
/// can pay what the whole batch charges them, charges, records every
/// payment, records the messages in the inbox and writes `events` (a
/// `PaymentSucceeded` each). Otherwise it writes nothing and answers `None`,
/// and the caller takes the transactional path, which decides the charges
/// one by one in order. The sagas are distinct (the caller's check).
#[tracing::instrument(skip_all, fields(size = charges.len()))]
pub async fn charge_together(
    executor: impl PgExecutor<'_>,
    together: Together<'_>,
    events: outbox::Rows,
    charges: &[Charging<'_>],
) -> Result<Option<Vec<Stored>>, DbError> {
    let saga_ids: Vec<Uuid> = charges.iter().map(|c| c.saga_id).collect();
    let order_ids: Vec<&str> = charges.iter().map(|c| c.order_id).collect();
    let users: Vec<&str> = charges.iter().map(|c| c.user.as_str()).collect();
    let amounts: Vec<i64> = charges.iter().map(|c| c.amount.get()).collect();
    let answer = idempotency::applied_together!(
        together,
        events,
        "wanted AS ( \
             SELECT user_id, sum(amount)::bigint AS amount \
             FROM unnest($13::text[], $14::bigint[]) AS w (user_id, amount) GROUP BY user_id), \
         locked AS (SELECT id, credit FROM users WHERE id = ANY($13) ORDER BY id FOR UPDATE), \
         covered AS ( \
             SELECT FROM unseen \
             WHERE NOT EXISTS (SELECT 1 FROM payments WHERE saga_id = ANY($11)) \
               AND NOT EXISTS (SELECT 1 FROM refusals WHERE saga_id = ANY($11)) \
               AND (SELECT count(*) FROM wanted JOIN locked ON locked.id = wanted.user_id \
                    WHERE locked.credit >= wanted.amount) = (SELECT count(*) FROM wanted)), \
         charged AS ( \
             UPDATE users SET credit = users.credit - wanted.amount FROM wanted \
             WHERE users.id = wanted.user_id AND EXISTS (SELECT 1 FROM covered)), \
         applied AS ( \
             INSERT INTO payments (saga_id, order_id, user_id, amount) \
             SELECT saga_id, order_id, user_id, amount \
             FROM unnest($11::uuid[], $12::text[], $13::text[], $14::bigint[]) \
                 AS p (saga_id, order_id, user_id, amount) \
             WHERE EXISTS (SELECT 1 FROM covered) RETURNING saga_id)",
        &saga_ids,
        &order_ids as _,
        &users as _,
        &amounts
    )
    .fetch_all(executor)
    .await?;
    Ok(Together::written(events, answer))
}
