//! The Glazer protocol assessment: per-phase sEMG metrics of a recording
//! that follows the protocol, and flags against the published cut-offs.
//!
//! The protocol (Glazer HI et al., "Electromyographic comparisons of the
//! pelvic floor in women with dysesthetic vulvodynia and asymptomatic
//! women", J Reprod Med 1998; Glazer & Hacad, Biofeedback 2012):
//! 60 s pre-baseline rest, 5 quick flicks (2 s on, 10 s rest), 5 tonic
//! holds (10 s on, 10 s rest), a 60 s endurance hold, 60 s post-baseline
//! rest. The timings are configurable ([`GlazerConfig`]).
//!
//! Per phase ([`PhaseMetrics`]): mean, peak, SD and coefficient of
//! variation of the pelvic envelope (over the *work* periods for flicks and
//! tonic holds, over the whole phase otherwise), the median rise time and
//! release (recovery) time of the contractions detected in the phase
//! (each contraction counted in the phase of the nearest work period; the
//! [`Pipeline`]'s `rise_s` and release `latency_s`), and with the
//! `spectral` feature the median frequency of the band-passed EMG during
//! endurance (Welch: 1 s Hann segments, 50% overlap, 20-450 Hz).
//!
//! Flags ([`GlazerFlags`]) use the cut-offs reported for pain patients
//! (DESIGN.md): resting tone above 2.0 µV, resting SD above 0.2 µV,
//! recovery above 0.2 s, contraction (mean tonic amplitude) below 17 µV,
//! median frequency below 115 Hz. They are absolute µV from one device
//! family (and the recovery time here includes the 50 ms envelope
//! window); another device
//! reads about 5x lower, so [`GlazerCutoffs`] is configurable and the
//! flags are a screening aid, not a diagnosis.
//!
//! ```
//! use levator_core::detect::glazer::{assess, GlazerConfig};
//! use levator_core::detect::PipelineConfig;
//! use levator_core::stream::{ChannelSpec, Frame, Role, StreamSpec};
//! let spec = StreamSpec::new(500.0, &[ChannelSpec::canonical(Role::PelvicEmg)])?;
//! let config = GlazerConfig::default();
//! let mut x = 1u64;
//! let frames = (0..(config.duration_s() * 500.0) as u64).map(|i| {
//!     x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
//!     let noise = ((x >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0;
//!     Frame::new(i, &[5.0 * noise]) // ~2.9 µV RMS and never a contraction
//! });
//! let report = assess(spec, frames, &config, PipelineConfig::default())?;
//! assert_eq!(report.phases.len(), 5);
//! assert!(report.flags.rest_tone_high && report.flags.weak_contraction);
//! assert_eq!(report.phases[1].contractions, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::vec::Vec;
use core::fmt;

use crate::event::{Event, EventKind, Phase, RelaxationSubtype};
use crate::features::stats::RunningStats;
use crate::stream::{Frame, StreamSpec};

use super::{Pipeline, PipelineConfig, PipelineError};

/// Phase timings of a Glazer recording (s).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct GlazerConfig {
    /// Where the protocol starts in the recording (s). Default 0.
    pub start_s: f64,
    /// Pre-baseline rest (s). Default 60.
    pub pre_rest_s: f64,
    /// Number of quick flicks. Default 5.
    pub flicks: u32,
    /// Flick contraction (s). Default 2.
    pub flick_on_s: f64,
    /// Rest after each flick (s). Default 10.
    pub flick_rest_s: f64,
    /// Number of tonic holds. Default 5.
    pub tonic: u32,
    /// Tonic contraction (s). Default 10.
    pub tonic_on_s: f64,
    /// Rest after each tonic hold (s). Default 10.
    pub tonic_rest_s: f64,
    /// Endurance hold (s). Default 60.
    pub endurance_s: f64,
    /// Post-baseline rest (s). Default 60.
    pub post_rest_s: f64,
    /// Cut-offs for the flags.
    pub cutoffs: GlazerCutoffs,
}

