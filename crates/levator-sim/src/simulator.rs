//! The simulator: a scenario performed by a subject, measured by a device,
//! delivered frame by frame with its ground truth.

use core::convert::Infallible;
use core::f64::consts::PI;

use levator_core::conditioning::{Chain, ChainConfig, EnvelopeConfig, Mains as MainsHz};
use levator_core::event::Event;
use levator_core::stream::{
    Frame, Role, SampleSource, SourceItem, StreamSpec, Unit, CMH2O_PER_MMHG,
};

use crate::device::{Device, DeviceKind};
use crate::model::{
    pelvic_pressure_cmh2o, truth, ActionKind, DropAttempt, EmgPower, Timeline, TruthContext,
};
use crate::rng::{derive_seed, Rng};
use crate::scenario::Scenario;
use crate::signal::{Drift, Ecg, EmgNoise, Mains};
use crate::subject::{Subject, SubjectKind};
use crate::Error;

/// Everything that determines a simulated recording. Same config = same
/// bytes, on every machine.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// What the subject does.
    pub scenario: Scenario,
    /// Which subject profile the person is drawn from.
    pub subject: SubjectKind,
    /// The measuring device.
    pub device: Device,
    /// The seed for every random draw (person, jitter, noise).
    pub seed: u64,
}

impl SimConfig {
    /// A config from names: a built-in scenario name or a `.toml` path, a
    /// subject profile name and a device profile name.
    ///
    /// ```
    /// use levator_sim::SimConfig;
    /// let c = SimConfig::from_names("glazer", "hypertonic", "emg-probe", 7).unwrap();
    /// assert_eq!(c.device.rate_hz, 1000.0);
    /// assert!(SimConfig::from_names("glazer", "superhero", "emg-probe", 7).is_err());
    /// ```
    pub fn from_names(
        scenario: &str,
        subject: &str,
        device: &str,
        seed: u64,
    ) -> Result<SimConfig, Error> {
        let scenario = Scenario::builtin_or_path(scenario)?;
        let subject =
            SubjectKind::from_name(subject).ok_or_else(|| Error::UnknownSubject(subject.into()))?;
        let device =
            Device::from_name(device).ok_or_else(|| Error::UnknownDevice(device.into()))?;
        Ok(SimConfig {
            scenario,
            subject,
            device,
            seed,
        })
    }

    /// The metadata line of a recording header:
    /// `device=... subject=... seed=... scenario=... mains_hz=...` (the
    /// mains frequency tells an analysis which hum to notch).
    pub fn describe(&self) -> String {
        format!(
            "device={} subject={} seed={} scenario={} mains_hz={}",
            self.device.kind.name(),
            self.subject.name(),
            self.seed,
            self.scenario.name,
            self.device.mains_hz
        )
    }
}

/// Shared (per-sample, not per-channel) physiological state.
#[derive(Clone, Debug)]
struct Body {
    /// Pelvic activation seen by the pressure sensor (first-order lag).
    pelvic_lp: f64,
    /// Abdominal drive pressure as seen by the sensor (fast lag).
    abdominal_lp: f64,
    /// Probe descent (lag).
    descent_lp: f64,
    resp_phase: f64,
    ecg: Ecg,
}

#[derive(Clone, Debug)]
struct ChannelGen {
    role: Role,
    unit: Unit,
    rng: Rng,
    emg: Option<EmgNoise>,
    mains: Mains,
    drift: Drift,
}

/// A running simulation: a [`SampleSource`] and an [`Iterator`] of frames.
///
/// Frames are synthesised one at a time; nothing is generated ahead, so a
/// 24 h recording costs no more memory than a 10 s one. The ground truth
/// ([`Simulator::truth`]) is known from the start, because the model
/// decides what the person does before the sensors measure it.
///
/// ```
/// use levator_sim::{SimConfig, Simulator};
/// let mut sim = Simulator::new(&SimConfig::from_names("bearing_down", "dyssynergic", "manometry", 3).unwrap()).unwrap();
/// assert_eq!(sim.spec().rate_hz(), 10.0);
/// let first = sim.next().unwrap();
/// assert_eq!(first.index, 0);
/// assert_eq!(sim.truth().iter().filter(|e| e.kind == levator_core::event::EventKind::BearingDown).count(), 6);
/// let total = sim.total_samples();            // ~150 s at 10 Hz (jittered)
/// assert!((1470..=1530).contains(&total));
/// assert_eq!(sim.count() as u64 + 1, total);
/// ```
#[derive(Clone, Debug)]
pub struct Simulator {
    config: SimConfig,
    subject: Subject,
    spec: StreamSpec,
    timeline: Timeline,
    truth: Vec<Event>,
    drop_attempts: Vec<DropAttempt>,
    total: u64,
    n: u64,
    body: Body,
    channels: Vec<ChannelGen>,
    values: Vec<f64>,
}

