//! The outbox table's writes: events in, published events out.
use platform::database::DbError;
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::QueryAs;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::message::OutboxMessage;

/// The most older rows of its aggregate an insert reports; a row with more
/// is left to the sweep, which takes each aggregate's head first.
pub(crate) const OLDER_REPORTED: usize = 64;

/// An event written into the outbox: its row's position (commit order per
/// aggregate, and the key the relay deletes it by) and the message.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub position: i64,
    #[sqlx(flatten)]
    pub message: OutboxMessage,
    /// The older rows of the same aggregate still in the table when this
    /// one was written (up to [`OLDER_REPORTED`]). The relay publishes the
    /// row at once only if it published each of those itself: that spares
    /// it a query per batch to keep each aggregate's events in order. Empty
    /// for rows a sweep claims, which are heads.
    #[sqlx(skip)]
    pub older: Vec<i64>,
}

impl Stored {
    /// A row as a sweep claims it: no older rows named. A store other than
    /// the `outbox` table builds its claimed rows with this.
    pub fn new(position: i64, message: OutboxMessage) -> Self {
        Stored {
            position,
            message,
            older: Vec::new(),
        }
    }
}

/// The `RETURNING` list of the inserts: the row's position and the older
/// rows of its aggregate the statement saw. The statement's snapshot holds
/// every row committed before it: for the events of one aggregate written
/// one after the other (under the aggregate's lock, or each caused by the
/// delivery of the one before, as the saga's are), every older one. It
/// does not see the rows of its own statement; their order is the order
/// they are handed over in.
#[doc(hidden)]
#[macro_export]
macro_rules! returning {
    () => {
        " RETURNING position, message_id, \
          ARRAY(SELECT older.position FROM outbox AS older \
                WHERE older.aggregate_id = outbox.aggregate_id AND older.position < outbox.position \
                ORDER BY older.position LIMIT 64) AS older"
    };
}

/// Writes `message` into the outbox inside the caller's transaction: it is
/// published if and only if that transaction commits. After the commit the
/// caller hands the returned row to its relay ([`crate::Handoff`]), which
/// publishes it at once; a row never handed over is published by a relay's
/// sweep. Unless the message brings its own, the row keeps the current
/// span's trace context, so that the event's consumers join the caller's
/// trace.
#[tracing::instrument(skip_all, fields(message_id = %message.message_id, event = %message.event_type))]
pub async fn enqueue(executor: &mut PgConnection, message: &OutboxMessage) -> Result<Stored, DbError> {
    let message = message.clone().traced_by(&tracing::Span::current());
    // The single-row form: unpacking arrays costs more than it saves here.
    let row: InsertedRow = sqlx::query_as(concat!(
        "INSERT INTO outbox (message_id, exchange, routing_key, event_type, schema_version, \
                             aggregate_id, payload, traceparent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        returning!()
    ))
    .bind(message.message_id)
    .bind(&message.exchange)
    .bind(&message.routing_key)
    .bind(&message.event_type)
    .bind(message.schema_version)
    .bind(&message.aggregate_id)
    .bind(&message.payload)
    .bind(&message.traceparent)
    .fetch_one(executor)
    .await?;
    Ok(Stored {
        position: row.position,
        message,
        older: row.older,
    })
}

/// The insert of [`Rows`] into the outbox, as a statement of its own or as
/// a common table expression of the caller's statement (`WITH stored AS
/// (...)`). Its parameters are `$1` to `$8`; it returns `position,
/// message_id, older` for each row. `insert_rows!("WHERE ...")` inserts the
/// rows only where the condition holds, e.g. only if the caller's own
/// write in the same statement took place.
#[macro_export]
macro_rules! insert_rows {
    () => {
        $crate::insert_rows!("")
    };
    ($condition:literal) => {
        concat!(
            "INSERT INTO outbox (message_id, exchange, routing_key, event_type, schema_version, \
                                 aggregate_id, payload, traceparent) \
             SELECT message_id, exchange, routing_key, event_type, schema_version, aggregate_id, \
                    payload, traceparent \
             FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], \
                         $7::jsonb[], $8::text[]) WITH ORDINALITY \
                 AS m (message_id, exchange, routing_key, event_type, schema_version, aggregate_id, \
                       payload, traceparent, n) ",
            $condition,
            " ORDER BY n",
            $crate::returning!()
        )
    };
}

