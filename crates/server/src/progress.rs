//! Progress of the long commands (`catalog import`, `books export`, `retention run`, `backup`):
//! a bar or a spinner on standard error when it is a terminal, and nothing at all otherwise
//! (a pipe, a log file, cron), so scripts read only the command's own output.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar, or nothing when standard error is not a terminal.
#[derive(Debug)]
pub(crate) struct Progress(Option<ProgressBar>);

impl Progress {
    fn shown() -> bool {
        std::io::stderr().is_terminal()
    }

    /// Nothing shown, whatever the terminal (work the server runs in the background).
    pub(crate) fn none() -> Self {
        Self(None)
    }

    /// A bar of `total` steps, labelled `message`.
    pub(crate) fn bar(total: u64, message: &'static str) -> Self {
        Self(Self::shown().then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template("{msg} [{bar:32}] {pos}/{len} ({eta})")
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(message);
            bar
        }))
    }

    /// A spinner for work whose size is unknown, labelled `message`.
    pub(crate) fn spinner(message: &'static str) -> Self {
        Self(Self::shown().then(|| {
            let spinner = ProgressBar::new_spinner();
            spinner.set_message(message);
            spinner.enable_steady_tick(Duration::from_millis(120));
            spinner
        }))
    }

    /// `n` more steps done.
    pub(crate) fn advance(&self, n: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(n);
        }
    }

    /// Names the step under way.
    pub(crate) fn step(&self, message: &'static str) {
        if let Some(bar) = &self.0 {
            bar.set_message(message);
        }
    }

    /// Done: the bar is cleared from the terminal.
    pub(crate) fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}
