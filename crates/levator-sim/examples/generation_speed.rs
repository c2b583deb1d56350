//! Measures simulator generation speed (frames and channel-samples per
//! second) for a scenario/subject/device, without writing anything, and
//! with CSV formatting into memory.
//!
//! ```text
//! cargo run --release -p levator-sim --example generation_speed -- demo healthy emg-probe
//! ```

use std::time::Instant;

use levator_sim::{render_recording, Simulator};

fn main() -> Result<(), levator_sim::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |i: usize, d: &'static str| args.get(i).map_or(d, String::as_str);
    let (scenario, subject, device) = (get(0, "demo"), get(1, "healthy"), get(2, "emg-probe"));
    let mut sim = Simulator::from_names(scenario, subject, device, 1)?;
    let channels = sim.spec().len() as f64;
    let fresh = sim.clone();
    let t = Instant::now();
    let n = sim.by_ref().count() as f64;
    let dt = t.elapsed().as_secs_f64();
    println!(
        "{scenario}/{subject}/{device}: {n} frames x {channels} channels in {dt:.3} s = {:.2} M frames/s, {:.2} M samples/s ({:.0}x real time)",
        n / dt / 1e6,
        n * channels / dt / 1e6,
        fresh.duration_s() / dt
    );
    let mut sim = fresh;
    let (mut csv, mut truth) = (Vec::new(), Vec::new());
    let t = Instant::now();
    render_recording(&mut sim, &mut csv, &mut truth, true)?;
    let dt = t.elapsed().as_secs_f64();
    println!(
        "with CSV formatting: {:.2} M samples/s, {} bytes CSV, {} bytes truth",
        n * channels / dt / 1e6,
        csv.len(),
        truth.len()
    );
    Ok(())
}
