//! The tokio runtime a service process runs on.
use crate::settings::{SettingError, env_or};

/// Why the runtime could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Setting(#[from] SettingError),
    #[error("could not start the tokio runtime: {0}")]
    Start(#[from] std::io::Error),
}

/// The runtime `WORKER_THREADS` asks for. `0`, the default, runs every task
/// on the main thread: a service's work is a chain of short steps that each
/// wait on the database or the broker, and on a thread of its own each step
/// wakes the next where it is, where a pool of workers hands most of them
/// from one thread to another (a futex wake-up and a context switch each).
/// Scale out with replicas; set `WORKER_THREADS` to the cores a process
/// has to itself to spread one replica over several.
pub fn from_env() -> Result<tokio::runtime::Runtime, RuntimeError> {
    build(env_or("WORKER_THREADS", 0)?)
}

fn build(workers: usize) -> Result<tokio::runtime::Runtime, RuntimeError> {
    let mut builder = match workers {
        0 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
    };
    Ok(builder.enable_all().build()?)
}

#[cfg(test)]
mod tests {
    use tokio::runtime::RuntimeFlavor;

    use super::*;

    #[test]
    fn no_workers_runs_on_the_main_thread_and_more_start_a_pool() {
        let main_thread = build(0).expect("a runtime");
        let pool = build(2).expect("a runtime");

        assert_eq!(
            main_thread.handle().runtime_flavor(),
            RuntimeFlavor::CurrentThread
        );
        assert_eq!(pool.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
        assert_eq!(pool.metrics().num_workers(), 2);
    }
}