impl Simulator {
    /// Builds a simulation (draws the subject, expands the scenario,
    /// computes the truth).
    pub fn new(config: &SimConfig) -> Result<Simulator, Error> {
        let spec = config.device.spec()?;
        let seed = config.seed;
        let subject = Subject::draw(
            config.subject,
            &mut Rng::derived(seed, config.subject.name()),
        );
        let timeline = Timeline::expand(
            &config.scenario,
            &subject,
            &mut Rng::derived(seed, "timeline"),
        );
        let ctx = TruthContext {
            subject: &subject,
            device: &config.device,
            emg: (config.device.pelvic_channel() == Some(Role::PelvicEmg))
                .then(|| emg_power(&config.device, &subject, seed)),
        };
        let truth = truth(&timeline, &ctx);
        let drop_attempts = timeline
            .actions()
            .iter()
            .filter_map(|a| match a.kind {
                ActionKind::Drop { depth, on_s } => Some(ctx.drop_attempt(a.t0, depth, on_s)),
                _ => None,
            })
            .collect();
        let fs = config.device.rate_hz;
        let total = libm::ceil(timeline.duration_s() * fs - 1e-9) as u64;
        let channels = spec
            .channels()
            .iter()
            .map(|c| {
                let mut rng = Rng::derived(seed, &format!("channel/{}", c.role.name()));
                let emg = c.role.is_emg().then(|| {
                    EmgNoise::new(
                        Rng::new(derive_seed(seed, &format!("emg/{}", c.role.name()))),
                        fs,
                        subject.emg_corner_hz,
                        20.0,
                        config.device.emg_band_high_hz,
                    )
                });
                let mains = Mains::new(config.device.mains_hz, fs, rng.range(0.0, 2.0 * PI));
                let drift = Drift::new(&mut rng);
                ChannelGen {
                    role: c.role,
                    unit: c.unit,
                    rng,
                    emg,
                    mains,
                    drift,
                }
            })
            .collect::<Vec<_>>();
        let mut body_rng = Rng::derived(seed, "body");
        let body = Body {
            pelvic_lp: subject.pelvic_tone(),
            abdominal_lp: 0.0,
            descent_lp: 0.0,
            resp_phase: body_rng.range(0.0, 2.0 * PI),
            ecg: Ecg::new(body_rng.clone(), subject.heart_rate_bpm),
        };
        let values = vec![0.0; channels.len()];
        Ok(Simulator {
            config: config.clone(),
            subject,
            spec,
            timeline,
            truth,
            drop_attempts,
            total,
            n: 0,
            body,
            channels,
            values,
        })
    }

    /// Shorthand for [`SimConfig::from_names`] + [`Simulator::new`].
    pub fn from_names(
        scenario: &str,
        subject: &str,
        device: &str,
        seed: u64,
    ) -> Result<Simulator, Error> {
        Simulator::new(&SimConfig::from_names(scenario, subject, device, seed)?)
    }

    /// The configuration this simulation runs.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// The person, with every drawn parameter.
    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    /// The stream delivered (rate, channels and units).
    pub fn spec(&self) -> StreamSpec {
        self.spec
    }

    /// The ground truth, sorted by the time each event becomes known
    /// (start events at their onset, end events at their end, poor release
    /// at onset + elapsed). Truth labels have `detected_s == None`.
    pub fn truth(&self) -> &[Event] {
        &self.truth
    }

