//! The [`Pipeline`]: one object per stream that conditions every channel,
//! keeps each channel's baseline, runs the detectors and hands events to a
//! caller-provided [`EventSink`].
//!
//! Per sample, in this order:
//!
//! 1. index bookkeeping: a frame whose index skips ahead is treated as a
//!    gap of the skipped samples (the same as [`Pipeline::gap`]); a frame
//!    that does not move forward is rejected and counted
//!    ([`PipelineStats::rejected_frames`]);
//! 2. per channel: unit conversion to canonical (mmHg → cmH2O), the
//!    [`QualityMonitor`], the conditioning [`Chain`] (EMG: high-pass,
//!    band-pass, mains notches, moving RMS; pressure/motion: low-pass); a
//!    channel whose quality is bad stays *blocked* for detectors and its
//!    baseline until the issue cleared and its feature is back inside the
//!    resting band (the envelope can still carry the artefact: mains
//!    notches ring for ~0.2 s after a large transient);
//! 3. the first [`PipelineConfig::warmup_s`] are skipped (filters settle),
//!    then each channel's [`Baseline`] calibrates for
//!    `baseline.calibration_s` (detectors wait for it);
//! 4. bearing-down, contraction, release/poor-release and drop detectors;
//! 5. baselines learn from samples judged at rest.

use core::fmt;

use crate::conditioning::{Chain, ChainConfig, ChainError, EnvelopeConfig, Mains, NotchKind};
use crate::event::{Event, EventKind, Phase, QualityIssue};
use crate::features::baseline::{
    Band, BandConfig, Baseline, BaselineConfig, BaselineError, MvcCalibration,
};
use crate::stream::{Frame, Role, SourceItem, StreamSpec, MAX_CHANNELS};

use super::bearing_down::{BearingDownConfig, BearingDownDetector, PelvicView};
use super::contraction::{ContractionConfig, ContractionDetector, Gate};
use super::drop::{DropConfig, DropDetector};
use super::quality::{QualityConfig, QualityMonitor};
use super::release::{ReleaseConfig, ReleaseDetector};
use super::{samples_for, ConfigError, EventSink};

/// A "drop" longer than this is a changed resting tone, not a reverse
/// Kegel (s): down-training holds last 5-10 s.
const LONG_DROP_S: f64 = 30.0;

/// Frames [`Pipeline::process`] conditions at a time before running the
/// detectors over them (a longer block is taken in pieces of this size;
/// the result does not depend on it). The chains' wavefront fills and
/// drains once per block, so longer blocks cost less per frame.
pub const BLOCK_FRAMES: usize = 256;

