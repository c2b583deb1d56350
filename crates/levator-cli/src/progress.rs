//! A progress bar on stderr, shown only when stderr is a terminal and the
//! run has lasted more than a second (so short runs and pipes stay clean).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Progress of a run whose total is known in some unit (bytes, samples).
#[derive(Debug)]
pub struct Progress {
    label: String,
    total: u64,
    enabled: bool,
    show_after: Duration,
    start: Instant,
    last_draw: Option<Instant>,
    drawn: bool,
}

/// Runs shorter than this never show a bar.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Environment variable overriding [`SHOW_AFTER`] in milliseconds (tests
/// use 0 to see the bar on a short run).
pub const SHOW_AFTER_ENV: &str = "LEVATOR_PROGRESS_AFTER_MS";

fn show_after() -> Duration {
    std::env::var(SHOW_AFTER_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(SHOW_AFTER)
}
/// Redraw at most this often.
const REDRAW: Duration = Duration::from_millis(100);

impl Progress {
    /// A bar for `total` units, enabled only if stderr is a terminal.
    pub fn new(label: impl Into<String>, total: u64) -> Progress {
        Progress::with_terminal(label, total, std::io::stderr().is_terminal())
    }

    /// A bar that draws only if `terminal` is true (testable without a tty).
    pub fn with_terminal(label: impl Into<String>, total: u64, terminal: bool) -> Progress {
        Progress {
            label: label.into(),
            total: total.max(1),
            enabled: terminal,
            show_after: show_after(),
            start: Instant::now(),
            last_draw: None,
            drawn: false,
        }
    }

    /// Whether the bar has been drawn at least once.
    #[cfg(test)]
    fn was_drawn(&self) -> bool {
        self.drawn
    }

    /// Reports that `done` units are finished; cheap to call per sample.
    pub fn update(&mut self, done: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if now.duration_since(self.start) < self.show_after {
            return;
        }
        if self
            .last_draw
            .is_some_and(|t| now.duration_since(t) < REDRAW)
        {
            return;
        }
        self.last_draw = Some(now);
        self.drawn = true;
        let frac = (done as f64 / self.total as f64).clamp(0.0, 1.0);
        const WIDTH: usize = 30;
        let filled = (frac * WIDTH as f64).round() as usize;
        let bar: String = "#".repeat(filled) + &"-".repeat(WIDTH - filled);
        let mut err = std::io::stderr().lock();
        // A failed write to stderr is not worth aborting an analysis for.
        let _ = write!(
            err,
            "\r{} [{bar}] {:>3.0}% {:>5.1} s",
            self.label,
            frac * 100.0,
            now.duration_since(self.start).as_secs_f64()
        );
        let _ = err.flush();
    }

    /// Clears the bar's line (if it was drawn).
    pub fn finish(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}\r", " ".repeat(self.label.chars().count() + 50));
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_draws_without_a_terminal() {
        let mut p = Progress::with_terminal("x", 10, false);
        p.start -= Duration::from_secs(5);
        p.update(5);
        assert!(!p.was_drawn());
    }

    #[test]
    fn draws_only_after_a_second() {
        let mut p = Progress::with_terminal("x", 10, true);
        p.show_after = SHOW_AFTER;
        p.update(5);
        assert!(!p.was_drawn(), "drawn before one second");
        p.start -= Duration::from_secs(2);
        p.update(5);
        assert!(p.was_drawn());
        p.finish();
    }
}