impl Default for GlazerConfig {
    fn default() -> Self {
        GlazerConfig {
            start_s: 0.0,
            pre_rest_s: 60.0,
            flicks: 5,
            flick_on_s: 2.0,
            flick_rest_s: 10.0,
            tonic: 5,
            tonic_on_s: 10.0,
            tonic_rest_s: 10.0,
            endurance_s: 60.0,
            post_rest_s: 60.0,
            cutoffs: GlazerCutoffs::default(),
        }
    }
}

impl GlazerConfig {
    /// Total protocol length (s).
    pub fn duration_s(&self) -> f64 {
        self.pre_rest_s
            + f64::from(self.flicks) * (self.flick_on_s + self.flick_rest_s)
            + f64::from(self.tonic) * (self.tonic_on_s + self.tonic_rest_s)
            + self.endurance_s
            + self.post_rest_s
    }

    fn validate(&self) -> Result<(), GlazerError> {
        let v = [
            self.start_s,
            self.pre_rest_s,
            self.flick_on_s,
            self.flick_rest_s,
            self.tonic_on_s,
            self.tonic_rest_s,
            self.endurance_s,
            self.post_rest_s,
        ];
        if v.iter().all(|x| x.is_finite() && *x >= 0.0) && self.duration_s() > 0.0 {
            Ok(())
        } else {
            Err(GlazerError::Timing)
        }
    }

    /// The work periods (start, end, phase) in stream time.
    fn work_windows(&self) -> Vec<(f64, f64, GlazerPhase)> {
        let mut w = Vec::new();
        let mut t = self.start_s + self.pre_rest_s;
        for _ in 0..self.flicks {
            w.push((t, t + self.flick_on_s, GlazerPhase::Flicks));
            t += self.flick_on_s + self.flick_rest_s;
        }
        for _ in 0..self.tonic {
            w.push((t, t + self.tonic_on_s, GlazerPhase::Tonic));
            t += self.tonic_on_s + self.tonic_rest_s;
        }
        w.push((t, t + self.endurance_s, GlazerPhase::Endurance));
        w
    }

    /// The phase of the work period nearest to `t` (people do not keep
    /// the protocol's clock to the second).
    fn nearest_work_phase(
        &self,
        windows: &[(f64, f64, GlazerPhase)],
        t: f64,
    ) -> Option<GlazerPhase> {
        windows
            .iter()
            .map(|&(a, b, p)| {
                let d = if t < a {
                    a - t
                } else if t > b {
                    t - b
                } else {
                    0.0
                };
                (d, p)
            })
            .min_by(|x, y| x.0.total_cmp(&y.0))
            .map(|(_, p)| p)
    }

    /// The phase at stream time `t` and whether it is a work period.
    fn phase_at(&self, t: f64) -> Option<(GlazerPhase, bool)> {
        let mut u = t - self.start_s;
        if u < 0.0 {
            return None;
        }
        if u < self.pre_rest_s {
            return Some((GlazerPhase::PreRest, false));
        }
        u -= self.pre_rest_s;
        let flick_cycle = self.flick_on_s + self.flick_rest_s;
        let flicks = f64::from(self.flicks) * flick_cycle;
        if u < flicks {
            return Some((GlazerPhase::Flicks, u % flick_cycle < self.flick_on_s));
        }
        u -= flicks;
        let tonic_cycle = self.tonic_on_s + self.tonic_rest_s;
        let tonic = f64::from(self.tonic) * tonic_cycle;
        if u < tonic {
            return Some((GlazerPhase::Tonic, u % tonic_cycle < self.tonic_on_s));
        }
        u -= tonic;
        if u < self.endurance_s {
            return Some((GlazerPhase::Endurance, true));
        }
        u -= self.endurance_s;
        (u < self.post_rest_s).then_some((GlazerPhase::PostRest, false))
    }
}

