//! A recording replayed into the real-time pipeline at x10 speed, as if a
//! device were streaming it: frames arrive paced by the wall clock, events
//! print as they are detected, with the wall time they took to appear.
//!
//! `cargo run --example replay -- [RECORDING.csv] [SPEED]`
//! (default: the committed fixture `sim_emg_glazer_short_healthy_s1.csv`, x10)
use std::path::PathBuf;
use std::time::Instant;

use levator::core::detect::{Pipeline, PipelineConfig};
use levator::core::event::Event;
use levator::core::stream::SampleSource;
use levator_sim::replay::{CsvFile, Pacing, Replay, SystemClock};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/sim_emg_glazer_short_healthy_s1.csv")
    });
    let speed: f64 = match args.next() {
        Some(s) => s.parse()?,
        None => 10.0,
    };
    let recording = CsvFile::open(&path)?;
    let mut replay = Replay::new(recording, SystemClock::new(), Pacing::Speed(speed))?;
    let spec = replay.spec();
    let mut pipeline = Pipeline::new(spec, PipelineConfig::default())?;
    println!(
        "replaying {} ({} Hz, {} channels) at x{speed}",
        path.display(),
        spec.rate_hz(),
        spec.len()
    );
    let start = Instant::now();
    let mut print = |e: Event| {
        println!(
            "[wall {:6.2}s] {:>8.2}s {:<14} {:<6} detected {:>4.0} ms after its onset/end",
            start.elapsed().as_secs_f64(),
            e.onset_s,
            e.kind.name(),
            match e.phase {
                Some(levator::core::event::Phase::Start) => "start",
                Some(levator::core::event::Phase::End) => "end",
                None => "",
            },
            (e.detected_s.unwrap_or(e.onset_s) - e.end_s.unwrap_or(e.onset_s)) * 1000.0
        )
    };
    while let Some(item) = replay.next_item()? {
        pipeline.push_item(&item, &mut print);
    }
    pipeline.finish(&mut print);
    let stats = pipeline.stats();
    println!(
        "{} frames, {} samples lost, in {:.1} s wall time",
        stats.frames,
        stats.samples_lost,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