/// Everything a [`Pipeline`] can be tuned with. Start from `default()`
/// and change fields; every field documents its default and the reason.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct PipelineConfig {
    /// Mains frequency notched out of EMG channels (harmonics included).
    /// Default 50 Hz (set 60 Hz in the Americas; `None` for none).
    pub mains: Option<Mains>,
    /// How the mains notches of EMG channels are built (see
    /// [`NotchKind`]). Default [`NotchKind::Cascade`]; [`NotchKind::Comb`]
    /// costs about 20% less CPU per channel-sample at 1 kHz but finds
    /// fewer reverse-Kegel drops in the simulator's accuracy table (the
    /// numbers are in [`crate::conditioning::comb`]).
    pub notch_kind: NotchKind,
    /// EMG moving-RMS envelope window (ms). Default 50 ms: the usual sEMG
    /// biofeedback smoothing (25-100 ms); shorter windows cut latency but
    /// raise envelope noise (relative SD ~ 1/sqrt(window x bandwidth)).
    pub emg_window_ms: f64,
    /// Time skipped at the start of the stream and after a gap before the
    /// baseline learns and detectors run (s). Default 0.5 s: the 10 Hz
    /// high-pass and 20 Hz band-pass of the EMG chain settle within about
    /// 0.2 s of a DC step.
    pub warmup_s: f64,
    /// Resting baseline calibration and tracking.
    pub baseline: BaselineConfig,
    /// Thresholds for EMG envelopes.
    pub emg_band: BandConfig,
    /// Thresholds for pelvic pressure.
    pub pressure_band: BandConfig,
    /// Thresholds for abdominal (rectal) pressure, the push signal.
    pub abdominal_pressure_band: BandConfig,
    /// Thresholds for probe motion.
    pub motion_band: BandConfig,
    /// Contraction detector.
    pub contraction: ContractionConfig,
    /// Release / poor-release detector.
    pub release: ReleaseConfig,
    /// Reverse-Kegel drop detector.
    pub drop: DropConfig,
    /// Bearing-down detector.
    pub bearing_down: BearingDownConfig,
    /// Signal-quality monitors.
    pub quality: QualityConfig,
    /// MVC level of the pelvic feature (µV envelope or cmH2O) for
    /// `peak_pct_mvc`; `None` until calibrated
    /// ([`Pipeline::start_mvc_calibration`]) or set.
    pub pelvic_mvc: Option<f64>,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            mains: Some(Mains::Hz50),
            notch_kind: NotchKind::Cascade,
            emg_window_ms: 50.0,
            warmup_s: 0.5,
            baseline: BaselineConfig::default(),
            emg_band: BandConfig::emg(),
            pressure_band: BandConfig::pressure(),
            abdominal_pressure_band: BandConfig::abdominal_pressure(),
            motion_band: BandConfig::motion(),
            contraction: ContractionConfig::default(),
            release: ReleaseConfig::default(),
            drop: DropConfig::default(),
            bearing_down: BearingDownConfig::default(),
            quality: QualityConfig::default(),
            pelvic_mvc: None,
        }
    }
}

/// Why a [`Pipeline`] could not be built.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PipelineError {
    /// The stream has neither a pelvic channel (`pelvic_emg`,
    /// `pelvic_pressure`) nor a push channel (`abdominal_pressure`,
    /// `abdominal_emg`, `probe_motion`): nothing to detect.
    NoUsableChannel,
    /// A configuration field is out of range.
    Config(ConfigError),
    /// A channel's conditioning chain could not be built.
    Chain(Role, ChainError),
    /// The baseline configuration is invalid.
    Baseline(BaselineError),
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipelineError::NoUsableChannel => f.write_str(
                "the stream has no pelvic (pelvic_emg, pelvic_pressure) or push \
                 (abdominal_pressure, abdominal_emg, probe_motion) channel",
            ),
            PipelineError::Config(e) => write!(f, "{e}"),
            PipelineError::Chain(role, e) => write!(f, "conditioning of {role}: {e}"),
            PipelineError::Baseline(e) => write!(f, "baseline: {e}"),
        }
    }
}

impl core::error::Error for PipelineError {}

impl From<ConfigError> for PipelineError {
    fn from(e: ConfigError) -> Self {
        PipelineError::Config(e)
    }
}

/// Counters a caller can report (nothing is dropped silently).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PipelineStats {
    /// Frames processed.
    pub frames: u64,
    /// Samples reported missing (by [`Pipeline::gap`] or index jumps).
    pub samples_lost: u64,
    /// Gaps seen.
    pub gaps: u64,
    /// Frames rejected because their index did not move forward.
    pub rejected_frames: u64,
    /// Non-finite sample values (held at the last good value, flagged as
    /// an `artifact`).
    pub bad_values: u64,
}

/// A view of the pipeline's features at the last sample (for displays).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Snapshot {
    /// Time of the last sample (s).
    pub t_s: f64,
    /// Pelvic feature level and its thresholds, once calibrated.
    pub pelvic: Option<(f64, Band)>,
    /// Push-channel feature level (motion sign-flipped) and thresholds.
    pub push: Option<(f64, Band)>,
}

