//! Messages that arrive together, applied by one statement with no
//! transaction: every effect, every inbox record and every event they emit,
//! or nothing at all. Under load most deliveries arrive in batches, and the
//! transactional path costs a begin, the step's statements for each message,
//! the inbox-and-outbox statement and a commit; a batch of stock's took
//! 2 round trips a message and 3 more (README, "Where the time goes"), where
//! this takes one for the batch.
use outbox::{Rows, Stored};
use uuid::Uuid;

use super::{IncomingMessage, WrittenRow, alone};

/// The statement of a step's common case for a whole batch, applied once
/// without a transaction, as a [`outbox::query_inserting!`] answering
/// [`WrittenRow`]s: `applied_together!(together, events, "step", args..)`.
/// As [`crate::applied_alone!`], but for every message of the batch at
/// once: `unseen` has a row only while none of them is in the inbox, `$10`
/// is their ids (`uuid[]`), and all are recorded, with every event, only
/// when `applied` has a row. The step's own `args` start at `$11`;
/// [`Together::written`] reads the answer.
#[macro_export]
macro_rules! applied_together {
    ($together:expr, $events:expr, $step:literal $(, $arg:expr)* $(,)?) => {
        $crate::__applied_once!(
            "WITH unseen AS (SELECT WHERE NOT EXISTS \
                 (SELECT 1 FROM inbox WHERE consumer = $9::text AND message_id = ANY($10::uuid[]))), ",
            ", recorded AS (INSERT INTO inbox (consumer, message_id) \
                 SELECT $9, unnest($10::uuid[]) WHERE EXISTS (SELECT 1 FROM applied) \
                 RETURNING message_id), ",
            $together.consumer,
            &$together.message_ids(),
            $events,
            $step
            $(, $arg)*
        )
    };
}

/// Messages that arrived together, each with the span it is handled in, and
/// the inbox they are recorded in. Their ids are distinct: the consumer
/// never offers a batch that repeats one.
#[derive(Debug, Clone, Copy)]
pub struct Together<'a> {
    pub consumer: &'a str,
    pub messages: &'a [(&'a IncomingMessage, &'a tracing::Span)],
}

impl Together<'_> {
    pub fn message_ids(&self) -> Vec<Uuid> {
        self.messages
            .iter()
            .map(|(message, _)| message.message_id)
            .collect()
    }

    /// What the statement wrote: the events, when it applied the messages;
    /// `None` when it wrote nothing.
    pub fn written(events: Rows, answer: Vec<WrittenRow>) -> Option<Vec<Stored>> {
        alone::written(events, answer)
    }
}
