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
//!   250 Hz, 1 kHz and 2 kHz (`tick`): how the cost per sample moves with
//!   the rate (the EMG chain notches every mains harmonic below Nyquist);
//!   `rate_block256/{250,1000,2000}/2`: the same fed in blocks of 256.
//! - `recording/{frames,frames_comb,blocks,blocks_comb,csv,bandpass,bandpass_rms,emg_chain,emg_chain_comb}/sim_emg_glazer_short_healthy_s1`:
//!   the committed fixture (1 kHz, 2 EMG channels, 76 s): `frames` = the
//!   pipeline on frames parsed beforehand, fed one at a time
//!   (`Pipeline::push_item`, as `levator analyze` does); `frames_comb` = the
//!   same with `PipelineConfig::notch_kind = NotchKind::Comb` (one comb
//!   filter instead of nine notch biquads per EMG channel); `blocks` and
//!   `blocks_comb` = the same two fed in blocks of 256 frames
//!   (`Pipeline::process`, same events); `csv` = parsing the levator-csv
//!   text (`CsvReader` over the bytes in memory) and the pipeline, i.e.
//!   `levator analyze` without printing; and, per channel over the whole
//!   recording (`Chain::process` of each channel's block), `bandpass` = the
//!   4th-order 20-450 Hz band-pass alone (scipy's `sosfilt` like for like),
//!   `bandpass_rms` = that band-pass and a 50 ms moving RMS (BrainFlow's
//!   band-pass + rolling filter like for like), `emg_chain` = the full EMG
//!   chain the pipeline runs, `emg_chain_comb` = that chain with the comb
//!   notch. (`benches/conditioning.rs` times the filters on
//!   synthetic blocks and lanes; these run on a recording so that
//!   `benches/compare/` can time levator on the very samples the Python tools
//!   see.) With `LEVATOR_BENCH_CSV=FILE.csv` the same five also run on that
//!   recording, with the id `external`.
//!
//! Each run starts from freshly built pipelines (cloned from templates: a
//! few kB, < 0.1% of a run) and takes the whole session through them, so
//! every run does identical work, warm-up and calibration included.
//!
//! Run: `cargo bench --bench pipeline` (about 3 minutes; measurement time is
//! reduced, pass `-- --measurement-time 10` for tighter intervals).
//!
//! CPU-time mode (no criterion): `LEVATOR_BENCH_CASE=pipeline/tick/2
//! LEVATOR_BENCH_REPEAT=N` runs that one case N times and prints its element
//! count; `benches/compare/cpu_time.py` takes the process CPU time of N runs
//! minus 1 run. On a shared machine CPU time is not inflated when other
//! processes take the cores, unlike criterion's wall time.

use std::hint::black_box;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use levator::core::conditioning::{Chain, ChainConfig, EnvelopeConfig, NotchKind};
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
    let roles = Role::ALL;
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

/// One benchmark: its full id (`group/function/parameter`), the
/// channel-samples one run processes, and the run itself (returns a count
/// that depends on the work, so it cannot be optimised away).
struct Case {
    id: String,
    elements: u64,
    run: Box<dyn FnMut() -> u64>,
}

impl Case {
    fn group(&self) -> &str {
        self.id.split('/').next().unwrap_or("")
    }
}

/// The whole session through freshly built pipelines (the clone of the
/// templates is part of a run: a few kB, < 0.1% of it).
fn pipeline_case(id: String, streams: Vec<Stream>, block: usize) -> Case {
    let templates = fresh(&streams);
    // sanity: the session produces events (the detectors run)
    let events = run(&mut templates.clone(), &streams, block);
    assert!(events > 0, "{id}: no events from the session");
    Case {
        elements: streams.iter().map(Stream::channel_samples).sum(),
        run: Box::new(move || run(&mut templates.clone(), &streams, block)),
        id,
    }
}

fn block_id(block: usize) -> String {
    match block {
        1 => "tick".to_string(),
        b => format!("block{b}"),
    }
}

/// The simulated-stream cases whose id `wanted` accepts.
fn simulated_cases(wanted: &dyn Fn(&str) -> bool, cases: &mut Vec<Case>) {
    for channels in [1usize, 2, 4, 8] {
        for block in BLOCKS {
            let id = format!("pipeline/{}/{channels}", block_id(block));
            if wanted(&id) {
                cases.push(pipeline_case(id, emg_streams(channels), block));
            }
        }
    }
    for block in [1, 256] {
        let id = format!("six_roles/{}/6", block_id(block));
        if wanted(&id) {
            cases.push(pipeline_case(id, vec![six_roles()], block));
        }
    }
    for (rate, device) in [
        (250, "cyton"),
        (1000, "emg-probe"),
        (2000, "emg-probe-2000"),
    ] {
        let id = format!("rate/{rate}/2");
        if wanted(&id) {
            cases.push(pipeline_case(id, vec![simulate(device, 1)], 1));
        }
        let id = format!("rate_block256/{rate}/2");
        if wanted(&id) {
            cases.push(pipeline_case(id, vec![simulate(device, 1)], 256));
        }
    }
}

