//! # levator-core
//!
//! The `no_std` hot path of levator: streaming signal conditioning and
//! real-time detection of pelvic-floor events from surface EMG and
//! pressure.
//!
//! Data flows one way through five layers, one module each:
//!
//! ```text
//! stream ──frames──▶ conditioning ──▶ features ──▶ detect ──events──▶ event
//! (roles, units,     (Butterworth     (envelopes,  (state machines,   (Event, the
//!  Frame, spec)       SOS, notches,    baseline,    pipeline)          JSON contract)
//!                     chains)          %MVC)
//! ```
//!
//! Rules: construction validates and may fail with a typed error; the
//! per-sample path (`tick` / `process`) cannot fail, never allocates,
//! never panics and never reads a clock. Time is the sample index.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod conditioning;
pub mod detect;
pub mod event;
pub mod features;
pub mod score;
pub mod stream;
