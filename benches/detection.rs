//! Cost of the whole detection pipeline (conditioning, baselines, quality
//! monitors and all detectors) per frame, on simulated recordings:
//!
//! - `emg_1khz`: two-channel EMG probe at 1 kHz (quick flicks, healthy);
//! - `emg_2khz`: the 2 kHz probe;
//! - `pressure_50hz`: the pressure trainer (pelvic pressure + motion);
//! - `manometry_10hz`: anorectal manometry at 10 Hz (pushes).
//!
//! Each iteration feeds 10 s of frames through `Pipeline::process` into a
//! fixed-capacity queue (drained). Throughput is in frames, so criterion's
//! time per element is the cost per frame; real time needs it below the
//! sample period (1 ms at 1 kHz, 0.5 ms at 2 kHz).
//!
//! Run: `cargo bench --bench detection`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use levator::core::detect::{EventQueue, Pipeline, PipelineConfig};
use levator::core::stream::Frame;
use levator_sim::{SimConfig, Simulator};

fn recording(scenario: &str, device: &str, seconds: f64) -> (Simulator, Vec<Frame>) {
    let config = SimConfig::from_names(scenario, "healthy", device, 5).expect("sim config");
    let mut sim = Simulator::new(&config).expect("simulator");
    let n = (seconds * sim.spec().rate_hz()) as usize;
    // skip the first 20 s (rest/calibration) so the slice holds activity
    let skip = (20.0 * sim.spec().rate_hz()) as usize;
    let frames: Vec<Frame> = sim.by_ref().skip(skip).take(n).collect();
    (sim, frames)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("pipeline");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    group.sample_size(20);
    for (name, scenario, device) in [
        ("emg_1khz", "quick_flicks", "emg-probe"),
        ("emg_2khz", "quick_flicks", "emg-probe-2000"),
        ("pressure_50hz", "quick_flicks", "pressure-trainer"),
        ("manometry_10hz", "bearing_down", "manometry"),
    ] {
        let (sim, frames) = recording(scenario, device, 10.0);
        let spec = sim.spec();
        group.throughput(Throughput::Elements(frames.len() as u64));
        group.bench_with_input(BenchmarkId::new("process", name), &frames, |b, frames| {
            let mut p = Pipeline::new(spec, PipelineConfig::default()).expect("pipeline");
            let mut q: EventQueue<64> = EventQueue::new();
            // the stream continues across iterations (indices keep rising)
            let mut offset = 0u64;
            let mut shifted = frames.clone();
            b.iter(|| {
                for (f, src) in shifted.iter_mut().zip(frames.iter()) {
                    *f = *src;
                    f.index += offset;
                }
                offset += frames.len() as u64;
                p.process(black_box(&shifted), &mut q);
                while q.pop().is_some() {}
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