#[derive(Clone, Debug)]
struct Channel {
    unit: crate::stream::Unit,
    chain: Chain,
    quality: QualityMonitor,
    baseline: Baseline,
    band_config: BandConfig,
    /// `baseline.band(&band_config)` once calibrated: recomputed only when
    /// the baseline changes (every detector and the baseline learning of a
    /// sample read it, at most once per channel and sample computed).
    band: Option<Band>,
    level: f64,
    /// The chain's filtered (pre-envelope) value of the current sample
    /// (kept for the pelvic channel only by `process`, the only one a
    /// detector reads).
    filtered: f64,
    blocked: bool,
    settling: bool,
    /// Probe motion: the chain input is sign-flipped (a push moves the
    /// probe outward).
    flip: bool,
    /// Chain outputs of the block [`Pipeline::process`] is working on
    /// (scratch space: here rather than on the stack, so that the
    /// per-frame decisions read their channel's column directly).
    block: [f64; BLOCK_FRAMES],
}

impl Channel {
    /// The chain input for a raw sample already in the canonical unit:
    /// probe motion sign-flipped.
    #[inline(always)]
    fn input(&self, canonical: f64) -> f64 {
        if self.flip {
            -canonical
        } else {
            canonical
        }
    }

    /// Recomputes the cached band after the baseline changed.
    #[inline]
    fn refresh_band(&mut self) {
        self.band = self
            .baseline
            .is_calibrated()
            .then(|| self.baseline.band(&self.band_config));
    }

    /// Recomputes the cached band after a calibrated baseline changed (a
    /// baseline never leaves calibration).
    #[inline]
    fn refresh_calibrated_band(&mut self) {
        self.band = Some(self.baseline.band(&self.band_config));
    }
}

/// The real-time detection pipeline of one stream (see the module docs).
///
/// ```
/// use levator_core::detect::{EventQueue, Pipeline, PipelineConfig};
/// use levator_core::stream::{ChannelSpec, Frame, Role, StreamSpec};
/// let spec = StreamSpec::new(1000.0, &[
///     ChannelSpec::canonical(Role::PelvicEmg),
///     ChannelSpec::canonical(Role::AbdominalEmg),
/// ])?;
/// let mut p = Pipeline::new(spec, PipelineConfig::default())?;
/// let mut queue: EventQueue<64> = EventQueue::new();
/// p.tick(&Frame::new(0, &[1.5, -0.7]), &mut queue);
/// assert!(queue.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Pipeline {
    spec: StreamSpec,
    rate_hz: f64,
    /// The stream's channels in `..n_channels`; the slots after them hold
    /// copies of channel 0 that are never used (a dense array: no
    /// `Option` to test per channel and sample).
    channels: [Channel; MAX_CHANNELS],
    n_channels: usize,
    pelvic: Option<usize>,
    push: Option<usize>,
    /// `pelvic` resolved once: its index, or [`MAX_CHANNELS`] (no channel)
    /// for none.
    pelvic_ix: usize,
    /// `push` resolved the same way.
    push_ix: usize,
    contraction: Option<ContractionDetector>,
    release: Option<ReleaseDetector>,
    drop: Option<DropDetector>,
    bearing: Option<BearingDownDetector>,
    warmup: u64,
    warm_left: u64,
    last_index: Option<u64>,
    last_t: f64,
    stats: PipelineStats,
    mvc: Option<MvcCalibration>,
    /// The pelvic channel's filtered (pre-envelope) values of the block
    /// [`Pipeline::process`] is working on.
    pelvic_filtered: [f64; BLOCK_FRAMES],
}