/// What [`insert_rows!`] returns for each row (see `returning!`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InsertedRow {
    pub position: i64,
    pub message_id: Uuid,
    pub older: Vec<i64>,
}

/// Events for the outbox, written by one statement, which may be the
/// caller's own: a step that writes its state and its events in one
/// statement makes one round trip instead of two. Such a statement embeds
/// [`insert_rows!`], binds [`Rows::bind`] first (`$1` to `$8`) and its own
/// parameters from `$9` on, and gives what the insert returned to
/// [`Rows::stored`].
#[derive(Debug)]
pub struct Rows {
    messages: Vec<OutboxMessage>,
}

impl Rows {
    /// The messages, each with its own trace context or else the current
    /// span's.
    pub fn new(messages: Vec<OutboxMessage>) -> Self {
        let current = tracing::Span::current();
        let messages = messages.into_iter().map(|m| m.traced_by(&current)).collect();
        Rows { messages }
    }

    pub fn bind<'q, O>(
        &self,
        query: QueryAs<'q, Postgres, O, PgArguments>,
    ) -> QueryAs<'q, Postgres, O, PgArguments> {
        let messages = &self.messages;
        let column = |f: fn(&OutboxMessage) -> String| messages.iter().map(f).collect::<Vec<_>>();
        query
            .bind(messages.iter().map(|m| m.message_id).collect::<Vec<_>>())
            .bind(column(|m| m.exchange.clone()))
            .bind(column(|m| m.routing_key.clone()))
            .bind(column(|m| m.event_type.clone()))
            .bind(messages.iter().map(|m| m.schema_version).collect::<Vec<_>>())
            .bind(column(|m| m.aggregate_id.clone()))
            .bind(messages.iter().map(|m| m.payload.clone()).collect::<Vec<_>>())
            .bind(messages.iter().map(|m| m.traceparent.clone()).collect::<Vec<_>>())
    }

    /// The rows written, in position order, to hand over after the commit.
    pub fn stored(self, mut inserted: Vec<InsertedRow>) -> Vec<Stored> {
        // Matched by id: RETURNING promises no order.
        let mut stored: Vec<Stored> = self
            .messages
            .into_iter()
            .filter_map(|message| {
                let at = inserted
                    .iter()
                    .position(|row| row.message_id == message.message_id)?;
                let row = inserted.swap_remove(at);
                Some(Stored {
                    position: row.position,
                    message,
                    older: row.older,
                })
            })
            .collect();
        stored.sort_by_key(|s| s.position);
        stored
    }
}

/// Writes every message into the outbox, in their order, with one
/// statement: what a consumer does for the events of a whole batch.
pub async fn enqueue_all(
    executor: &mut PgConnection,
    messages: Vec<OutboxMessage>,
) -> Result<Vec<Stored>, DbError> {
    match messages.len() {
        0 => return Ok(Vec::new()),
        1 => return Ok(vec![enqueue(executor, &messages[0]).await?]),
        _ => {}
    }
    let rows = Rows::new(messages);
    let inserted = rows
        .bind(sqlx::query_as(insert_rows!()))
        .fetch_all(executor)
        .await?;
    Ok(rows.stored(inserted))
}

/// Deletes published rows, in the caller's transaction or on their own.
pub(crate) async fn delete(executor: impl PgExecutor<'_>, positions: &[i64]) -> Result<(), DbError> {
    sqlx::query("DELETE FROM outbox WHERE position = ANY($1)")
        .bind(positions)
        .execute(executor)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inserts_report_as_many_older_rows_as_the_relay_expects() {
        assert!(returning!().contains(&format!("LIMIT {OLDER_REPORTED})")));
    }
}