/// The published cut-offs (pain patients vs controls; DESIGN.md).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub struct GlazerCutoffs {
    /// Resting tone above this is elevated (µV). Default 2.0.
    pub rest_mean_uv: f64,
    /// Resting SD above this is unstable (µV). Default 0.20.
    pub rest_sd_uv: f64,
    /// Recovery after a contraction slower than this (s). Default 0.2.
    pub recovery_s: f64,
    /// Contraction amplitude below this is weak (µV). Default 17.
    pub contraction_uv: f64,
    /// Endurance median frequency below this is low (Hz). Default 115.
    pub median_frequency_hz: f64,
}

impl Default for GlazerCutoffs {
    fn default() -> Self {
        GlazerCutoffs {
            rest_mean_uv: 2.0,
            rest_sd_uv: 0.2,
            recovery_s: 0.2,
            contraction_uv: 17.0,
            median_frequency_hz: 115.0,
        }
    }
}

/// One phase of the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum GlazerPhase {
    /// Pre-baseline rest.
    PreRest,
    /// Quick flicks (phasic contractions).
    Flicks,
    /// Tonic holds.
    Tonic,
    /// Endurance hold.
    Endurance,
    /// Post-baseline rest.
    PostRest,
}

impl GlazerPhase {
    const ALL: [GlazerPhase; 5] = [
        GlazerPhase::PreRest,
        GlazerPhase::Flicks,
        GlazerPhase::Tonic,
        GlazerPhase::Endurance,
        GlazerPhase::PostRest,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for GlazerPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GlazerPhase::PreRest => "pre_rest",
            GlazerPhase::Flicks => "flicks",
            GlazerPhase::Tonic => "tonic",
            GlazerPhase::Endurance => "endurance",
            GlazerPhase::PostRest => "post_rest",
        })
    }
}

/// Metrics of one phase.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PhaseMetrics {
    /// Which phase.
    pub phase: GlazerPhase,
    /// Envelope samples the statistics are over.
    pub samples: u64,
    /// Mean envelope (µV).
    pub mean: Option<f64>,
    /// Highest envelope (µV).
    pub peak: Option<f64>,
    /// Standard deviation of the envelope (µV).
    pub sd: Option<f64>,
    /// Coefficient of variation (SD / mean).
    pub cv: Option<f64>,
    /// Median rise time of the contractions that started in the phase (s).
    pub rise_s: Option<f64>,
    /// Median release (recovery) time of those contractions (s).
    pub release_s: Option<f64>,
    /// Contractions detected in the phase.
    pub contractions: u32,
    /// Median frequency of the EMG (Hz), endurance only, `spectral` feature.
    pub median_frequency_hz: Option<f64>,
}

/// Flags against [`GlazerCutoffs`]; `false` when a metric is missing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GlazerFlags {
    /// Pre-rest mean above the resting-tone cut-off.
    pub rest_tone_high: bool,
    /// Pre-rest SD above the resting-variability cut-off.
    pub rest_unstable: bool,
    /// Median recovery over flicks and tonic holds above the cut-off.
    pub slow_recovery: bool,
    /// Tonic mean amplitude below the contraction cut-off.
    pub weak_contraction: bool,
    /// Endurance median frequency below the cut-off.
    pub low_median_frequency: bool,
}

/// The assessment of one recording.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GlazerReport {
    /// The five phases, in protocol order.
    pub phases: Vec<PhaseMetrics>,
    /// Flags against the cut-offs.
    pub flags: GlazerFlags,
    /// The cut-offs used.
    pub cutoffs: GlazerCutoffs,
    /// Median recovery time over flicks and tonic holds (s).
    pub recovery_s: Option<f64>,
}

impl GlazerReport {
    /// The metrics of `phase`.
    pub fn phase(&self, phase: GlazerPhase) -> Option<&PhaseMetrics> {
        self.phases.iter().find(|p| p.phase == phase)
    }
}

