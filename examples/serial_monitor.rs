//! Live detection from a serial probe at library level: open the port,
//! decode frames on a reader thread (ringbuf SPSC queue), run them through
//! the pipeline, print events and link problems.
//!
//! `cargo run --example serial_monitor -- /dev/ttyUSB0 [levator|cyton] [SECONDS]`
//! `cargo run --example serial_monitor -- --virtual [levator|cyton] [SECONDS]`
//! (`--virtual` starts levator-sim's virtual probe on a pseudo-terminal
//! and monitors that: how CI runs this example without hardware).
use std::time::{Duration, Instant};

use levator::core::detect::{Pipeline, PipelineConfig};
use levator::core::event::Event;
use levator::core::stream::SampleSource;
use levator_serial::port::{Protocol, SerialConfig, SerialSource};
use levator_serial::protocol::cyton::CytonConfig;
use levator_sim::replay::{Pacing, Replay, SystemClock};
use levator_sim::virtual_device::{Faults, VirtualDevice, WireProtocol};
use levator_sim::Simulator;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(port) = args.first() else {
        return Err("usage: serial_monitor PORT|--virtual [levator|cyton] [SECONDS]".into());
    };
    let cyton = args.get(1).is_some_and(|p| p == "cyton");
    let seconds: Option<f64> = args.get(2).map(|s| s.parse()).transpose()?;
    // Without hardware: a simulated session streamed at x10 over a pty.
    let mut virtual_probe = None;
    let path = if port == "--virtual" {
        let (device, wire) = if cyton {
            ("cyton", WireProtocol::Cyton)
        } else {
            ("emg-probe", WireProtocol::Binary)
        };
        let sim = Simulator::from_names("demo", "healthy", device, 1)?;
        let paced = Replay::new(sim, SystemClock::new(), Pacing::Speed(10.0))?;
        let running = VirtualDevice::open()?.spawn(paced, wire, Faults::default());
        let path = running.path().to_string();
        virtual_probe = Some(running);
        path
    } else {
        port.clone()
    };
    let protocol = if cyton {
        Protocol::Cyton(CytonConfig::default())
    } else {
        Protocol::Binary
    };
    let mut source = SerialSource::open(&path, protocol, SerialConfig::default())?;
    let spec = source.spec();
    println!("{path}: {} Hz, {} channels", spec.rate_hz(), spec.len());
    let mut pipeline = Pipeline::new(spec, PipelineConfig::default())?;
    let mut print = |e: Event| {
        println!(
            "{:>8.2}s {:<14} {:?} detected {:.0} ms after its onset/end",
            e.onset_s,
            e.kind.name(),
            e.phase,
            (e.detected_s.unwrap_or(e.onset_s) - e.end_s.unwrap_or(e.onset_s)) * 1000.0
        )
    };
    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs_f64(s));
    let mut result = Ok(());
    while !matches!(deadline, Some(d) if Instant::now() >= d) {
        match source.next_item() {
            Ok(Some(item)) => pipeline.push_item(&item, &mut print),
            Ok(None) => break,
            Err(e) => {
                result = Err(e);
                break;
            }
        }
        for notice in source.take_notices() {
            eprintln!("link: {notice:?}");
        }
    }
    pipeline.finish(&mut print);
    let stats = source.close()?;
    println!("link stats: {stats:?}");
    if let Some(probe) = virtual_probe {
        probe.stop()?;
    }
    Ok(result?)
}
