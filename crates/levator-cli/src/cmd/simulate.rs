//! `levator simulate`: write a simulated recording and its ground truth.

use std::io::{self, Write};
use std::path::Path;

use levator_sim::device::DeviceKind;
use levator_sim::scenario::{Scenario, BUILTIN_NAMES};
use levator_sim::subject::SubjectKind;
use levator_sim::{write_recording, SimConfig, Simulator};

use crate::cmd::analyze::write_ok;
use crate::error::{CliError, CliResult};

/// Lists the built-in scenarios, subjects and devices.
pub fn list() -> CliResult<()> {
    let mut lines = vec!["scenarios (--scenario NAME, or a .toml file):".to_string()];
    for name in BUILTIN_NAMES {
        let d = Scenario::builtin(name)
            .map(|s| s.description)
            .map_err(|e| CliError::new(e.to_string()))?;
        lines.push(format!("  {name:<22} {d}"));
    }
    lines.push("subjects (--subject):".into());
    for s in SubjectKind::ALL {
        lines.push(format!("  {:<22} {}", s.name(), s.description()));
    }
    lines.push("devices (--device):".into());
    for d in DeviceKind::ALL {
        lines.push(format!("  {:<22} {}", d.name(), d.description()));
    }
    let mut out = io::stdout().lock();
    for l in lines {
        if !write_ok(writeln!(out, "{l}"))? {
            break;
        }
    }
    Ok(())
}

/// Writes `out` (`REC.csv`) and `REC.truth.jsonl`.
pub fn simulate(
    scenario: &str,
    subject: &str,
    device: &str,
    seed: u64,
    out: &Path,
    with_time: bool,
) -> CliResult<()> {
    let config = SimConfig::from_names(scenario, subject, device, seed)
        .map_err(|e| CliError::new(e.to_string()))?;
    let mut sim = Simulator::new(&config).map_err(|e| CliError::new(e.to_string()))?;
    let stem = if out.extension().is_some_and(|e| e == "csv") {
        out.with_extension("")
    } else {
        out.to_path_buf()
    };
    if let Some(parent) = stem.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(CliError::new(format!(
                "{}: directory does not exist",
                parent.display()
            )));
        }
    }
    let truth_events = sim.truth().len();
    let n = write_recording(&mut sim, &stem, with_time)
        .map_err(|e| CliError::new(format!("{}: {e}", stem.display())))?;
    eprintln!(
        "levator: wrote {}.csv ({n} frames, {:.1} s at {} Hz) and {}.truth.jsonl ({truth_events} events)",
        stem.display(),
        n as f64 / sim.spec().rate_hz(),
        sim.spec().rate_hz(),
        stem.display()
    );
    Ok(())
}