/// Why an assessment could not be made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GlazerError {
    /// Phase timings not finite and non-negative.
    Timing,
    /// The stream has no `pelvic_emg` channel.
    NoPelvicEmg,
    /// The pipeline could not be built.
    Pipeline(PipelineError),
}

impl fmt::Display for GlazerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GlazerError::Timing => f.write_str("Glazer phase timings must be finite and >= 0"),
            GlazerError::NoPelvicEmg => {
                f.write_str("the Glazer assessment needs a pelvic_emg channel")
            }
            GlazerError::Pipeline(e) => write!(f, "{e}"),
        }
    }
}

impl core::error::Error for GlazerError {}

fn median(v: &mut [f64]) -> Option<f64> {
    crate::score::percentile(v, 0.5)
}

/// Runs the recording through a [`Pipeline`] and computes the assessment.
/// Allocates (the report, the event list and, with `spectral`, the
/// endurance samples): an offline analysis, not a hot path.
pub fn assess(
    spec: StreamSpec,
    frames: impl IntoIterator<Item = Frame>,
    config: &GlazerConfig,
    pipeline: PipelineConfig,
) -> Result<GlazerReport, GlazerError> {
    config.validate()?;
    if spec.channel_index(crate::stream::Role::PelvicEmg).is_none() {
        return Err(GlazerError::NoPelvicEmg);
    }
    let mut p = Pipeline::new(spec, pipeline).map_err(GlazerError::Pipeline)?;
    let mut stats = [RunningStats::new(); 5];
    let mut events: Vec<Event> = Vec::new();
    #[cfg(feature = "spectral")]
    let mut endurance: Vec<f64> = Vec::new();
    for frame in frames {
        p.tick(&frame, &mut |e: Event| events.push(e));
        let t = spec.time_s(frame.index);
        let Some((phase, work)) = config.phase_at(t) else {
            continue;
        };
        let counts = match phase {
            GlazerPhase::Flicks | GlazerPhase::Tonic => work,
            _ => true,
        };
        if counts {
            if let Some(level) = p.pelvic_level() {
                stats[phase.index()].push(level);
            }
        }
        #[cfg(feature = "spectral")]
        if phase == GlazerPhase::Endurance {
            if let Some(x) = p.pelvic_filtered() {
                endurance.push(x);
            }
        }
    }
    p.finish(&mut |e: Event| events.push(e));

    let mut phases = Vec::with_capacity(5);
    let mut recoveries: Vec<f64> = Vec::new();
    let windows = config.work_windows();
    for phase in GlazerPhase::ALL {
        let s = stats[phase.index()];
        // contractions and their releases belong to the nearest work period
        let in_phase = |e: &Event| config.nearest_work_phase(&windows, e.onset_s) == Some(phase);
        let mut rises: Vec<f64> = events
            .iter()
            .filter(|e| e.kind == EventKind::Contraction && e.phase == Some(Phase::End))
            .filter(|e| in_phase(e))
            .filter_map(|e| e.rise_s)
            .collect();
        let contractions = events
            .iter()
            .filter(|e| e.kind == EventKind::Contraction && e.phase == Some(Phase::Start))
            .filter(|e| in_phase(e))
            .count() as u32;
        let mut releases: Vec<f64> = events
            .iter()
            .filter(|e| {
                e.kind == EventKind::Relaxation && e.subtype == Some(RelaxationSubtype::Release)
            })
            .filter(|e| in_phase(e))
            .filter_map(|e| e.latency_s)
            .collect();
        if matches!(phase, GlazerPhase::Flicks | GlazerPhase::Tonic) {
            recoveries.extend_from_slice(&releases);
        }
        let sd = s.sd();
        let mean = s.mean();
        #[cfg(feature = "spectral")]
        let median_frequency_hz = if phase == GlazerPhase::Endurance {
            spectral::median_frequency(&endurance, spec.rate_hz())
        } else {
            None
        };
        #[cfg(not(feature = "spectral"))]
        let median_frequency_hz = None;
        phases.push(PhaseMetrics {
            phase,
            samples: s.count(),
            mean,
            peak: s.peak(),
            sd,
            cv: match (sd, mean) {
                (Some(sd), Some(m)) if m > 0.0 => Some(sd / m),
                _ => None,
            },
            rise_s: median(&mut rises),
            release_s: median(&mut releases),
            contractions,
            median_frequency_hz,
        });
    }
    let c = config.cutoffs;
    let pre = &phases[0];
    let recovery_s = median(&mut recoveries);
    let flags = GlazerFlags {
        rest_tone_high: pre.mean.is_some_and(|m| m > c.rest_mean_uv),
        rest_unstable: pre.sd.is_some_and(|s| s > c.rest_sd_uv),
        slow_recovery: recovery_s.is_some_and(|r| r > c.recovery_s),
        weak_contraction: phases[2].mean.is_some_and(|m| m < c.contraction_uv),
        low_median_frequency: phases[3]
            .median_frequency_hz
            .is_some_and(|f| f < c.median_frequency_hz),
    };
    Ok(GlazerReport {
        phases,
        flags,
        cutoffs: c,
        recovery_s,
    })
}

