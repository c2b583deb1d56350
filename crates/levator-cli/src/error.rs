//! The command-line tool's error: one line, shown as `levator: error: ...`.

use std::fmt;

/// A failure the tool reports on one line before exiting non-zero.
#[derive(Debug)]
pub struct CliError(String);

impl CliError {
    /// An error with this message (newlines are flattened to keep it on one line).
    pub fn new(msg: impl Into<String>) -> CliError {
        let msg: String = msg.into();
        CliError(msg.replace(['\n', '\r'], " "))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> CliError {
        CliError::new(e.to_string())
    }
}

/// Result of a command.
pub type CliResult<T> = Result<T, CliError>;