impl Pipeline {
    /// Builds a pipeline for `spec`, validating `config`.
    pub fn new(spec: StreamSpec, config: PipelineConfig) -> Result<Pipeline, PipelineError> {
        let rate = spec.rate_hz();
        if !(config.emg_window_ms.is_finite() && config.emg_window_ms > 0.0) {
            return Err(ConfigError::new("emg_window_ms").into());
        }
        if !(config.warmup_s.is_finite() && config.warmup_s >= 0.0) {
            return Err(ConfigError::new("warmup_s").into());
        }
        for (b, name) in [
            (&config.emg_band, "emg_band"),
            (&config.pressure_band, "pressure_band"),
            (&config.abdominal_pressure_band, "abdominal_pressure_band"),
            (&config.motion_band, "motion_band"),
        ] {
            if !b.is_valid() {
                return Err(ConfigError::new(name).into());
            }
        }
        if let Some(m) = config.pelvic_mvc {
            if !m.is_finite() {
                return Err(ConfigError::new("pelvic_mvc").into());
            }
        }
        let mut channels: [Option<Channel>; MAX_CHANNELS] = Default::default();
        let mut lowpass_delay = [0.0f64; MAX_CHANNELS];
        for (i, c) in spec.channels().iter().enumerate() {
            let mut cc = ChainConfig::for_role(c.role, rate);
            let band_config = if c.role.is_emg() {
                cc.mains = config.mains;
                cc.notch_kind = config.notch_kind;
                if cc.envelope != EnvelopeConfig::None {
                    cc.envelope = EnvelopeConfig::MovingRms {
                        window_ms: config.emg_window_ms.max(1000.0 / rate),
                    };
                }
                config.emg_band
            } else if c.role == Role::AbdominalPressure {
                config.abdominal_pressure_band
            } else if c.role.is_pressure() {
                config.pressure_band
            } else {
                config.motion_band
            };
            if let Some(fc) = cc.lowpass_hz {
                // low-frequency group delay of a 2nd-order Butterworth
                lowpass_delay[i] = core::f64::consts::SQRT_2 / (2.0 * core::f64::consts::PI * fc);
            }
            let chain = Chain::new(&cc).map_err(|e| PipelineError::Chain(c.role, e))?;
            channels[i] = Some(Channel {
                unit: c.unit,
                chain,
                quality: QualityMonitor::new(c.role, rate, &config.quality)?,
                baseline: Baseline::new(config.baseline, rate).map_err(PipelineError::Baseline)?,
                band_config,
                band: None,
                level: 0.0,
                filtered: 0.0,
                blocked: false,
                settling: false,
                flip: c.role == Role::ProbeMotion,
                block: [0.0; BLOCK_FRAMES],
            });
        }
        let Some(first) = channels[0].clone() else {
            return Err(PipelineError::NoUsableChannel);
        };
        let channels: [Channel; MAX_CHANNELS] =
            core::array::from_fn(|i| channels[i].take().unwrap_or_else(|| first.clone()));
        let pelvic = spec
            .channel_index(Role::PelvicEmg)
            .or_else(|| spec.channel_index(Role::PelvicPressure));
        let push = spec
            .channel_index(Role::AbdominalPressure)
            .or_else(|| spec.channel_index(Role::AbdominalEmg))
            .or_else(|| spec.channel_index(Role::ProbeMotion));
        if pelvic.is_none() && push.is_none() {
            return Err(PipelineError::NoUsableChannel);
        }
        let pelvic_role = pelvic.map(|i| spec.channels()[i].role);
        let contraction = match (pelvic, pelvic_role) {
            (Some(i), Some(role)) => {
                let mut d =
                    ContractionDetector::new(role, rate, lowpass_delay[i], &config.contraction)?;
                d.set_mvc(config.pelvic_mvc);
                Some(d)
            }
            _ => None,
        };
        let release = match pelvic_role {
            Some(role) => Some(ReleaseDetector::new(role, rate, &config.release)?),
            None => None,
        };
        let drop = match pelvic_role {
            Some(role) => Some(DropDetector::new(role, rate, &config.drop)?),
            None => None,
        };
        let bearing = match push {
            Some(i) => Some(BearingDownDetector::new(
                spec.channels()[i].role,
                pelvic_role,
                rate,
                &config.bearing_down,
            )?),
            None => None,
        };
        // validate the configs of absent detectors too
        config.contraction.validate()?;
        config.release.validate()?;
        config.drop.validate()?;
        config.bearing_down.validate()?;
        let warmup = if config.warmup_s > 0.0 {
            samples_for(config.warmup_s, rate)
        } else {
            0
        };
        Ok(Pipeline {
            spec,
            rate_hz: rate,
            channels,
            n_channels: spec.len(),
            pelvic,
            push,
            pelvic_ix: pelvic.unwrap_or(MAX_CHANNELS),
            push_ix: push.unwrap_or(MAX_CHANNELS),
            contraction,
            release,
            drop,
            bearing,
            warmup,
            warm_left: warmup,
            last_index: None,
            last_t: 0.0,
            stats: PipelineStats::default(),
            mvc: None,
            pelvic_filtered: [0.0; BLOCK_FRAMES],
        })
    }

