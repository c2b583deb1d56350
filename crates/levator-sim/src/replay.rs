//! Replay: any recording as a live, paced [`SampleSource`].
//!
//! A [`Replay`] reads a [`Recording`] (a levator-csv file, a
//! [`Simulator`], frames in memory) and delivers its frames in real time,
//! at a speed factor (x0.5 to x100) or as fast as possible; it can seek to
//! a time and loop forever. The delivered stream is continuous: output
//! sample indices keep increasing across loops and seeks, so a detector
//! downstream sees one long recording; [`Replay::position_s`] tells where
//! in the recording the next frame comes from.
//!
//! Pacing goes through a [`Clock`], so tests use a [`ManualClock`] and
//! never sleep. A consumer that falls behind gets the late frames at once
//! (no drift): frame `k` after the pacing anchor is due at
//! `anchor + k / (rate x speed)`.
//!
//! ```
//! use levator_sim::replay::{ManualClock, Pacing, Replay};
//! use levator_sim::Simulator;
//! use levator_core::stream::{SampleSource, SourceItem};
//!
//! let sim = Simulator::from_names("quick_flicks", "healthy", "pressure-trainer", 1).unwrap();
//! let clock = ManualClock::new();
//! let mut replay = Replay::new(sim, clock.clone(), Pacing::Speed(10.0)).unwrap();
//! for _ in 0..500 {
//!     replay.next_item().unwrap();
//! }
//! // 500 frames at 50 Hz x10 = 1 s of (virtual) wall time.
//! assert!((clock.now_s() - 0.998).abs() < 0.021);
//! replay.seek(2.0).unwrap();
//! let Some(SourceItem::Frame(f)) = replay.next_item().unwrap() else { panic!() };
//! assert_eq!(f.index, 500);                 // output keeps counting
//! assert!((replay.position_s() - 2.02).abs() < 1e-9);
//! ```

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use levator_core::stream::{Frame, SampleSource, SourceItem, StreamSpec};

use crate::csv::{CsvError, CsvReader};
use crate::Simulator;

/// A source of time for pacing.
pub trait Clock {
    /// Time since an arbitrary fixed start.
    fn now(&mut self) -> Duration;
    /// Blocks until [`Clock::now`] is at least `deadline`.
    fn sleep_until(&mut self, deadline: Duration);
}

/// The real monotonic clock (`Instant` + `thread::sleep`).
#[derive(Clone, Copy, Debug)]
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    /// A clock starting now.
    pub fn new() -> SystemClock {
        SystemClock {
            start: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&mut self) -> Duration {
        self.start.elapsed()
    }

    fn sleep_until(&mut self, deadline: Duration) {
        let now = self.start.elapsed();
        if deadline > now {
            std::thread::sleep(deadline - now);
        }
    }
}

/// A clock that only moves when told to, or when slept on (then it jumps
/// to the deadline). Clones share the same time, so a test keeps one and
/// hands the other to the [`Replay`].
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
    sleeps: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at time 0.
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    /// Moves the clock forward (a consumer busy for `d`).
    pub fn advance(&self, d: Duration) {
        let add = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(add, Ordering::SeqCst);
    }

    /// Current time in seconds.
    pub fn now_s(&self) -> f64 {
        self.nanos.load(Ordering::SeqCst) as f64 * 1e-9
    }

    /// How many times `sleep_until` actually had to wait.
    pub fn sleeps(&self) -> u64 {
        self.sleeps.load(Ordering::SeqCst)
    }
}

impl Clock for ManualClock {
    fn now(&mut self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }

    fn sleep_until(&mut self, deadline: Duration) {
        let d = u64::try_from(deadline.as_nanos()).unwrap_or(u64::MAX);
        let prev = self.nanos.fetch_max(d, Ordering::SeqCst);
        if prev < d {
            self.sleeps.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Something a [`Replay`] can play: frames from the start, and rewindable.
pub trait Recording {
    /// Why reading failed.
    type Error: std::error::Error + Send + Sync + 'static;
    /// The stream the recording holds.
    fn spec(&self) -> StreamSpec;
    /// The next frame or gap, in recording sample indices; `None` at the end.
    fn next_item(&mut self) -> Result<Option<SourceItem>, Self::Error>;
    /// Goes back to the first frame.
    fn rewind(&mut self) -> Result<(), Self::Error>;
}

/// A levator-csv file, re-opened to rewind.
#[derive(Debug)]
pub struct CsvFile {
    path: PathBuf,
    reader: CsvReader<BufReader<File>>,
}

impl CsvFile {
    /// Opens a recording (reads its header).
    pub fn open(path: &Path) -> Result<CsvFile, CsvError> {
        let reader = CsvReader::new(BufReader::new(File::open(path)?))?;
        Ok(CsvFile {
            path: path.to_path_buf(),
            reader,
        })
    }

    /// The reader (metadata, extra columns).
    pub fn reader(&self) -> &CsvReader<BufReader<File>> {
        &self.reader
    }
}

impl Recording for CsvFile {
    type Error = CsvError;

    fn spec(&self) -> StreamSpec {
        self.reader.spec()
    }

    fn next_item(&mut self) -> Result<Option<SourceItem>, CsvError> {
        SampleSource::next_item(&mut self.reader)
    }

    fn rewind(&mut self) -> Result<(), CsvError> {
        self.reader = CsvReader::new(BufReader::new(File::open(&self.path)?))?;
        Ok(())
    }
}

impl Recording for Simulator {
    type Error = crate::Error;

    fn spec(&self) -> StreamSpec {
        Simulator::spec(self)
    }

    fn next_item(&mut self) -> Result<Option<SourceItem>, crate::Error> {
        Ok(self.next_frame().map(SourceItem::Frame))
    }

    fn rewind(&mut self) -> Result<(), crate::Error> {
        Simulator::rewind(self)
    }
}

/// Any [`SampleSource`] that can be opened again: rewinding calls the
/// opener. This makes importers (manometry text, EMG text) and any other
/// source replayable, e.g.
/// `Reopen::new(|| CsvReader::new(BufReader::new(File::open(&path)?)))`.
///
/// ```
/// use levator_sim::replay::{ManualClock, Pacing, Reopen, Replay};
/// use levator_sim::Simulator;
/// use levator_core::stream::SampleSource;
/// let rec = Reopen::new(|| Simulator::from_names("quick_flicks", "healthy", "manometry", 1)).unwrap();
/// let mut replay = Replay::new(rec, ManualClock::new(), Pacing::AsFastAsPossible).unwrap().looping(true);
/// for _ in 0..2500 {
///     assert!(replay.next_item().unwrap().is_some());   // about 2.5 passes
/// }
/// assert_eq!(replay.loops(), 2);
/// ```
pub struct Reopen<S, F> {
    open: F,
    source: S,
}

impl<S, F> std::fmt::Debug for Reopen<S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reopen").finish_non_exhaustive()
    }
}

impl<S, E, F> Reopen<S, F>
where
    S: SampleSource,
    F: FnMut() -> Result<S, E>,
{
    /// Opens the source once.
    pub fn new(mut open: F) -> Result<Reopen<S, F>, E> {
        let source = open()?;
        Ok(Reopen { open, source })
    }

    /// The current source.
    pub fn source(&self) -> &S {
        &self.source
    }
}

/// Error of a [`Reopen`] recording: the source's or the opener's.
#[derive(Debug, thiserror::Error)]
pub enum ReopenError<A: std::fmt::Debug + std::fmt::Display, B: std::fmt::Debug + std::fmt::Display>
{
    /// Reading the source failed.
    #[error("{0}")]
    Read(A),
    /// Opening it again failed.
    #[error("reopening: {0}")]
    Open(B),
}

impl<S, E, F> Recording for Reopen<S, F>
where
    S: SampleSource,
    S::Error: Send + Sync + 'static,
    E: std::fmt::Debug + std::fmt::Display + Send + Sync + 'static,
    F: FnMut() -> Result<S, E>,
{
    type Error = ReopenError<S::Error, E>;

    fn spec(&self) -> StreamSpec {
        self.source.spec()
    }

    fn next_item(&mut self) -> Result<Option<SourceItem>, Self::Error> {
        self.source.next_item().map_err(ReopenError::Read)
    }

    fn rewind(&mut self) -> Result<(), Self::Error> {
        self.source = (self.open)().map_err(ReopenError::Open)?;
        Ok(())
    }
}

/// Frames held in memory (indices as stored; a jump is delivered as a gap).
#[derive(Clone, Debug)]
pub struct MemoryRecording {
    spec: StreamSpec,
    frames: Vec<Frame>,
    pos: usize,
    next_index: u64,
}

impl MemoryRecording {
    /// A recording of `frames` (indices must increase).
    pub fn new(spec: StreamSpec, frames: Vec<Frame>) -> MemoryRecording {
        MemoryRecording {
            spec,
            frames,
            pos: 0,
            next_index: 0,
        }
    }
}

impl Recording for MemoryRecording {
    type Error = std::convert::Infallible;

