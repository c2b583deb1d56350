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
//! ## Conditioning one EMG channel
//!
//! ```
//! use levator_core::conditioning::{Chain, ChainConfig, Mains};
//!
//! // 1000 Hz: 10 Hz high-pass, 20-450 Hz band-pass, mains notches, 50 ms RMS.
//! let mut config = ChainConfig::emg(1000.0);
//! config.mains = Some(Mains::Hz60); // 60 Hz mains, e.g. in the Americas
//! let mut emg = Chain::new(&config)?;
//! let raw_uv = [3.1, -2.4, f64::NAN, 5.0]; // samples as they arrive
//! let mut envelope_uv = [0.0; 4];
//! emg.process(&raw_uv, &mut envelope_uv); // or emg.tick(x) per sample
//! assert_eq!(emg.rejected_inputs(), 1); // the NaN was held and counted
//! # Ok::<(), levator_core::conditioning::ChainError>(())
//! ```
//!
//! ## Detecting events
//!
//! ```
//! # #[cfg(feature = "alloc")] {
//! use levator_core::detect::{Pipeline, PipelineConfig};
//! use levator_core::event::{Event, EventKind};
//! use levator_core::stream::{ChannelSpec, Frame, Role, StreamSpec};
//!
//! let spec = StreamSpec::new(50.0, &[ChannelSpec::canonical(Role::PelvicPressure)]).unwrap();
//! let mut pipeline = Pipeline::new(spec, PipelineConfig::default()).unwrap();
//! let mut kinds = Vec::new();
//! for i in 0..50 * 30u64 {
//!     let t = i as f64 / 50.0;
//!     // 20 cmH2O rest with a little noise, a 25 cmH2O squeeze from 15 s to 20 s.
//!     let noise = 0.2 * libm::sin(7.3 * t) * libm::sin(1.7 * t);
//!     let squeeze = 12.5 * (libm::tanh((t - 15.0) / 0.3) - libm::tanh((t - 20.0) / 0.3));
//!     pipeline.tick(&Frame::new(i, &[20.0 + noise + squeeze]), &mut |e: Event| kinds.push(e.kind));
//! }
//! assert!(kinds.contains(&EventKind::Contraction));
//! # }
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
