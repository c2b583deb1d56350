//! # levator
//!
//! Pelvic-floor biofeedback for software: streaming conditioning of
//! surface-EMG and pressure samples and real-time detection of
//! contraction, relaxation, bearing down and poor release.
//!
//! This facade re-exports the workspace crates:
//!
//! - [`core`]: the `no_std` hot path (filters, envelopes, detectors, events).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use levator_core as core;

/// The README's code blocks, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