    /// The stream this pipeline was built for.
    pub fn spec(&self) -> &StreamSpec {
        &self.spec
    }

    /// Counters (frames, lost samples, rejected frames, bad values).
    pub fn stats(&self) -> PipelineStats {
        self.stats
    }

    /// The role the contraction/release/drop detectors judge, if any.
    pub fn pelvic_role(&self) -> Option<Role> {
        self.pelvic.map(|i| self.spec.channels()[i].role)
    }

    /// The role the bearing-down detector judges, if any.
    pub fn push_role(&self) -> Option<Role> {
        self.push.map(|i| self.spec.channels()[i].role)
    }

    /// Features and thresholds at the last sample.
    pub fn snapshot(&self) -> Snapshot {
        let view = |idx: Option<usize>| {
            let c = self.channels.get(idx?)?;
            c.band.map(|band| (c.level, band))
        };
        Snapshot {
            t_s: self.last_t,
            pelvic: view(self.pelvic),
            push: view(self.push),
        }
    }

    /// The pelvic feature (EMG envelope in µV, smoothed pressure in cmH2O)
    /// at the last sample, also before the baseline is calibrated.
    pub fn pelvic_level(&self) -> Option<f64> {
        self.channels.get(self.pelvic_ix).map(|c| c.level)
    }

    /// The pelvic channel's conditioned signal (before the envelope) at the
    /// last sample: band-passed EMG, for spectral analysis.
    pub fn pelvic_filtered(&self) -> Option<f64> {
        self.channels
            .get(self.pelvic_ix)
            .map(|c| c.chain.filtered())
    }

    /// Sets (or clears) the pelvic MVC level used for `peak_pct_mvc`.
    pub fn set_pelvic_mvc(&mut self, mvc: Option<f64>) {
        if let Some(d) = self.contraction.as_mut() {
            d.set_mvc(mvc.filter(|m| m.is_finite()));
        }
    }

    /// Starts an MVC calibration: ask the user to squeeze as hard as they
    /// can, then call [`Pipeline::finish_mvc_calibration`].
    pub fn start_mvc_calibration(&mut self) {
        self.mvc = Some(MvcCalibration::new(self.rate_hz, 0.5));
    }

    /// Ends an MVC calibration, sets and returns the MVC level.
    pub fn finish_mvc_calibration(&mut self) -> Option<f64> {
        let v = self.mvc.take().and_then(|m| m.value());
        if v.is_some() {
            self.set_pelvic_mvc(v);
        }
        v
    }

    /// When [`Pipeline::poll`] next has a timeout to fire (stream time, s).
    pub fn poll_at(&self) -> Option<f64> {
        self.release.as_ref().and_then(|r| r.poll_at())
    }

    /// Fires timeouts due at stream time `now_s` (poor release) when no
    /// sample arrives to do it, e.g. a stalled live stream.
    pub fn poll<S: EventSink + ?Sized>(&mut self, now_s: f64, sink: &mut S) {
        if let Some(r) = self.release.as_mut() {
            r.poll(now_s, sink);
        }
    }

    /// Feeds one [`SourceItem`] (frame or gap).
    pub fn push_item<S: EventSink + ?Sized>(&mut self, item: &SourceItem, sink: &mut S) {
        match item {
            SourceItem::Frame(f) => self.tick(f, sink),
            SourceItem::Gap { first_index, lost } => self.gap(*first_index, *lost, sink),
        }
    }

    /// Feeds a block of frames; identical to calling [`Pipeline::tick`] on
    /// each (the same events, bit for bit, whatever the block size).
    ///
    /// Faster than frame by frame: the conditioning chains, which depend
    /// on nothing but their own channel's input, run over up to
    /// [`BLOCK_FRAMES`] frames at a time, channel by channel, before the
    /// quality monitors, baselines and detectors take those frames one by
    /// one. The chain of one sample then no longer waits for the detectors
    /// of the previous one, so consecutive samples' filter work overlaps.
    pub fn process<S: EventSink + ?Sized>(&mut self, frames: &[Frame], sink: &mut S) {
        for chunk in frames.chunks(BLOCK_FRAMES) {
            self.process_chunk(chunk, sink);
        }
    }

