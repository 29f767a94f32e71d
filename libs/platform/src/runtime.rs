//! The tokio runtime a service process runs on.
use crate::settings::{SettingError, env_opt};

/// Why the runtime could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Setting(#[from] SettingError),
    #[error("could not start the tokio runtime: {0}")]
    Start(#[from] std::io::Error),
}

/// The runtime `WORKER_THREADS` asks for. Unset, tokio's pool of one worker
/// per core. `0` runs every task on the main thread: each step of a
/// service's work then wakes the next where it is, where a pool hands many
/// of them from one thread to another (a futex wake-up and a context switch
/// each). On the 2-core machine of the README's figures that was about 5 %
/// faster at 8 clients and 5 % slower at 64, so it suits a replica that has
/// one core to itself. `N` starts a pool of `N` workers.
pub fn from_env() -> Result<tokio::runtime::Runtime, RuntimeError> {
    build(env_opt("WORKER_THREADS")?)
}

fn build(workers: Option<usize>) -> Result<tokio::runtime::Runtime, RuntimeError> {
    let mut builder = match workers {
        Some(0) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    Ok(builder.enable_all().build()?)
}

#[cfg(test)]
mod tests {
    use tokio::runtime::RuntimeFlavor;

    use super::*;

    #[test]
    fn no_workers_runs_on_the_main_thread_and_more_start_a_pool() {
        let main_thread = build(Some(0)).expect("a runtime");
        let pool = build(Some(2)).expect("a runtime");
        let default = build(None).expect("a runtime");

        assert_eq!(
            main_thread.handle().runtime_flavor(),
            RuntimeFlavor::CurrentThread
        );
        assert_eq!(pool.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
        assert_eq!(pool.metrics().num_workers(), 2);
        assert_eq!(default.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
    }
}
