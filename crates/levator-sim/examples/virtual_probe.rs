//! A virtual serial probe: streams a simulated session in real time over a
//! pseudo-terminal; open the printed path with any serial program.
//!
//! ```text
//! cargo run -p levator-sim --example virtual_probe -- demo hypertonic emg-probe binary
//! cargo run -p levator-sim --example virtual_probe -- glazer healthy cyton cyton
//! ```
//!
//! Arguments: scenario, subject, device, protocol (`binary`, `ascii`,
//! `cyton`), optional speed factor (default 1).

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use levator_sim::replay::{Pacing, Replay, SystemClock};
use levator_sim::virtual_device::{Faults, VirtualDevice, WireProtocol};
use levator_sim::Simulator;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |i: usize, d: &'static str| args.get(i).map_or(d, String::as_str);
    let Some(protocol) = WireProtocol::from_name(get(3, "binary")) else {
        eprintln!("protocol must be binary, ascii or cyton");
        return ExitCode::FAILURE;
    };
    let speed: f64 = get(4, "1").parse().unwrap_or(f64::NAN);
    let run = || -> Result<(), Box<dyn std::error::Error>> {
        let sim = Simulator::from_names(get(0, "demo"), get(1, "healthy"), get(2, "emg-probe"), 1)?;
        let pacing = if speed == 1.0 {
            Pacing::RealTime
        } else {
            Pacing::Speed(speed)
        };
        let source = Replay::new(sim, SystemClock::new(), pacing)?;
        let device = VirtualDevice::open()?;
        println!("virtual {} probe at {}", protocol.name(), device.path());
        let stats = device.serve(source, protocol, Faults::default(), &AtomicBool::new(false))?;
        println!("done: {stats:?}");
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
