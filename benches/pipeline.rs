//! Cost per channel-sample of the whole real-time hot path: the
//! [`Pipeline`] (unit conversion, quality monitors, conditioning chain,
//! envelope, baseline, bearing-down / contraction / release / drop
//! detectors) fed simulated frames, plus the end-to-end pipeline on a
//! committed recording.
//!
//! Groups (throughput is in channel-samples, so criterion's "time per
//! element" is the cost of one sample of one channel through everything):
//!
//! - `pipeline/{tick,block32,block256}/{1,2,4,8}`: 1 kHz surface EMG, the
//!   simulated short Glazer session (76 s: rest, flicks, holds, endurance,
//!   so every detector changes state), fed one frame at a time
//!   (`Pipeline::tick`) or in blocks of 32 / 256 frames
//!   (`Pipeline::process`). A *channel* is one 1 kHz EMG signal, each with
//!   the full EMG chain (14 biquads + 50 ms moving RMS):
//!   1 = `pelvic_emg` alone (contraction, release, drop detectors);
//!   2 = `pelvic_emg` + `abdominal_emg` in one pipeline (the clinic's
//!   two-channel set-up, all detectors);
//!   4 and 8 = 2 and 4 such two-channel pipelines side by side (two or four
//!   probes, or an 8-channel amplifier such as the Cyton wired as four
//!   pelvic/abdominal pairs). One pipeline carries each role at most once
//!   (six roles), so more than two EMG channels means more pipelines.
//! - `six_roles/{tick,block256}/6`: one pipeline with all six roles at
//!   1 kHz: the two EMG channels plus pelvic and abdominal pressure, probe
//!   motion and respiration (simulated at 100 Hz and held for 10 samples;
//!   the pressure, motion and respiration chains are a low-pass only, so
//!   these channels are cheaper than EMG ones).
//! - `rate/{250,1000,2000}/2`: the two-channel EMG pipeline at the Cyton's
//!   250 Hz, 1 kHz and 2 kHz (`tick`), to show the cost per sample does not
//!   depend on the rate.
//! - `recording/{frames,csv,bandpass_rms}/sim_emg_glazer_short_healthy_s1`: the committed
//!   fixture (1 kHz, 2 EMG channels, 76 s): `frames` = the pipeline on
//!   frames parsed beforehand, `csv` = parsing the levator-csv text
//!   (`CsvReader` over the bytes in memory) and the pipeline, i.e.
//!   `levator analyze` without printing; `bandpass_rms` = only the 4th-order
//!   20-450 Hz band-pass and a 50 ms moving RMS per channel (`Chain`,
//!   block), the like-for-like of BrainFlow's band-pass + rolling filter
//!   (band-pass alone and the full EMG chain are timed by
//!   `benches/conditioning.rs`). With `LEVATOR_BENCH_CSV=FILE.csv`
//!   the same benches also run on that recording (id `external`; used by
//!   `benches/compare/run.sh` so levator is timed on the very samples the
//!   Python tools see).
//!
//! Every iteration starts from a freshly built pipeline (cloned outside the
//! timed part) and runs the whole session through it, so each iteration
//! does identical work, warm-up and calibration included.
//!
//! Run: `cargo bench --bench pipeline` (about 2 minutes; measurement time
//! is reduced, pass `-- --measurement-time 10` for tighter intervals).

use std::hint::black_box;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use levator::core::conditioning::{Chain, ChainConfig, EnvelopeConfig};
use levator::core::detect::{Pipeline, PipelineConfig};
use levator::core::event::Event;
use levator::core::stream::{ChannelSpec, Frame, Role, SampleSource, SourceItem, StreamSpec};
use levator_sim::csv::CsvReader;
use levator_sim::device::Device;
use levator_sim::{SimConfig, Simulator};

const SCENARIO: &str = "glazer_short";
const FIXTURE: &str = "fixtures/sim_emg_glazer_short_healthy_s1.csv";

/// Block sizes: 1 means `tick` per frame, others `process` per block.
const BLOCKS: [usize; 3] = [1, 32, 256];

/// One stream: its spec and every frame of the session.
struct Stream {
    spec: StreamSpec,
    frames: Vec<Frame>,
}

impl Stream {
    fn channel_samples(&self) -> u64 {
        (self.frames.len() * self.spec.len()) as u64
    }
}

fn simulate(device: &str, seed: u64) -> Stream {
    let mut sim = Simulator::from_names(SCENARIO, "healthy", device, seed).expect("simulator");
    let spec = sim.spec();
    let frames: Vec<Frame> = sim.by_ref().collect();
    Stream { spec, frames }
}

/// The two-channel EMG session, or its pelvic channel alone.
fn emg_stream(seed: u64, channels: usize) -> Stream {
    let full = simulate("emg-probe", seed);
    if channels == 2 {
        return full;
    }
    let spec = StreamSpec::new(
        full.spec.rate_hz(),
        &[ChannelSpec::canonical(Role::PelvicEmg)],
    )
    .expect("one-channel spec");
    let pelvic = full.spec.channel_index(Role::PelvicEmg).expect("pelvic");
    let frames = full
        .frames
        .iter()
        .map(|f| Frame::new(f.index, &[f.get(pelvic)]))
        .collect();
    Stream { spec, frames }
}