    fn spec(&self) -> StreamSpec {
        self.spec
    }

    fn next_item(&mut self) -> Result<Option<SourceItem>, Self::Error> {
        let Some(f) = self.frames.get(self.pos) else {
            return Ok(None);
        };
        if f.index > self.next_index {
            let gap = SourceItem::Gap {
                first_index: self.next_index,
                lost: f.index - self.next_index,
            };
            self.next_index = f.index;
            return Ok(Some(gap));
        }
        self.pos += 1;
        self.next_index = f.index + 1;
        Ok(Some(SourceItem::Frame(*f)))
    }

    fn rewind(&mut self) -> Result<(), Self::Error> {
        self.pos = 0;
        self.next_index = 0;
        Ok(())
    }
}

/// How fast a replay delivers frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pacing {
    /// At the recording's sample rate (speed 1).
    RealTime,
    /// At `rate x factor`, factor in [`MIN_SPEED`, `MAX_SPEED`].
    Speed(f64),
    /// No waiting at all.
    AsFastAsPossible,
}

/// Slowest speed factor.
pub const MIN_SPEED: f64 = 0.5;
/// Fastest paced speed factor (beyond that use [`Pacing::AsFastAsPossible`]).
pub const MAX_SPEED: f64 = 100.0;

impl Pacing {
    fn factor(self) -> Option<f64> {
        match self {
            Pacing::RealTime => Some(1.0),
            Pacing::Speed(f) => Some(f),
            Pacing::AsFastAsPossible => None,
        }
    }

    fn validate(self) -> Result<Pacing, ReplayError> {
        if let Pacing::Speed(f) = self {
            if !(f.is_finite() && (MIN_SPEED..=MAX_SPEED).contains(&f)) {
                return Err(ReplayError::Speed(f));
            }
        }
        Ok(self)
    }
}

/// Why a replay failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// Speed factor out of range.
    #[error("speed factor {0} is outside {MIN_SPEED}..={MAX_SPEED}")]
    Speed(f64),
    /// Seek to a negative, non-finite or past-the-end time.
    #[error("cannot seek to {0} s (outside the recording)")]
    Seek(f64),
    /// The recording failed.
    #[error("recording: {0}")]
    Source(Box<dyn std::error::Error + Send + Sync>),
}

/// A recording delivered as a live, paced stream. See the module docs.
#[derive(Debug)]
pub struct Replay<R: Recording, C: Clock> {
    rec: R,
    clock: C,
    pacing: Pacing,
    looping: bool,
    spec: StreamSpec,
    /// Output index = out_base + (source index - src_base).
    out_base: u64,
    src_base: u64,
    out_next: u64,
    src_next: u64,
    held: Option<SourceItem>,
    anchor: Option<(Duration, u64)>,
    loops: u64,
    first_index: Option<u64>,
}

impl<R: Recording, C: Clock> Replay<R, C> {
    /// A replay of `rec` paced by `clock`.
    pub fn new(rec: R, clock: C, pacing: Pacing) -> Result<Replay<R, C>, ReplayError> {
        let spec = rec.spec();
        Ok(Replay {
            rec,
            clock,
            pacing: pacing.validate()?,
            looping: false,
            spec,
            out_base: 0,
            src_base: 0,
            out_next: 0,
            src_next: 0,
            held: None,
            anchor: None,
            loops: 0,
            first_index: None,
        })
    }

    /// Loop forever (rewind at the end) or stop at the end.
    pub fn set_looping(&mut self, looping: bool) {
        self.looping = looping;
    }

    /// Builder form of [`Replay::set_looping`].
    pub fn looping(mut self, looping: bool) -> Self {
        self.looping = looping;
        self
    }

    /// Changes the pacing from the next frame on.
    pub fn set_pacing(&mut self, pacing: Pacing) -> Result<(), ReplayError> {
        self.pacing = pacing.validate()?;
        self.anchor = None;
        Ok(())
    }

    /// The current pacing.
    pub fn pacing(&self) -> Pacing {
        self.pacing
    }

