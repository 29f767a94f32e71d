//! Progress of the long phases. A bar is drawn only when stderr is a
//! terminal; in a log (CI) each phase prints one line when it ends instead,
//! so logs stay short and readable.
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug)]
pub struct Phase {
    bar: ProgressBar,
    name: String,
    started: Instant,
}

impl Phase {
    pub fn new(name: &str, total: usize) -> Phase {
        let bar = ProgressBar::new(total as u64);
        let style = ProgressStyle::with_template("{msg:<32} [{bar:30}] {pos}/{len} {elapsed_precise}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(name.to_owned());
        Phase {
            bar,
            name: name.to_owned(),
            started: Instant::now(),
        }
    }

    pub fn advance(&self, by: usize) {
        self.bar.inc(by as u64);
    }

    /// Clears the bar and prints what the phase did.
    pub fn finish(self, summary: &str) {
        self.bar.finish_and_clear();
        eprintln!(
            "{}: {summary} ({:.1} s)",
            self.name,
            self.started.elapsed().as_secs_f64()
        );
    }
}
