//! # Detect: real-time state machines that turn features into events
//!
//! The fourth layer of levator-core. One file per detector, each a plain
//! `enum State` with `Display`, one `match` per transition and a
//! `state()` accessor (smoltcp `socket/tcp.rs` style), and a
//! [`Pipeline`] that wires stream → conditioning → features → detectors
//! for any [`StreamSpec`](crate::stream::StreamSpec):
//!
//! | module | events | judged on |
//! |---|---|---|
//! | [`contraction`] | `contraction` start / end | `pelvic_emg` envelope, else `pelvic_pressure` |
//! | [`release`] | `relaxation` (`release`), `poor_release` | the same pelvic feature |
//! | [`drop`](mod@drop) | `relaxation` (`drop`) start / end | the same pelvic feature |
//! | [`bearing_down`] | `bearing_down` start / end, `accessory` start / end | `abdominal_pressure`, else `abdominal_emg`, else outward `probe_motion` |
//! | [`quality`] | `signal_quality` start / end | every channel's raw samples |
//! | [`pipeline`] | all of the above, plus `signal_quality` `gap` | the whole stream |
//! | `glazer` (`alloc`) | Glazer protocol assessment: per-phase metrics and cut-off flags | a whole recording |
//!
//! ## Parameters and why
//!
//! Every threshold is relative to the user's own resting level and its
//! variability ([`crate::features::baseline`]), with absolute floors;
//! every window and duration is given in seconds and converted to samples
//! from the stream's rate (at least one sample), so the same defaults run
//! from 1.85 Hz manometry exports to 2 kHz EMG. Each config struct
//! documents its fields, defaults and the reason for them:
//! [`PipelineConfig`], [`BaselineConfig`](crate::features::baseline::BaselineConfig),
//! [`BandConfig`](crate::features::baseline::BandConfig),
//! [`ContractionConfig`], [`ReleaseConfig`], [`DropConfig`],
//! [`BearingDownConfig`], [`QualityConfig`]. Fixed constants document
//! theirs too: [`contraction::HOLD_BAND`], [`drop::INTERRUPT_GRACE_S`],
//! [`bearing_down::EARLY_SQUEEZE_S`], [`bearing_down::SUSTAIN_TAU_S`],
//! [`drop::SD_TAU_S`], [`drop::SD_MIN_S`], [`drop::WINDOW_BLOCKS`],
//! [`drop::FIT_WINDOWS`], [`drop::HISTORY_BLOCKS`], [`drop::LEARN_FALL`],
//! [`drop::LOCAL_REST_S`].
//!
//! ## Time
//!
//! Time is the sample index divided by the rate; nothing reads a clock.
//! `onset_s` is retro-dated (where the signal left the resting band),
//! `detected_s` is the time of the sample on which the decision was made
//! (for the poor-release timeout: the deadline itself). Feeding the same
//! frames in any chunking gives the same events, bit for bit.
//!
//! ```
//! use levator_core::detect::{Pipeline, PipelineConfig};
//! use levator_core::event::{Event, EventKind, Phase};
//! use levator_core::stream::{ChannelSpec, Frame, Role, StreamSpec};
//!
//! // a 20 Hz pressure trainer: 10 s rest at 20 cmH2O, a 3 s squeeze to 40
//! let spec = StreamSpec::new(20.0, &[ChannelSpec::canonical(Role::PelvicPressure)])?;
//! let mut pipeline = Pipeline::new(spec, PipelineConfig::default())?;
//! let mut events: Vec<Event> = Vec::new();
//! for i in 0..400u64 {
//!     let t = i as f64 / 20.0;
//!     let p = if (10.0..13.0).contains(&t) { 40.0 } else { 20.0 };
//!     let breath = 0.3 * libm::sin(t * 1.5);
//!     pipeline.tick(&Frame::new(i, &[p + breath]), &mut |e: Event| events.push(e));
//! }
//! pipeline.finish(&mut |e: Event| events.push(e));
//! let starts: Vec<_> = events.iter()
//!     .filter(|e| e.kind == EventKind::Contraction && e.phase == Some(Phase::Start))
//!     .collect();
//! assert_eq!(starts.len(), 1);
//! assert!((starts[0].onset_s - 10.0).abs() < 0.3); // 20 Hz, breathing
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;

