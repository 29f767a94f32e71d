//! The outbox table's writes: events in, published events out.
use platform::database::DbError;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::message::OutboxMessage;

/// The most older rows of its aggregate an insert reports; a row with more
/// is left to the sweep, which takes each aggregate's head first.
pub(crate) const OLDER_REPORTED: usize = 64;

/// An event written into the outbox: its row's position (commit order per
/// aggregate, and the key the relay deletes it by) and the message.
#[derive(Debug, Clone)]
pub struct Stored {
    pub position: i64,
    pub message: OutboxMessage,
    /// The older rows of the same aggregate still in the table when this
    /// one was written (up to [`OLDER_REPORTED`]). The relay publishes the
    /// row at once only if it published each of those itself: that spares
    /// it a query per batch to keep each aggregate's events in order. Empty
    /// for rows a sweep claims, which are heads.
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
    let row = sqlx::query_as!(
        InsertedRow,
        r#"INSERT INTO outbox (message_id, exchange, routing_key, event_type, schema_version,
                              aggregate_id, payload, traceparent)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           RETURNING position AS "position!", message_id AS "message_id!",
               ARRAY(SELECT older.position FROM outbox AS older
                     WHERE older.aggregate_id = outbox.aggregate_id AND older.position < outbox.position
                     ORDER BY older.position LIMIT 64) AS "older!""#,
        message.message_id,
        message.exchange,
        message.routing_key,
        message.event_type,
        message.schema_version,
        message.aggregate_id,
        message.payload,
        message.traceparent as _
    )
    .fetch_one(executor)
    .await?;
    Ok(Stored {
        position: row.position,
        message,
        older: row.older,
    })
}

/// `sqlx::query_as!` for a statement that writes [`Rows`] into the outbox
/// as its common table expression `stored`, so that a step writes its
/// state and its events in one statement (one round trip instead of two),
/// each statement still checked at compile time.
///
/// `query_inserting!(Row, rows, [before..], condition, [after..], args..)`
/// builds `before + "stored AS (INSERT ... <condition> ...)" + after` from
/// string literals: `before` ends where a CTE may start (`"WITH "`, or
/// the caller's CTEs and `", "`); `condition` is `""` or a `WHERE` that
/// inserts the rows only where it holds (e.g. only if the caller's own write
/// in the same statement took place); `after` reads `stored`, whose columns
/// are `position, message_id, older` (see [`InsertedRow`]). [`Rows`] binds
/// `$1` to `$8`; the caller's `args` are `$9` on. Give what `stored`
/// returned to [`Rows::stored`].
///
/// `older` is the older rows of the same aggregate the statement saw, up to
/// [`OLDER_REPORTED`]. Its snapshot holds every row committed before it:
/// for the events of one aggregate written one after the other (under the
/// aggregate's lock, or each caused by the delivery of the one before, as
/// the saga's are), every older one. It does not see the rows of its own
/// statement; their order is the order they are handed over in.
#[macro_export]
macro_rules! query_inserting {
    ($row:path, $rows:expr, [$($before:literal),* $(,)?], $condition:literal, [$($after:literal),* $(,)?] $(, $arg:expr)* $(,)?) => {{
        let columns = $rows.columns();
        sqlx::query_as!(
            $row,
            $($before +)*
            "stored AS (
                 INSERT INTO outbox (message_id, exchange, routing_key, event_type, schema_version,
                                     aggregate_id, payload, traceparent)
                 SELECT message_id, exchange, routing_key, event_type, schema_version, aggregate_id,
                        payload, traceparent
                 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[],
                             $7::jsonb[], $8::text[]) WITH ORDINALITY
                     AS m (message_id, exchange, routing_key, event_type, schema_version, aggregate_id,
                           payload, traceparent, n) "
            + $condition +
            " ORDER BY n
                 RETURNING position, message_id,
                     ARRAY(SELECT older.position FROM outbox AS older
                           WHERE older.aggregate_id = outbox.aggregate_id AND older.position < outbox.position
                           ORDER BY older.position LIMIT 64) AS older)"
            $(+ $after)*,
            &columns.message_ids,
            &columns.exchanges,
            &columns.routing_keys,
            &columns.event_types,
            &columns.schema_versions,
            &columns.aggregate_ids,
            &columns.payloads,
            &columns.traceparents as _
            $(, $arg)*
        )
    }};
}

/// What [`query_inserting!`] and [`enqueue`] return for each row written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsertedRow {
    pub position: i64,
    pub message_id: Uuid,
    pub older: Vec<i64>,
}

/// Events for the outbox, written by one statement, which may be the
/// caller's own ([`query_inserting!`]).
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

    /// The messages as the insert's array parameters.
    pub fn columns(&self) -> Columns {
        let messages = &self.messages;
        let column = |f: fn(&OutboxMessage) -> String| messages.iter().map(f).collect();
        Columns {
            message_ids: messages.iter().map(|m| m.message_id).collect(),
            exchanges: column(|m| m.exchange.clone()),
            routing_keys: column(|m| m.routing_key.clone()),
            event_types: column(|m| m.event_type.clone()),
            schema_versions: messages.iter().map(|m| m.schema_version).collect(),
            aggregate_ids: column(|m| m.aggregate_id.clone()),
            payloads: messages.iter().map(|m| m.payload.clone()).collect(),
            traceparents: messages.iter().map(|m| m.traceparent.clone()).collect(),
        }
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

/// The parameters `$1` to `$8` of [`query_inserting!`], one array per column.
#[doc(hidden)]
#[derive(Debug)]
pub struct Columns {
    pub message_ids: Vec<Uuid>,
    pub exchanges: Vec<String>,
    pub routing_keys: Vec<String>,
    pub event_types: Vec<String>,
    pub schema_versions: Vec<i32>,
    pub aggregate_ids: Vec<String>,
    pub payloads: Vec<serde_json::Value>,
    pub traceparents: Vec<Option<String>>,
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
    let inserted = query_inserting!(
        InsertedRow,
        rows,
        ["WITH "],
        "",
        [r#" SELECT position AS "position!", message_id AS "message_id!", older AS "older!" FROM stored"#]
    )
    .fetch_all(executor)
    .await?;
    Ok(rows.stored(inserted))
}

/// Deletes published rows, in the caller's transaction or on their own.
pub(crate) async fn delete(executor: impl PgExecutor<'_>, positions: &[i64]) -> Result<(), DbError> {
    sqlx::query!("DELETE FROM outbox WHERE position = ANY($1)", positions)
        .execute(executor)
        .await?;
    Ok(())
}