fn read_csv(bytes: &[u8]) -> CsvReader<BufReader<&[u8]>> {
    CsvReader::new(BufReader::new(bytes)).expect("levator-csv recording")
}

/// The pipeline over a source, as `levator analyze` drives it; returns the
/// number of events.
fn analyze<S: SampleSource>(source: &mut S, config: PipelineConfig) -> u64
where
    S::Error: std::fmt::Debug,
{
    let mut pipeline = Pipeline::new(source.spec(), config).expect("pipeline");
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

/// A recording cut into what an application would hand `Pipeline`: runs
/// of up to `block` frames (`process`) and the gaps between them (`gap`).
enum Piece {
    Frames(Vec<Frame>),
    Gap { first_index: u64, lost: u64 },
}

/// Cuts `items` into pieces (done once, before timing, as the frame cases
/// parse their frames beforehand).
fn pieces(items: &[SourceItem], block: usize) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut frames: Vec<Frame> = Vec::with_capacity(block);
    for item in items {
        match *item {
            SourceItem::Frame(f) => {
                frames.push(f);
                if frames.len() == block {
                    out.push(Piece::Frames(std::mem::take(&mut frames)));
                }
            }
            SourceItem::Gap { first_index, lost } => {
                if !frames.is_empty() {
                    out.push(Piece::Frames(std::mem::take(&mut frames)));
                }
                out.push(Piece::Gap { first_index, lost });
            }
        }
    }
    if !frames.is_empty() {
        out.push(Piece::Frames(frames));
    }
    out
}

