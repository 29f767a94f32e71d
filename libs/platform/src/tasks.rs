//! Runs a process's long-lived loops (HTTP, relay, consumer, chores) side by
//! side, each as a task of its own.
//!
//! Each loop is spawned rather than joined into one future: a joined future
//! runs wherever its caller runs (in `main`, on the thread that blocks on
//! the runtime, which is not one of its workers), so every message, query
//! answer and timer of every loop would wake that one thread from a worker
//! and be handled there. Spawned, each loop runs on the worker that saw its
//! I/O become ready, and the loops run in parallel.
use futures::future::BoxFuture;

/// Spawns every future and completes when all have completed. A panic in any
/// of them is raised here at once, as it would be had they been joined.
pub async fn run_all(loops: Vec<BoxFuture<'static, ()>>) {
    let handles = loops.into_iter().map(tokio::spawn);
    if let Err(error) = futures::future::try_join_all(handles).await {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => tracing::error!(%error, "a task of the process was cancelled"),
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    #[tokio::test]
    async fn every_loop_runs_to_its_end() {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = done.clone();

        run_all(vec![
            async move { receiver.await.expect("sent") }.boxed(),
            async move {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                sender.send(()).expect("received");
            }
            .boxed(),
        ])
        .await;

        assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    #[should_panic(expected = "a loop failed")]
    async fn a_panicking_loop_is_raised_while_the_others_still_run() {
        run_all(vec![
            std::future::pending().boxed(),
            async { panic!("a loop failed") }.boxed(),
        ])
        .await;
    }
}
