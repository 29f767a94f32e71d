//! A message that arrives alone, applied by one statement with no
//! transaction: its effect, its inbox record and the events it emits, or
//! nothing at all. Under light load many deliveries arrive alone (about
//! half at 8 clients in our benchmark), and the transactional path costs a begin, the step's statements, the
//! inbox-and-outbox statement and a commit: five round trips and as many
//! wake-ups of the database and the service, where this takes one.
use outbox::{InsertedRow, Rows, Stored};
use uuid::Uuid;

use super::IncomingMessage;

/// A row of the answer of a statement that records messages in the inbox
/// and writes their events ([`applied_alone!`], and a batch's record and
/// enqueue): an event written, with its position and the older rows of its
/// aggregate, or, with neither, a message recorded in the inbox.
#[derive(Debug)]
pub struct WrittenRow {
    pub position: Option<i64>,
    pub message_id: Uuid,
    pub older: Option<Vec<i64>>,
}

impl WrittenRow {
    /// The event this row wrote; `None` for an inbox record.
    pub fn inserted(self) -> Option<InsertedRow> {
        Some(InsertedRow {
            position: self.position?,
            message_id: self.message_id,
            older: self.older.unwrap_or_default(),
        })
    }
}

/// The statement of a step's common case, applied once without a
/// transaction, as a [`outbox::query_inserting!`] answering
/// [`WrittenRow`]s: `applied_alone!(lone, events, "step", args..)`.
/// `"step"` is the step's own CTEs: they may read `unseen`, which has a row
/// only while the message is not in the inbox, must write nothing unless it
/// has one, and end with `applied`, which has a row when the effect took
/// place. The message is recorded in the inbox and the events written only
/// then. Parameters: `$1` to `$8` the events, `$9` and `$10` the inbox's
/// consumer and the message id, the step's own `args` from `$11`;
/// [`Lone::written`] reads the answer.
///
/// Two deliveries of one message at once both find it unseen; the inbox's
/// primary key fails the second statement as a whole, and its retry finds
/// the message recorded. Steps that answer a saga once keep their own key
/// on the saga for the same reason.
#[macro_export]
macro_rules! applied_alone {
    ($lone:expr, $events:expr, $step:literal $(, $arg:expr)* $(,)?) => {
        $crate::__applied_once!(
            "WITH unseen AS (SELECT WHERE NOT EXISTS \
                 (SELECT 1 FROM inbox WHERE consumer = $9::text AND message_id = $10::uuid)), ",
            ", recorded AS (INSERT INTO inbox (consumer, message_id) \
                 SELECT $9, $10 WHERE EXISTS (SELECT 1 FROM applied) RETURNING message_id), ",
            $lone.consumer,
            $lone.message.message_id,
            $events,
            $step
            $(, $arg)*
        )
    };
}

/// What [`applied_alone!`] and [`crate::applied_together!`] share: the
/// step between `unseen` and `recorded`, the events written only once the
/// inbox recorded, and the answer [`WrittenRow`]s.
#[doc(hidden)]
#[macro_export]
macro_rules! __applied_once {
    ($unseen:literal, $recorded:literal, $consumer:expr, $ids:expr, $events:expr, $step:literal $(, $arg:expr)*) => {
        $crate::__outbox::query_inserting!(
            $crate::WrittenRow,
            $events,
            [$unseen, $step, $recorded],
            "WHERE EXISTS (SELECT 1 FROM recorded)",
            [
                r#" SELECT position, message_id AS "message_id!", older FROM stored
                    UNION ALL SELECT NULL, message_id, NULL FROM recorded"#
            ],
            $consumer,
            $ids
            $(, $arg)*
        )
    };
}

/// A message that arrived alone, and the inbox it is recorded in.
#[derive(Debug, Clone, Copy)]
pub struct Lone<'a> {
    pub consumer: &'a str,
    pub message: &'a IncomingMessage,
}

impl Lone<'_> {
    /// What the statement wrote: the events, when it applied the message;
    /// `None` when it wrote nothing.
    pub fn written(events: Rows, answer: Vec<WrittenRow>) -> Option<Vec<Stored>> {
        written(events, answer)
    }
}

/// The events a one-statement form wrote, when its answer holds an inbox
/// record; `None` when it recorded nothing, and so wrote nothing.
pub(super) fn written(events: Rows, answer: Vec<WrittenRow>) -> Option<Vec<Stored>> {
    if answer.iter().all(|row| row.position.is_some()) {
        return None;
    }
    let inserted = answer.into_iter().filter_map(WrittenRow::inserted).collect();
    Some(events.stored(inserted))
}
