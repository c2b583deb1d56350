//! One module per command.

pub mod analyze;
pub mod demo;
pub mod eval;
pub mod latency;
pub mod monitor;
pub mod report;
pub mod serve;
pub mod simulate;
