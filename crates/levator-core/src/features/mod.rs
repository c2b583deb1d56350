//! # Features: what detectors look at
//!
//! The third layer of levator-core. It turns the conditioned signal of
//! each channel (from [`conditioning`](crate::conditioning)) into slowly
//! varying quantities that the [`detect`](crate::detect) state machines
//! compare against thresholds:
//!
//! - [`envelope`]: amplitude envelopes (moving RMS, rectify + low-pass,
//!   Teager-Kaiser energy);
//! - [`baseline`]: resting level and variability, the resting band, %MVC;
//! - [`stats`]: running mean / SD / peak for assessments and summaries.
//!
//! Like every layer of the hot path, features are streaming: state is
//! carried across calls, `tick` and `process` agree, and nothing allocates
//! per sample.

pub mod baseline;
pub mod envelope;
pub mod stats;