    /// [`Pipeline::process`] of at most [`BLOCK_FRAMES`] frames.
    fn process_chunk<S: EventSink + ?Sized>(&mut self, frames: &[Frame], sink: &mut S) {
        // 1. which frames `tick` would accept: the index must move forward
        // (a frame that skips ahead is accepted after a gap)
        let mut accepted = [false; BLOCK_FRAMES];
        let mut n_accepted = 0;
        let mut last = self.last_index;
        for (a, f) in accepted.iter_mut().zip(frames) {
            *a = last.map_or(true, |l| f.index > l);
            if *a {
                last = Some(f.index);
                n_accepted += 1;
            }
        }
        let all = n_accepted == frames.len();
        // 2. conditioning, channel by channel over the accepted frames
        // (`Chain::process`: the same values as `tick`, faster in blocks)
        let mut column = [0.0f64; BLOCK_FRAMES];
        let pelvic_ix = self.pelvic_ix;
        for (i, c) in self.channels.iter_mut().take(self.n_channels).enumerate() {
            if all {
                for (slot, f) in column.iter_mut().zip(frames) {
                    *slot = c.input(c.unit.to_canonical(f.get(i)));
                }
            } else {
                let accepted = frames.iter().zip(accepted.iter()).filter(|(_, &a)| a);
                for (slot, (f, _)) in column.iter_mut().zip(accepted) {
                    *slot = c.input(c.unit.to_canonical(f.get(i)));
                }
            }
            let n = n_accepted.min(BLOCK_FRAMES);
            // the filtered values are only needed for the pelvic channel
            let filtered: &mut [f64] = if i == pelvic_ix {
                &mut self.pelvic_filtered[..n]
            } else {
                &mut []
            };
            c.chain
                .process_with_filtered(&column[..n], filtered, &mut c.block[..n]);
        }
        // 3. everything else, frame by frame
        let mut k = 0;
        for (f, &a) in frames.iter().zip(accepted.iter()) {
            if a {
                let filtered = self.pelvic_filtered.get(k).copied().unwrap_or(f64::NAN);
                let at = k;
                k += 1;
                self.advance(f.index, sink);
                self.decide(
                    f,
                    |c, _| (c.block.get(at).copied().unwrap_or(0.0), filtered),
                    sink,
                );
            } else {
                self.stats.rejected_frames += 1;
            }
        }
    }

    /// Reports `lost` missing samples starting at `first_index`: emits a
    /// `signal_quality` `gap` start and end, ends events in flight at the
    /// gap (their timing cannot be judged across it), cancels a pending
    /// release check, and re-runs the warm-up after it.
    pub fn gap<S: EventSink + ?Sized>(&mut self, first_index: u64, lost: u64, sink: &mut S) {
        if lost == 0 {
            return;
        }
        if let Some(last) = self.last_index {
            if first_index <= last {
                // overlaps what we already have: count only the new part
                let end = first_index.saturating_add(lost);
                if end <= last + 1 {
                    return;
                }
                return self.gap(last + 1, end - last - 1, sink);
            }
        }
        let t0 = self.spec.time_s(first_index);
        let end_index = first_index.saturating_add(lost);
        let t1 = self.spec.time_s(end_index);
        self.stats.gaps += 1;
        self.stats.samples_lost = self.stats.samples_lost.saturating_add(lost);
        let mut s = Event::new(EventKind::SignalQuality, Some(Phase::Start), t0).detected_at(t1);
        s.issue = Some(QualityIssue::Gap);
        s.samples_lost = Some(lost);
        sink.emit(s);
        let mut e = s;
        e.phase = Some(Phase::End);
        e.end_s = Some(t1);
        e.duration_s = Some(t1 - t0);
        sink.emit(e);
        if let Some(c) = self.contraction.as_mut() {
            c.finish(t0, sink);
            c.reset(t1);
        }
        if let Some(r) = self.release.as_mut() {
            r.cancel();
        }
        if let Some(d) = self.drop.as_mut() {
            d.interrupt(t0, sink);
        }
        if let Some(b) = self.bearing.as_mut() {
            b.interrupt(t0, sink);
        }
        for c in self.channels.iter_mut().take(self.n_channels) {
            c.quality.hold_off();
        }
        self.warm_left = self.warmup;
        self.last_index = Some(end_index.saturating_sub(1));
        self.last_t = self.spec.time_s(end_index.saturating_sub(1));
    }

