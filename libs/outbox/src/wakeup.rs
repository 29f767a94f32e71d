//! How a process tells its relay that it has just committed outbox rows.
//!
//! The wake-up is in memory and sent after the commit, never from inside the
//! business transaction: PostgreSQL's `NOTIFY` takes one lock for the whole
//! server at commit and holds it until the commit is flushed, which made
//! every saga step of all three databases wait in one line. Rows committed
//! by another process are that process's relay's to publish; the relay's
//! slow poll is the safety net for a process that died before publishing.
use std::sync::Arc;

use tokio::sync::Notify;

/// A cloneable handle: whoever commits outbox rows calls [`Wakeup::wake`];
/// the relay waits on it. Wake-ups sent while the relay is busy coalesce into
/// one, so a burst of commits costs one more relay step, not one each.
#[derive(Debug, Clone, Default)]
pub struct Wakeup {
    notify: Arc<Notify>,
}

impl Wakeup {
    /// Call after a commit that enqueued something.
    pub fn wake(&self) {
        // `notify_one` keeps a permit when nobody waits, so a wake-up sent
        // while the relay is publishing is not lost.
        self.notify.notify_one();
    }

    /// Completes at the next wake-up, or at once if one came since the last.
    pub async fn woken(&self) {
        self.notify.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::Wakeup;
    use futures::FutureExt;

    #[test]
    fn a_wake_up_sent_before_waiting_is_kept_and_many_coalesce() {
        let wakeup = Wakeup::default();

        wakeup.wake();
        wakeup.wake();

        assert!(wakeup.woken().now_or_never().is_some());
        assert!(wakeup.woken().now_or_never().is_none());
    }
}