/// `channels` 1 kHz EMG channels as pipelines of at most two channels.
fn emg_streams(channels: usize) -> Vec<Stream> {
    match channels {
        1 => vec![emg_stream(1, 1)],
        n => (0..n / 2).map(|k| emg_stream(1 + k as u64, 2)).collect(),
    }
}

/// All six roles at 1 kHz: the EMG probe plus pressure trainers at 100 Hz,
/// each of their samples held for 10 frames.
fn six_roles() -> Stream {
    let emg = simulate("emg-probe", 1);
    let mut cfg = SimConfig::from_names(SCENARIO, "healthy", "pressure-trainer-100", 1)
        .expect("pressure trainer");
    cfg.device = cfg.device.with_respiration();
    let press = Simulator::new(&cfg).expect("simulator");
    let press_spec = press.spec();
    let press: Vec<Frame> = press.collect();
    let mut cfg =
        SimConfig::from_names(SCENARIO, "healthy", "two-sensor-trainer", 1).expect("two-sensor");
    cfg.device = Device::from_name("two-sensor-trainer")
        .expect("device")
        .with_rate(100.0)
        .expect("100 Hz");
    let two = Simulator::new(&cfg).expect("simulator");
    let two_spec = two.spec();
    let two: Vec<Frame> = two.collect();
    let roles = [
        Role::PelvicEmg,
        Role::AbdominalEmg,
        Role::PelvicPressure,
        Role::AbdominalPressure,
        Role::ProbeMotion,
        Role::Respiration,
    ];
    let spec = StreamSpec::new(
        1000.0,
        &roles.map(ChannelSpec::canonical), // every role in its canonical unit
    )
    .expect("six-role spec");
    let col = |s: &StreamSpec, r: Role| s.channel_index(r).expect("role present");
    let (pe, ae) = (
        col(&emg.spec, Role::PelvicEmg),
        col(&emg.spec, Role::AbdominalEmg),
    );
    let (pp, pm, pr) = (
        col(&press_spec, Role::PelvicPressure),
        col(&press_spec, Role::ProbeMotion),
        col(&press_spec, Role::Respiration),
    );
    let ap = col(&two_spec, Role::AbdominalPressure);
    let n = emg.frames.len().min(press.len() * 10).min(two.len() * 10);
    let frames = (0..n)
        .map(|i| {
            let (e, p, t) = (&emg.frames[i], &press[i / 10], &two[i / 10]);
            Frame::new(
                i as u64,
                &[
                    e.get(pe),
                    e.get(ae),
                    // canonical units: the simulated devices already use them
                    p.get(pp),
                    t.get(ap),
                    p.get(pm),
                    p.get(pr),
                ],
            )
        })
        .collect();
    Stream { spec, frames }
}

fn fresh(streams: &[Stream]) -> Vec<Pipeline> {
    streams
        .iter()
        .map(|s| Pipeline::new(s.spec, PipelineConfig::default()).expect("pipeline"))
        .collect()
}

/// Runs every stream through its pipeline in blocks of `block` frames,
/// interleaved block by block as a multi-probe application would; returns
/// the number of events.
fn run(pipelines: &mut [Pipeline], streams: &[Stream], block: usize) -> u64 {
    let mut events = 0u64;
    let mut sink = |e: Event| {
        events += 1;
        black_box(e);
    };
    let len = streams.iter().map(|s| s.frames.len()).max().unwrap_or(0);
    let mut start = 0;
    while start < len {
        for (p, s) in pipelines.iter_mut().zip(streams) {
            let end = (start + block).min(s.frames.len());
            if start >= end {
                continue;
            }
            if block == 1 {
                p.tick(black_box(&s.frames[start]), &mut sink);
            } else {
                p.process(black_box(&s.frames[start..end]), &mut sink);
            }
        }
        start += block;
    }
    for p in pipelines.iter_mut() {
        p.finish(&mut sink);
    }
    events
}

fn block_id(block: usize) -> String {
    match block {
        1 => "tick".to_string(),
        b => format!("block{b}"),
    }
}

fn bench_streams(c: &mut Criterion, group: &str, cases: &[(String, usize, Vec<Stream>)]) {
    let mut g = c.benchmark_group(group);
    for (id, param, streams) in cases {
        let blocks: &[usize] = if group == "six_roles" {
            &[1, 256]
        } else if group == "rate" {
            &[1]
        } else {
            &BLOCKS
        };
        for &block in blocks {
            let templates = fresh(streams);
            // sanity: the session produces events (the detectors run)
            let events = run(&mut templates.clone(), streams, block);
            assert!(events > 0, "{group}/{id}: no events from the session");
            g.throughput(Throughput::Elements(
                streams.iter().map(Stream::channel_samples).sum(),
            ));
            let name = if group == "rate" {
                id.clone()
            } else {
                block_id(block)
            };
            g.bench_with_input(BenchmarkId::new(name, param), param, |b, _| {
                b.iter_batched(
                    || templates.clone(),
                    |mut p| black_box(run(&mut p, streams, block)),
                    BatchSize::LargeInput,
                )
            });
        }
    }
    g.finish();
}