    /// Ends every interval still open at the end of the stream (their
    /// `end_s` is the last sample's time).
    pub fn finish<S: EventSink + ?Sized>(&mut self, sink: &mut S) {
        let t = self.last_t;
        if let Some(c) = self.contraction.as_mut() {
            c.finish(t, sink);
        }
        if let Some(r) = self.release.as_mut() {
            r.poll(t, sink);
            r.cancel();
        }
        if let Some(d) = self.drop.as_mut() {
            d.finish(t, sink);
        }
        if let Some(b) = self.bearing.as_mut() {
            b.finish(t, sink);
        }
        for c in self.channels.iter_mut().take(self.n_channels) {
            c.quality.finish(t, sink);
        }
    }

    /// Feeds one frame. Never fails, never allocates, never panics.
    pub fn tick<S: EventSink + ?Sized>(&mut self, frame: &Frame, sink: &mut S) {
        if self.last_index.is_some_and(|last| frame.index <= last) {
            self.stats.rejected_frames += 1;
            return;
        }
        self.advance(frame.index, sink);
        // each channel's chain right after its quality monitor (measured:
        // all chains first, then all monitors, is ~5% slower per frame)
        self.decide(
            frame,
            |c, raw| {
                let level = c.chain.tick(c.input(raw));
                (level, c.chain.filtered())
            },
            sink,
        );
    }

    /// Index bookkeeping of an accepted frame (`index` moved forward): the
    /// skipped samples, if any, are a gap.
    #[inline]
    fn advance<S: EventSink + ?Sized>(&mut self, index: u64, sink: &mut S) {
        if let Some(last) = self.last_index {
            if index > last + 1 {
                self.gap(last + 1, index - last - 1, sink);
            }
        }
        self.last_index = Some(index);
        self.stats.frames += 1;
    }

