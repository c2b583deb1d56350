//! Shared helpers of the detection tests: run the pipeline over a
//! simulated recording and score it against the simulator's truth.
#![allow(dead_code)]

use levator::core::conditioning::Mains;
use levator::core::detect::{Pipeline, PipelineConfig};
use levator::core::event::Event;
use levator::core::score::{score, Report, ScoreConfig};
use levator_sim::{SimConfig, Simulator};

/// One simulated recording run through a default pipeline.
pub struct Run {
    pub detected: Vec<Event>,
    pub truth: Vec<Event>,
    pub duration_s: f64,
    /// Every reverse-Kegel attempt of the recording with its measured fall
    /// (also the too-shallow ones that have no truth event).
    pub drop_attempts: Vec<levator_sim::model::DropAttempt>,
}

impl Run {
    pub fn report(&self) -> Report {
        score(
            &self.detected,
            &self.truth,
            &ScoreConfig::new(self.duration_s),
        )
    }
}

pub fn simulate(scenario: &str, subject: &str, device: &str, seed: u64) -> Run {
    let config = SimConfig::from_names(scenario, subject, device, seed).expect("sim config");
    simulate_config(&config, PipelineConfig::default())
}

pub fn simulate_config(config: &SimConfig, mut pipeline: PipelineConfig) -> Run {
    // the user configures the local mains frequency (the OpenBCI Cyton
    // profile is simulated at 60 Hz, the other devices at 50 Hz)
    pipeline.mains = Some(if config.device.mains_hz == 60.0 {
        Mains::Hz60
    } else {
        Mains::Hz50
    });
    let mut sim = Simulator::new(config).expect("simulator");
    let truth = sim.truth().to_vec();
    let drop_attempts = sim.drop_attempts().to_vec();
    let duration_s = sim.duration_s();
    let mut p = Pipeline::new(sim.spec(), pipeline).expect("pipeline");
    let mut detected = Vec::new();
    let probe: Option<u64> = std::env::var("DET_PROBE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .map(|t| (t * sim.spec().rate_hz()) as u64);
    // DET_TRACE=a-b: print the pelvic level and thresholds from a to b s
    let trace: Option<(f64, f64)> = std::env::var("DET_TRACE").ok().and_then(|tr| {
        let (a, b) = tr.split_once('-')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    });
    for frame in sim.by_ref() {
        p.tick(&frame, &mut |e: Event| detected.push(e));
        if let Some((a, b)) = trace {
            let t = p.spec().time_s(frame.index);
            if t >= a && t <= b && frame.index % 10 == 0 {
                let s = p.snapshot();
                if let Some((l, b)) = s.pelvic {
                    eprintln!(
                        "{:.3} lvl {:.2} rest {:.2} on {:.2} hi {:.2}",
                        t, l, b.rest, b.on, b.band_hi
                    );
                }
            }
        }
        if Some(frame.index) == probe {
            eprintln!("PROBE {:?}", p.snapshot());
        }
    }
    p.finish(&mut |e: Event| detected.push(e));
    Run {
        detected,
        truth,
        duration_s,
        drop_attempts,
    }
}

/// Prints events compactly (for failing tests).
pub fn dump(events: &[Event]) -> String {
    let mut s = String::new();
    for e in events {
        s.push_str(&format!(
            "{:>9.3} {:?} {:?} {:?} det={:?} end={:?} resp={:?} rao={:?} issue={:?} ch={:?}\n",
            e.onset_s,
            e.kind,
            e.phase,
            e.subtype,
            e.detected_s.map(|d| (d * 1000.0).round() / 1000.0),
            e.end_s.map(|d| (d * 1000.0).round() / 1000.0),
            e.pelvic_response,
            e.rao_type,
            e.issue,
            e.channel
        ));
    }
    s
}

/// Deterministic Gaussian noise (splitmix64 + Box-Muller).
pub struct Noise {
    state: u64,
    spare: Option<f64>,
}

impl Noise {
    pub fn new(seed: u64) -> Noise {
        Noise {
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
            spare: None,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn gaussian(&mut self) -> f64 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let th = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some(r * th.sin());
        r * th.cos()
    }
}

/// Band-limited unit-RMS noise (white Gaussian noise through an RBJ
/// band-pass at 87 Hz, Q 0.87: about 50-150 Hz at 1 kHz): the simulator's
/// and real sEMG's spectrum is narrower than white noise, so its 50 ms
/// envelope fluctuates more (about 15% instead of 10%).
pub struct BandNoise {
    noise: Noise,
    b: [f64; 3],
    a: [f64; 2],
    z: [f64; 2],
    gain: f64,
}

impl BandNoise {
    pub fn new(seed: u64, rate_hz: f64) -> BandNoise {
        let (f0, q) = (87.0, 0.87);
        let w0 = 2.0 * std::f64::consts::PI * f0 / rate_hz;
        let alpha = w0.sin() / (2.0 * q);
        let a0 = 1.0 + alpha;
        let mut n = BandNoise {
            noise: Noise::new(seed),
            b: [alpha / a0, 0.0, -alpha / a0],
            a: [-2.0 * w0.cos() / a0, (1.0 - alpha) / a0],
            z: [0.0; 2],
            gain: 1.0,
        };
        // unit RMS, measured on a run of its own
        let mut probe = BandNoise {
            noise: Noise::new(seed ^ 0xABCD),
            b: n.b,
            a: n.a,
            z: [0.0; 2],
            gain: 1.0,
        };
        let ms = (0..50_000).map(|_| probe.next().powi(2)).sum::<f64>() / 50_000.0;
        n.gain = 1.0 / ms.sqrt();
        n
    }

    pub fn next(&mut self) -> f64 {
        let x = self.noise.gaussian();
        let y = self.b[0] * x + self.z[0];
        self.z[0] = self.b[1] * x - self.a[0] * y + self.z[1];
        self.z[1] = self.b[2] * x - self.a[1] * y;
        y * self.gain
    }
}

/// A trapezoid activation: 0 before `t0`, linear rise over `rise`, hold,
/// then the release shape `release(dt_after_hold) -> fraction`.
pub fn trapezoid(t: f64, t0: f64, rise: f64, hold: f64, release: &dyn Fn(f64) -> f64) -> f64 {
    if t < t0 {
        0.0
    } else if t < t0 + rise {
        (t - t0) / rise
    } else if t < t0 + rise + hold {
        1.0
    } else {
        release(t - t0 - rise - hold)
    }
}

/// Runs frames through a default-config pipeline built for `spec`.
pub fn run_frames(
    spec: levator::core::stream::StreamSpec,
    config: PipelineConfig,
    frames: &[levator::core::stream::Frame],
) -> Vec<Event> {
    let mut p = Pipeline::new(spec, config).expect("pipeline");
    let mut out = Vec::new();
    p.process(frames, &mut |e: Event| out.push(e));
    p.finish(&mut |e: Event| out.push(e));
    out
}

/// Starts (and instants) of `kind`.
/// Drop (reverse Kegel) events, start and end, in order.
pub fn drops(events: &[Event]) -> Vec<Event> {
    events
        .iter()
        .filter(|e| e.subtype == Some(levator::core::event::RelaxationSubtype::Drop))
        .copied()
        .collect()
}

pub fn starts(events: &[Event], kind: levator::core::event::EventKind) -> Vec<Event> {
    events
        .iter()
        .filter(|e| e.kind == kind && e.is_onset())
        .copied()
        .collect()
}