    /// Every reverse-Kegel attempt of the scenario with the deepest fall it
    /// makes on the measured pelvic channel and whether that meets the drop
    /// definition (only those have truth events; see [`crate::model`]).
    pub fn drop_attempts(&self) -> &[DropAttempt] {
        &self.drop_attempts
    }

    /// The timeline of actions.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Number of frames in the whole recording.
    pub fn total_samples(&self) -> u64 {
        self.total
    }

    /// Duration of the recording (s).
    pub fn duration_s(&self) -> f64 {
        self.total as f64 / self.spec.rate_hz()
    }

    /// Index of the next frame.
    pub fn position(&self) -> u64 {
        self.n
    }

    /// Restarts from sample 0 (same seed: identical frames again).
    pub fn rewind(&mut self) -> Result<(), Error> {
        *self = Simulator::new(&self.config)?;
        Ok(())
    }

    /// The next frame, or `None` at the end of the scenario.
    pub fn next_frame(&mut self) -> Option<Frame> {
        if self.n >= self.total {
            return None;
        }
        let n = self.n;
        self.n += 1;
        let dev = &self.config.device;
        let s = &self.subject;
        let fs = dev.rate_hz;
        let dt = 1.0 / fs;
        let t = n as f64 * dt;
        let drive = self.timeline.drive(t);
        let b = &mut self.body;
        let tone = s.pelvic_tone();
        let a_p = (tone + drive.pelvic_excess).max(0.0);
        let a_a = (s.abdominal_tone() + drive.abdominal_excess).max(0.0);
        let k_p = 1.0 - libm::exp(-dt / dev.pressure_tau_s);
        let k_a = 1.0 - libm::exp(-dt / 0.03);
        let k_m = 1.0 - libm::exp(-dt / 0.2);
        b.pelvic_lp += k_p * (a_p - b.pelvic_lp);
        b.abdominal_lp += k_a * (drive.abdominal_cmh2o - b.abdominal_lp);
        b.descent_lp += k_m * (drive.descent - b.descent_lp);
        if !drive.breath_held {
            b.resp_phase = libm::fmod(b.resp_phase + 2.0 * PI * s.respiration_hz * dt, 2.0 * PI);
        }
        let resp = libm::sin(b.resp_phase);
        let ecg = b.ecg.at(t);
        let strength = s.pelvic_mvc_uv / 45.0;
        let abd_dynamic = b.abdominal_lp + dev.respiration_cmh2o * resp;
        for (ch, out) in self.channels.iter_mut().zip(self.values.iter_mut()) {
            let v = match ch.role {
                Role::PelvicEmg | Role::AbdominalEmg => {
                    let pelvic = ch.role == Role::PelvicEmg;
                    let (amp, ecg_uv, art_uv) = if pelvic {
                        (s.pelvic_mvc_uv * a_p, dev.ecg_pelvic_uv, 300.0)
                    } else {
                        (s.abdominal_mvc_uv * a_a, dev.ecg_abdominal_uv, 150.0)
                    };
                    // Fatigue compresses the pelvic spectrum (up to 30 %).
                    let scale = if pelvic {
                        1.0 - 0.3 * drive.fatigue
                    } else {
                        1.0
                    };
                    let muscle = match ch.emg.as_mut() {
                        Some(e) => amp * e.tick(scale),
                        None => 0.0,
                    };
                    let v = muscle
                        + dev.emg_noise_uv * ch.rng.gaussian()
                        + dev.mains_uv * ch.mains.at(n)
                        + dev.emg_drift_uv * ch.drift.at(t)
                        + ecg_uv * ecg
                        + art_uv * drive.artifact;
                    dev.emg_adc.apply(v)
                }
                Role::PelvicPressure | Role::AbdominalPressure => {
                    let cmh2o = if ch.role == Role::PelvicPressure {
                        pelvic_pressure_cmh2o(s, dev, b.pelvic_lp)
                            + dev.transmission * abd_dynamic
                            + 5.0 * drive.artifact
                    } else {
                        dev.abdominal_rest_cmh2o + abd_dynamic + 3.0 * drive.artifact
                    } + dev.pressure_drift_cmh2o * ch.drift.at(t)
                        + dev.pressure_noise_cmh2o * ch.rng.gaussian();
                    let v = if ch.unit == Unit::MmHg {
                        cmh2o / CMH2O_PER_MMHG
                    } else {
                        cmh2o
                    };
                    dev.pressure_adc.apply(v)
                }
                Role::ProbeMotion => {
                    let lift = dev.lift_g * strength * (b.pelvic_lp - tone) / (1.0 - tone);
                    let v = lift - dev.descent_g * b.descent_lp - dev.respiration_g * resp
                        + 0.3 * drive.artifact
                        + dev.motion_noise_g * ch.rng.gaussian();
                    dev.motion_adc.apply(v)
                }
                Role::Respiration => {
                    let v = resp + 0.01 * ch.rng.gaussian() + 0.05 * ch.drift.at(t);
                    libm::round(v.clamp(-2.0, 2.0) * 1000.0) / 1000.0
                }
            };
            *out = v;
        }
        Some(Frame::new(n, &self.values))
    }