use crate::event::{Event, EventKind};

pub mod bearing_down;
pub mod contraction;
pub mod drop;
#[cfg(feature = "alloc")]
pub mod glazer;
pub mod pipeline;
pub mod quality;
pub mod release;

pub use bearing_down::{BearingDownConfig, BearingDownDetector};
pub use contraction::{ContractionConfig, ContractionDetector};
pub use drop::{DropConfig, DropDetector};
pub use pipeline::{Pipeline, PipelineConfig, PipelineError, PipelineStats, Snapshot};
pub use quality::{QualityConfig, QualityMonitor};
pub use release::{ReleaseConfig, ReleaseDetector};

/// Where detectors put their events: a caller-provided sink.
///
/// Implemented for every `FnMut(Event)` closure and for [`EventQueue`]
/// (fixed capacity, no allocation); with `alloc` also for `Vec<Event>`.
pub trait EventSink {
    /// Receives one event.
    fn emit(&mut self, event: Event);
}

impl<F: FnMut(Event)> EventSink for F {
    fn emit(&mut self, event: Event) {
        self(event)
    }
}

/// A fixed-capacity FIFO of events that never allocates: when full, the
/// newest event is dropped and counted ([`EventQueue::dropped`]).
///
/// ```
/// use levator_core::detect::{EventQueue, EventSink};
/// use levator_core::event::{Event, EventKind};
/// let mut q: EventQueue<2> = EventQueue::new();
/// for i in 0..3 {
///     q.emit(Event::new(EventKind::PoorRelease, None, i as f64));
/// }
/// assert_eq!(q.dropped(), 1);
/// assert_eq!(q.pop().map(|e| e.onset_s), Some(0.0));
/// assert_eq!(q.len(), 1);
/// ```
#[derive(Clone, Debug)]
pub struct EventQueue<const N: usize> {
    buf: [Event; N],
    head: usize,
    len: usize,
    dropped: u64,
}

impl<const N: usize> EventQueue<N> {
    /// An empty queue.
    pub const fn new() -> Self {
        EventQueue {
            buf: [Event::new(EventKind::SignalQuality, None, 0.0); N],
            head: 0,
            len: 0,
            dropped: 0,
        }
    }

    /// Takes the oldest event.
    pub fn pop(&mut self) -> Option<Event> {
        if self.len == 0 {
            return None;
        }
        let e = self.buf[self.head];
        self.head = (self.head + 1) % N;
        self.len -= 1;
        Some(e)
    }

    /// Events waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no event is waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Events dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

impl<const N: usize> Default for EventQueue<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> EventSink for EventQueue<N> {
    fn emit(&mut self, event: Event) {
        if self.len == N || N == 0 {
            self.dropped += 1;
            return;
        }
        let slot = (self.head + self.len) % N;
        self.buf[slot] = event;
        self.len += 1;
    }
}

/// A configuration field that is out of range (named `section.field`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError {
    field: &'static str,
}

impl ConfigError {
    pub(crate) const fn new(field: &'static str) -> ConfigError {
        ConfigError { field }
    }

    /// The offending field, e.g. `"contraction.min_on_s"`.
    pub fn field(&self) -> &'static str {
        self.field
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration field {} is out of range", self.field)
    }
}

impl core::error::Error for ConfigError {}

/// Samples covering `seconds` at `rate_hz`, at least one: a sample stands
/// for one period, so 0.015 s is 15 samples at 1 kHz and 1 sample at 10 Hz.
pub(crate) fn samples_for(seconds: f64, rate_hz: f64) -> u64 {
    let n = libm::ceil(seconds * rate_hz - 1e-9);
    if n.is_finite() && n >= 1.0 {
        n as u64
    } else {
        1
    }
}
