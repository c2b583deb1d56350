//! Where contraction latency comes from: hand-made 1 kHz EMG with a known
//! onset (band-limited noise at rest, then a step or a ramp to 5x or 10x
//! rest), through a default pipeline. Prints median detection latency
//! (`detected_s - onset`) and median onset error (`onset_s - onset`,
//! signed, and its absolute value) per shape; no assertions on timing
//! (the numbers are for the closing note; they separate the detector's
//! own delay, seen on the step, from the time a ramp needs to leave the
//! resting noise). Run with
//!
//! ```text
//! cargo test --release -p levator --test detect_latency_table -- --ignored --nocapture
//! ```

mod detect_common;

use detect_common::{run_frames, starts, BandNoise};
use levator::core::detect::PipelineConfig;
use levator::core::event::EventKind;
use levator::core::stream::{ChannelSpec, Frame, Role, StreamSpec};

const RATE: f64 = 1000.0;

#[derive(Clone, Copy)]
enum Shape {
    Step,
    Linear(f64),
    RaisedCosine(f64),
}

impl Shape {
    fn name(self) -> String {
        match self {
            Shape::Step => "step".into(),
            Shape::Linear(r) => format!("linear {:.0} ms", r * 1e3),
            Shape::RaisedCosine(r) => format!("raised-cosine {:.0} ms", r * 1e3),
        }
    }

    /// Activation 0..1 at `u` s after the onset (held 2 s after the rise,
    /// then a brisk release, tau 50 ms).
    fn at(self, u: f64) -> f64 {
        let rise = match self {
            Shape::Step => 0.0,
            Shape::Linear(r) | Shape::RaisedCosine(r) => r,
        };
        if u <= 0.0 {
            0.0
        } else if u < rise {
            let x = u / rise;
            match self {
                Shape::Step => 1.0,
                Shape::Linear(_) => x,
                Shape::RaisedCosine(_) => 0.5 - 0.5 * (std::f64::consts::PI * x).cos(),
            }
        } else if u < rise + 2.0 {
            1.0
        } else {
            (-(u - rise - 2.0) / 0.05).exp()
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

#[test]
#[ignore = "prints the latency table of the closing note (release build advised)"]
fn latency_and_onset_error_by_onset_shape() {
    // 3 µV of resting noise, 8 squeezes 6 s apart after 20 s of rest,
    // 4 seeds per shape and peak
    let rest = 3.0;
    let onsets: Vec<f64> = (0..8).map(|k| 20.0 + 6.0 * k as f64).collect();
    let shapes = [
        Shape::Step,
        Shape::Linear(0.05),
        Shape::Linear(0.15),
        Shape::Linear(0.3),
        Shape::RaisedCosine(0.15),
        Shape::RaisedCosine(0.3),
    ];
    let spec = StreamSpec::new(RATE, &[ChannelSpec::canonical(Role::PelvicEmg)]).unwrap();
    println!("| shape | peak / rest | found | latency median (ms) | onset error median (ms) | abs onset error median (ms) |");
    println!("|---|---|---|---|---|---|");
    for shape in shapes {
        for peak in [5.0, 10.0] {
            let (mut lat, mut err, mut found, mut total) = (vec![], vec![], 0, 0);
            for seed in 1..=4 {
                let mut noise = BandNoise::new(seed, RATE);
                let frames: Vec<Frame> = (0..(68.0 * RATE) as u64)
                    .map(|i| {
                        let t = i as f64 / RATE;
                        let act: f64 = onsets.iter().map(|&t0| shape.at(t - t0)).sum();
                        Frame::new(i, &[rest * (1.0 + (peak - 1.0) * act) * noise.next()])
                    })
                    .collect();
                let s = starts(
                    &run_frames(spec, PipelineConfig::default(), &frames),
                    EventKind::Contraction,
                );
                total += onsets.len();
                for &t0 in &onsets {
                    if let Some(e) = s
                        .iter()
                        .find(|e| e.detected_s.is_some_and(|d| d > t0 - 0.5 && d < t0 + 1.0))
                    {
                        found += 1;
                        lat.push(e.detected_s.unwrap_or(f64::NAN) - t0);
                        err.push(e.onset_s - t0);
                    }
                }
            }
            let abs: Vec<f64> = err.iter().map(|e| e.abs()).collect();
            println!(
                "| {} | {peak:.0} | {found}/{total} | {:.1} | {:+.1} | {:.1} |",
                shape.name(),
                1e3 * median(lat),
                1e3 * median(err),
                1e3 * median(abs)
            );
        }
    }
}