    /// Whether the device is the manometry profile (values in mmHg).
    pub fn is_manometry(&self) -> bool {
        self.config.device.kind == DeviceKind::Manometry
    }
}

impl Iterator for Simulator {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        self.next_frame()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.total - self.n).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

impl SampleSource for Simulator {
    type Error = Infallible;

    fn spec(&self) -> StreamSpec {
        self.spec
    }

    fn next_item(&mut self) -> Result<Option<SourceItem>, Infallible> {
        Ok(self.next_frame().map(SourceItem::Frame))
    }
}

/// Seconds of signal the EMG power model is measured over, after
/// [`EMG_POWER_SETTLE_S`] for the filters to settle.
const EMG_POWER_SPAN_S: f64 = 8.0;
const EMG_POWER_SETTLE_S: f64 = 1.0;

/// Measures how the device's pelvic sEMG looks after the standard EMG
/// conditioning (`ChainConfig::emg` at the device rate, notching the
/// device's mains): the power kept of unit-RMS muscle noise with the
/// subject's spectrum, and the power left of the instrument floor (white
/// noise, mains hum, drift, ECG bleed, ADC), each run through its own chain
/// from its own seeded generator (deterministic per seed).
fn emg_power(dev: &Device, subject: &Subject, seed: u64) -> EmgPower {
    let fs = dev.rate_hz;
    let mut config = ChainConfig::emg(fs);
    config.mains = if dev.mains_hz == 60.0 {
        Some(MainsHz::Hz60)
    } else {
        Some(MainsHz::Hz50)
    };
    config.envelope = EnvelopeConfig::None;
    let (Ok(mut muscle_chain), Ok(mut floor_chain)) = (Chain::new(&config), Chain::new(&config))
    else {
        // Every device rate has a valid EMG preset; without one, the
        // measured level is the muscle's alone.
        return EmgPower {
            gain2: 1.0,
            floor_uv2: 0.0,
        };
    };
    let mut muscle = EmgNoise::new(
        Rng::new(derive_seed(seed, "truth/emg")),
        fs,
        subject.emg_corner_hz,
        20.0,
        dev.emg_band_high_hz,
    );
    let mut rng = Rng::derived(seed, "truth/floor");
    let mains = Mains::new(dev.mains_hz, fs, rng.range(0.0, 2.0 * PI));
    let drift = Drift::new(&mut rng);
    let mut ecg = Ecg::new(rng.clone(), subject.heart_rate_bpm);
    let settle = (EMG_POWER_SETTLE_S * fs) as u64;
    let n = settle + (EMG_POWER_SPAN_S * fs) as u64;
    let (mut kept, mut floor) = (0.0, 0.0);
    for i in 0..n {
        let t = i as f64 / fs;
        let m = muscle_chain.tick(muscle.tick(1.0));
        let v = dev.emg_noise_uv * rng.gaussian()
            + dev.mains_uv * mains.at(i)
            + dev.emg_drift_uv * drift.at(t)
            + dev.ecg_pelvic_uv * ecg.at(t);
        let f = floor_chain.tick(dev.emg_adc.apply(v));
        if i >= settle {
            kept += m * m;
            floor += f * f;
        }
    }
    let count = (n - settle).max(1) as f64;
    EmgPower {
        gain2: kept / count,
        floor_uv2: floor / count,
    }
}