    /// Everything but the index bookkeeping for one accepted frame:
    /// `level(channel, raw)` is the channel's chain output for this frame
    /// (`raw`: its sample in the canonical unit) and its filtered
    /// (pre-envelope) value (run by `tick`, looked up by `process`).
    #[inline(always)]
    fn decide<S: EventSink + ?Sized, L: FnMut(&mut Channel, f64) -> (f64, f64)>(
        &mut self,
        frame: &Frame,
        mut level: L,
        sink: &mut S,
    ) {
        let t = self.spec.time_s(frame.index);
        self.last_t = t;
        let n = self.n_channels;
        let (pelvic_ix, push_ix) = (self.pelvic_ix, self.push_ix);

        // 1. quality per channel
        for (i, c) in self.channels.iter_mut().take(n).enumerate() {
            let raw = c.unit.to_canonical(frame.get(i));
            if !raw.is_finite() {
                self.stats.bad_values += 1;
            }
            // rest level and SD: the cached band's once calibrated (the
            // same values, without a square root per sample)
            let (rest, sd) = match &c.band {
                Some(b) => (b.rest, b.sd),
                None => (c.baseline.rest(), c.baseline.sd()),
            };
            let ok = c
                .quality
                .tick(t, raw, rest, sd, c.band_config.on_floor, sink);
            (c.level, c.filtered) = level(c, raw);
            // after an artefact the envelope may still carry it (filter
            // ringing, the RMS window): stay blocked until the feature is
            // back inside the resting band
            if !ok {
                c.settling = true;
            } else if c.settling && c.band.as_ref().map_or(true, |b| c.level <= b.band_hi) {
                c.settling = false;
            }
            c.blocked = !ok || c.settling;
        }
        if let Some(m) = self.mvc.as_mut() {
            if let Some(c) = self.channels.get(pelvic_ix) {
                if !c.blocked {
                    m.update(c.level);
                }
            }
        }
        if self.warm_left > 0 {
            self.warm_left -= 1;
            return;
        }

        // 2. the pelvic and push channels, with their bands from before
        // this sample updates the baselines
        let pelvic = self.channels.get(pelvic_ix);
        let push = self.channels.get(push_ix);

        // 3. detectors
        let pelvic_view = match pelvic {
            Some(c) if !c.blocked => c.band.as_ref().map(|band| PelvicView {
                level: c.level,
                band: *band,
                rise_onset_s: self.contraction.as_ref().and_then(|d| d.onset_s()),
            }),
            _ => None,
        };
        if let (Some(b), Some(c)) = (self.bearing.as_mut(), push) {
            if let Some(band) = &c.band {
                b.tick(t, c.level, band, pelvic_view.as_ref(), c.blocked, sink);
            }
        }
        let push_busy = self.bearing.as_ref().is_some_and(|b| b.is_busy());
        let pushing = self.bearing.as_ref().is_some_and(|b| b.is_pushing());
        if let (Some(d), Some(c)) = (self.contraction.as_mut(), pelvic) {
            if let Some(band) = &c.band {
                let (level, blocked) = (c.level, c.blocked);
                let defer = self.bearing.as_ref().is_some_and(|b| b.defers(d.onset_s()));
                let was_idle = d.state() == super::contraction::State::Idle;
                // the pelvic EMG's conditioned (pre-envelope) sample, for
                // the contraction detector's sequential start test
                let ended = d.tick_conditioned(
                    t,
                    level,
                    c.filtered,
                    band,
                    Gate {
                        blocked,
                        defer,
                        absorb: pushing,
                    },
                    sink,
                );
                let started = was_idle && d.state() != super::contraction::State::Idle;
                if let Some(r) = self.release.as_mut() {
                    if started {
                        r.cancel();
                    }
                    if let Some(ended) = ended {
                        r.begin(ended, level);
                    }
                    r.tick(t, level, band, blocked, sink);
                }
                let contraction_busy = d.is_busy();
                let release_busy = self.release.as_ref().is_some_and(|r| r.is_busy());
                if let Some(dr) = self.drop.as_mut() {
                    let allowed = !blocked && !contraction_busy && !release_busy && !push_busy;
                    dr.tick(t, level, band, allowed, sink);
                }
            }
        }

        // 4. baselines learn
        let contraction_busy = self.contraction.as_ref().is_some_and(|c| c.is_busy());
        let release_busy = self.release.as_ref().is_some_and(|r| r.is_busy());
        let drop_busy = self.drop.as_ref().is_some_and(|d| d.is_busy());
        let drop_onset = self.drop.as_ref().and_then(|d| d.onset_s());
        let pelvic_rest = !contraction_busy && !release_busy && !drop_busy && !push_busy;
        for (i, c) in self.channels.iter_mut().take(n).enumerate() {
            if c.blocked {
                continue;
            }
            let (band_lo, band_hi) = match &c.band {
                Some(b) => (b.band_lo, b.band_hi),
                None => {
                    c.baseline.update(c.level, true);
                    c.refresh_band();
                    continue;
                }
            };
            let is_pelvic = i == pelvic_ix;
            let in_band = c.level >= band_lo && c.level <= band_hi;
            let at_rest = if is_pelvic {
                in_band && pelvic_rest
            } else if i == push_ix {
                in_band && !push_busy
            } else {
                in_band
            };
            c.baseline.update(c.level, at_rest);
            let mut changed = at_rest;
            // a deliberate drop is not a lower resting tone: settle only
            // when nothing explains the low level, or the "drop" has lasted
            // far longer than any reverse Kegel (then the tone has changed)
            if is_pelvic
                && c.level < band_lo
                && !contraction_busy
                && !push_busy
                && (!drop_busy || drop_onset.is_some_and(|o| t - o > LONG_DROP_S))
            {
                c.baseline.settle_down(c.level);
                changed = true;
            }
            if changed {
                c.refresh_calibrated_band();
            }
        }
    }
}