fn pipeline(c: &mut Criterion) {
    let cases: Vec<_> = [1usize, 2, 4, 8]
        .iter()
        .map(|&n| (String::new(), n, emg_streams(n)))
        .collect();
    bench_streams(c, "pipeline", &cases);
    bench_streams(c, "six_roles", &[(String::new(), 6, vec![six_roles()])]);
    let rates = [
        ("250", "cyton"),
        ("1000", "emg-probe"),
        ("2000", "emg-probe-2000"),
    ]
    .iter()
    .map(|(rate, device)| (rate.to_string(), 2, vec![simulate(device, 1)]))
    .collect::<Vec<_>>();
    bench_streams(c, "rate", &rates);
}

fn read_csv(bytes: &[u8]) -> CsvReader<BufReader<&[u8]>> {
    CsvReader::new(BufReader::new(bytes)).expect("levator-csv recording")
}

/// The pipeline over a source, as `levator analyze` drives it; returns the
/// number of events.
fn analyze<S: SampleSource>(source: &mut S) -> u64
where
    S::Error: std::fmt::Debug,
{
    let mut pipeline = Pipeline::new(source.spec(), PipelineConfig::default()).expect("pipeline");
    let mut events = 0u64;
    let mut sink = |e: Event| {
        events += 1;
        black_box(e);
    };
    while let Some(item) = source.next_item().expect("readable recording") {
        pipeline.push_item(&item, &mut sink);
    }
    pipeline.finish(&mut sink);
    events
}

/// A recording held in memory, replayed as a `SampleSource`.
struct Items<'a> {
    spec: StreamSpec,
    items: std::slice::Iter<'a, SourceItem>,
}

impl SampleSource for Items<'_> {
    type Error = std::convert::Infallible;
    fn spec(&self) -> StreamSpec {
        self.spec
    }
    fn next_item(&mut self) -> Result<Option<SourceItem>, Self::Error> {
        Ok(self.items.next().copied())
    }
}

fn bench_recording(g: &mut BenchmarkGroup<'_, WallTime>, id: &str, path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = read_csv(&bytes);
    let spec = reader.spec();
    let mut items = Vec::new();
    while let Some(item) = reader.next_item().expect("readable recording") {
        items.push(item);
    }
    let frames = items
        .iter()
        .filter(|i| matches!(i, SourceItem::Frame(_)))
        .count();
    g.throughput(Throughput::Elements((frames * spec.len()) as u64));
    g.bench_function(BenchmarkId::new("frames", id), |b| {
        b.iter(|| {
            analyze(&mut Items {
                spec,
                items: black_box(&items).iter(),
            })
        })
    });
    g.bench_function(BenchmarkId::new("csv", id), |b| {
        b.iter(|| analyze(&mut read_csv(black_box(&bytes))))
    });
    // The like-for-like of BrainFlow's band-pass + rolling filter: the same
    // 4th-order 20-450 Hz band-pass and a 50 ms moving RMS, nothing else,
    // per channel over the whole recording (each channel's block through
    // `Chain::process`).
    let mut config = ChainConfig::passthrough(spec.rate_hz());
    config.band_hz = Some((20.0, 450.0f64.min(0.45 * spec.rate_hz())));
    config.band_order = 4;
    config.envelope = EnvelopeConfig::MovingRms { window_ms: 50.0 };
    let columns: Vec<Vec<f64>> = (0..spec.len())
        .map(|ch| {
            items
                .iter()
                .filter_map(|i| match i {
                    SourceItem::Frame(f) => Some(f.get(ch)),
                    SourceItem::Gap { .. } => None,
                })
                .collect()
        })
        .collect();
    let mut out = vec![0.0; frames];
    g.bench_function(BenchmarkId::new("bandpass_rms", id), |b| {
        b.iter(|| {
            for x in &columns {
                let mut chain = Chain::new(&config).expect("band-pass + RMS chain");
                chain.process(black_box(x), &mut out);
                black_box(&out);
            }
        })
    });
}

fn recording(c: &mut Criterion) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut recordings = vec![(
        "sim_emg_glazer_short_healthy_s1".to_string(),
        root.join(FIXTURE),
    )];
    if let Some(path) = std::env::var_os("LEVATOR_BENCH_CSV") {
        recordings.push(("external".to_string(), PathBuf::from(path)));
    }
    let mut g = c.benchmark_group("recording");
    for (id, path) in &recordings {
        bench_recording(&mut g, id, path);
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10);
    targets = pipeline, recording
}
criterion_main!(benches);
