//! # levator
//!
//! Pelvic-floor biofeedback for software: streaming conditioning of
//! surface-EMG and pressure samples and real-time detection of
//! contraction, relaxation, bearing down and poor release.
//!
//! This facade re-exports the workspace crates:
//!
//! - [`core`]: the `no_std` hot path (filters, envelopes, detectors, events).
//! - [`sim`]: signal synthesis with ground truth, recordings, replay and a
//!   virtual serial probe.
//! - [`serial`]: wire protocols (levator binary v1, ASCII lines, OpenBCI
//!   Cyton) and the serial-port reader.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use levator_core as core;
pub use levator_serial as serial;
pub use levator_sim as sim;

/// The README's code blocks, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