/// The pipeline over a recording fed in blocks (`Pipeline::process`; a gap
/// goes through `Pipeline::gap`), as an application reading a file or USB
/// packets of frames would drive it; returns the number of events, the
/// same as [`analyze`]'s (`Pipeline::process` agrees with `tick`).
fn analyze_blocks(spec: StreamSpec, pieces: &[Piece], config: PipelineConfig) -> u64 {
    let mut pipeline = Pipeline::new(spec, config).expect("pipeline");
    let mut events = 0u64;
    let mut sink = |e: Event| {
        events += 1;
        black_box(e);
    };
    for piece in pieces {
        match piece {
            Piece::Frames(frames) => pipeline.process(frames, &mut sink),
            Piece::Gap { first_index, lost } => pipeline.gap(*first_index, *lost, &mut sink),
        }
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

/// Each channel's block through a fresh `Chain` built from `config`.
fn chain_case(id: String, config: ChainConfig, columns: Rc<Vec<Vec<f64>>>) -> Case {
    let frames = columns.first().map_or(0, Vec::len);
    let mut out = vec![0.0; frames];
    Case {
        id,
        elements: (frames * columns.len()) as u64,
        run: Box::new(move || {
            for x in columns.iter() {
                let mut chain = Chain::new(&config).expect("valid chain");
                chain.process(black_box(x), &mut out);
                black_box(&out);
            }
            out.len() as u64
        }),
    }
}

/// The recording cases (see the module docs) whose id `wanted` accepts.
fn recording_cases(name: &str, path: &Path, wanted: &dyn Fn(&str) -> bool, cases: &mut Vec<Case>) {
    let ids = [
        "frames",
        "frames_comb",
        "blocks",
        "blocks_comb",
        "csv",
        "bandpass",
        "bandpass_rms",
        "emg_chain",
        "emg_chain_comb",
    ]
    .map(|f| format!("recording/{f}/{name}"));
    if !ids.iter().any(|id| wanted(id)) {
        return;
    }
    let bytes = Rc::new(std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    let mut reader = read_csv(&bytes);
    let spec = reader.spec();
    let mut items = Vec::new();
    while let Some(item) = reader.next_item().expect("readable recording") {
        items.push(item);
    }
    let frames: Vec<Frame> = items
        .iter()
        .filter_map(|i| match i {
            SourceItem::Frame(f) => Some(*f),
            SourceItem::Gap { .. } => None,
        })
        .collect();
    let elements = (frames.len() * spec.len()) as u64;
    let columns: Rc<Vec<Vec<f64>>> = Rc::new(
        (0..spec.len())
            .map(|ch| frames.iter().map(|f| f.get(ch)).collect())
            .collect(),
    );
    let rate = spec.rate_hz();
    let mut bandpass = ChainConfig::passthrough(rate);
    bandpass.band_hz = Some((20.0, 450.0f64.min(0.45 * rate)));
    bandpass.band_order = 4;
    let mut bandpass_rms = bandpass;
    bandpass_rms.envelope = EnvelopeConfig::MovingRms { window_ms: 50.0 };
    let mut emg_comb = ChainConfig::emg(rate);
    emg_comb.notch_kind = NotchKind::Comb;
    let mut comb_config = PipelineConfig::default();
    comb_config.notch_kind = NotchKind::Comb;
    let items = Rc::new(items);
    for id in ids {
        if !wanted(&id) {
            continue;
        }
        let function = id.split('/').nth(1).unwrap_or("");
        // the `_comb` cases run the pipeline with the opt-in comb notch
        let config = if function.ends_with("_comb") {
            comb_config
        } else {
            PipelineConfig::default()
        };
        cases.push(match function {
            "frames" | "frames_comb" => {
                let items = Rc::clone(&items);
                Case {
                    id,
                    elements,
                    run: Box::new(move || {
                        analyze(
                            &mut Items {
                                spec,
                                items: black_box(&items).iter(),
                            },
                            config,
                        )
                    }),
                }
            }
            "blocks" | "blocks_comb" => {
                let pieces = pieces(&items, 256);
                Case {
                    id,
                    elements,
                    run: Box::new(move || analyze_blocks(spec, black_box(&pieces), config)),
                }
            }
            "csv" => {
                let bytes = Rc::clone(&bytes);
                Case {
                    id,
                    elements,
                    run: Box::new(move || {
                        analyze(&mut read_csv(black_box(&bytes)), PipelineConfig::default())
                    }),
                }
            }
            "bandpass" => chain_case(id, bandpass, Rc::clone(&columns)),
            "bandpass_rms" => chain_case(id, bandpass_rms, Rc::clone(&columns)),
            "emg_chain_comb" => chain_case(id, emg_comb, Rc::clone(&columns)),
            _ => chain_case(id, ChainConfig::emg(rate), Rc::clone(&columns)),
        });
    }
}

fn all_cases(wanted: &dyn Fn(&str) -> bool) -> Vec<Case> {
    let mut cases = Vec::new();
    simulated_cases(wanted, &mut cases);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let fixture_name = Path::new(FIXTURE)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("fixture");
    recording_cases(fixture_name, &root.join(FIXTURE), wanted, &mut cases);
    if let Some(path) = std::env::var_os("LEVATOR_BENCH_CSV") {
        recording_cases("external", Path::new(&path), wanted, &mut cases);
    }
    cases
}

/// `LEVATOR_BENCH_CASE=ID LEVATOR_BENCH_REPEAT=N`: run one case N times
/// without criterion and print what was done, so that a caller can take the
/// CPU time of the whole process (e.g. `getrusage` of a child, or
/// `perf stat -e task-clock`) for N runs and for 1 run and divide the
/// difference by (N - 1) x elements. Unlike wall time, CPU time is not
/// inflated when other processes take the cores away.
fn repeat_mode(id: &str, repeat: u64) {
    let mut cases = all_cases(&|c| c == id);
    let Some(case) = cases.first_mut() else {
        eprintln!("unknown case {id:?}");
        std::process::exit(2);
    };
    let mut check = 0u64;
    for _ in 0..repeat {
        check = check.wrapping_add((case.run)());
    }
    println!(
        "case={} elements={} repeat={repeat} check={check}",
        case.id, case.elements
    );
}

fn main() {
    if let Ok(id) = std::env::var("LEVATOR_BENCH_CASE") {
        let repeat = std::env::var("LEVATOR_BENCH_REPEAT")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(1);
        return repeat_mode(&id, repeat);
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10)
        .configure_from_args();
    let mut cases = all_cases(&|_| true);
    let mut groups: Vec<String> = Vec::new();
    for case in &cases {
        if !groups.iter().any(|g| g == case.group()) {
            groups.push(case.group().to_string());
        }
    }
    for group in groups {
        let mut g = c.benchmark_group(group.as_str());
        for case in cases.iter_mut().filter(|k| k.group() == group) {
            g.throughput(Throughput::Elements(case.elements));
            // "group/function/parameter" -> criterion's own id layout
            let rest = &case.id[group.len() + 1..];
            let id = match rest.rsplit_once('/') {
                Some((function, parameter)) => BenchmarkId::new(function, parameter),
                None => BenchmarkId::from_parameter(rest),
            };
            let run = &mut case.run;
            g.bench_function(id, |b| b.iter(&mut *run));
        }
        g.finish();
    }
    c.final_summary();
}