    /// How many times the recording has wrapped around.
    pub fn loops(&self) -> u64 {
        self.loops
    }

    /// Position in the recording of the next frame (s).
    pub fn position_s(&self) -> f64 {
        let src = match &self.held {
            Some(SourceItem::Frame(f)) => f.index,
            Some(SourceItem::Gap { first_index, .. }) => *first_index,
            None => self.src_next,
        };
        self.spec.time_s(src)
    }

    /// Index the next delivered sample will have.
    pub fn next_output_index(&self) -> u64 {
        self.out_next
    }

    /// The recording being replayed.
    pub fn recording(&self) -> &R {
        &self.rec
    }

    fn pull(&mut self) -> Result<Option<SourceItem>, ReplayError> {
        if let Some(item) = self.held.take() {
            return Ok(Some(item));
        }
        self.rec
            .next_item()
            .map_err(|e| ReplayError::Source(Box::new(e)))
    }

    /// Continues from recording time `t_s` (the output stream stays continuous).
    pub fn seek(&mut self, t_s: f64) -> Result<(), ReplayError> {
        if !(t_s.is_finite() && t_s >= 0.0) {
            return Err(ReplayError::Seek(t_s));
        }
        let target = libm::round(t_s * self.spec.rate_hz()) as u64;
        let current = match &self.held {
            Some(SourceItem::Frame(f)) => f.index,
            Some(SourceItem::Gap { first_index, .. }) => *first_index,
            None => self.src_next,
        };
        if target < current {
            self.rec
                .rewind()
                .map_err(|e| ReplayError::Source(Box::new(e)))?;
            self.held = None;
        }
        loop {
            match self.pull()? {
                None => return Err(ReplayError::Seek(t_s)),
                Some(SourceItem::Frame(f)) if f.index >= target => {
                    self.held = Some(SourceItem::Frame(f));
                    self.src_base = f.index;
                    self.src_next = f.index;
                    break;
                }
                Some(SourceItem::Gap { first_index, lost }) if first_index + lost > target => {
                    let first = first_index.max(target);
                    self.held = Some(SourceItem::Gap {
                        first_index: first,
                        lost: first_index + lost - first,
                    });
                    self.src_base = first;
                    self.src_next = first;
                    break;
                }
                Some(_) => {}
            }
        }
        self.out_base = self.out_next;
        Ok(())
    }

    fn pace(&mut self, out_index: u64) {
        let Some(speed) = self.pacing.factor() else {
            return;
        };
        let (t0, i0) = *self
            .anchor
            .get_or_insert_with(|| (self.clock.now(), out_index));
        let ahead = (out_index.saturating_sub(i0)) as f64 / (self.spec.rate_hz() * speed);
        let ahead = Duration::try_from_secs_f64(ahead).unwrap_or(Duration::MAX);
        let due = t0.checked_add(ahead).unwrap_or(Duration::MAX);
        self.clock.sleep_until(due);
    }
}

impl<R: Recording, C: Clock> SampleSource for Replay<R, C> {
    type Error = ReplayError;

    fn spec(&self) -> StreamSpec {
        self.spec
    }

    fn next_item(&mut self) -> Result<Option<SourceItem>, ReplayError> {
        let mut wrapped = false;
        let item = loop {
            match self.pull()? {
                Some(item) => break item,
                None if self.looping && !wrapped && self.first_index.is_some() => {
                    wrapped = true;
                    self.rec
                        .rewind()
                        .map_err(|e| ReplayError::Source(Box::new(e)))?;
                    self.loops += 1;
                    self.out_base = self.out_next;
                    self.src_base = self.first_index.unwrap_or(0);
                    self.src_next = self.src_base;
                }
                None => return Ok(None),
            }
        };
        let map = |src: u64, me: &Self| me.out_base + src.saturating_sub(me.src_base);
        match item {
            SourceItem::Frame(mut f) => {
                if self.first_index.is_none() {
                    self.first_index = Some(f.index);
                }
                let out = map(f.index, self);
                self.src_next = f.index + 1;
                self.out_next = out + 1;
                self.pace(out);
                f.index = out;
                Ok(Some(SourceItem::Frame(f)))
            }
            SourceItem::Gap { first_index, lost } => {
                let out = map(first_index, self);
                self.src_next = first_index + lost;
                self.out_next = out + lost;
                Ok(Some(SourceItem::Gap {
                    first_index: out,
                    lost,
                }))
            }
        }
    }
}