#[cfg(feature = "spectral")]
mod spectral {
    use alloc::vec::Vec;
    use rustfft::{num_complex::Complex, FftPlanner};

    /// Median frequency (Hz) of `x` sampled at `rate_hz`: Welch average of
    /// 1 s Hann segments with 50% overlap, the frequency that splits the
    /// 20-450 Hz power in half. `None` for < 1 s of data or < 100 Hz.
    pub fn median_frequency(x: &[f64], rate_hz: f64) -> Option<f64> {
        let n = libm::round(rate_hz) as usize;
        if rate_hz < 100.0 || n < 16 || x.len() < n {
            return None;
        }
        let fft = FftPlanner::<f64>::new().plan_fft_forward(n);
        let window: Vec<f64> = (0..n)
            .map(|i| 0.5 - 0.5 * libm::cos(2.0 * core::f64::consts::PI * i as f64 / n as f64))
            .collect();
        let mut power = alloc::vec![0.0f64; n / 2 + 1];
        let mut buf = alloc::vec![Complex::new(0.0, 0.0); n];
        let mut start = 0;
        while start + n <= x.len() {
            let seg = &x[start..start + n];
            let mean = seg.iter().sum::<f64>() / n as f64;
            for (b, (s, w)) in buf.iter_mut().zip(seg.iter().zip(&window)) {
                *b = Complex::new((s - mean) * w, 0.0);
            }
            fft.process(&mut buf);
            for (p, b) in power.iter_mut().zip(&buf) {
                *p += b.norm_sqr();
            }
            start += n / 2;
        }
        let df = rate_hz / n as f64;
        let lo = libm::ceil(20.0 / df) as usize;
        let hi = (libm::floor(450.0f64.min(rate_hz / 2.0) / df) as usize).min(n / 2);
        if hi <= lo {
            return None;
        }
        let total: f64 = power[lo..=hi].iter().sum();
        if total <= 0.0 {
            return None;
        }
        let mut acc = 0.0;
        for (k, p) in power.iter().enumerate().take(hi + 1).skip(lo) {
            acc += p;
            if acc >= total / 2.0 {
                return Some(k as f64 * df);
            }
        }
        None
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn median_frequency_of_a_tone_and_of_band_noise() {
            let rate = 1000.0;
            let x: alloc::vec::Vec<f64> = (0..5000)
                .map(|i| libm::sin(2.0 * core::f64::consts::PI * 90.0 * i as f64 / rate))
                .collect();
            let mf = super::median_frequency(&x, rate).unwrap();
            assert!((mf - 90.0).abs() <= 1.0, "{mf}");
            assert_eq!(super::median_frequency(&x[..500], rate), None);
        }
    }
}
