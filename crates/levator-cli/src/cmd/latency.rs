//! `levator latency [DIR]`: the detection-latency benchmark. Every
//! labelled recording (`NAME.csv` + `NAME.truth.jsonl`) runs through the
//! real-time pipeline; latency (`detected_s` - true onset) and accuracy
//! are reported per event kind and sample rate.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use levator_core::conditioning::Mains;
use levator_core::score::{score, Report, ScoreConfig};
use levator_core::stream::SampleSource;
use levator_sim::{SimConfig, Simulator};

use crate::cmd::analyze::write_ok;
use crate::cmd::eval::{truth_path_for, ReportFormat};
use crate::cmd::report::{read_events, score_header, score_row};
use crate::engine::{detect_all, MainsArg, UserConfig};
use crate::error::{CliError, CliResult};
use crate::input::{FormatArg, Recording};
use crate::progress::Progress;

/// The simulated sets of the default benchmark: (device, rate label).
/// 10 Hz manometry, 50 Hz two-sensor pressure, 1 kHz and 2 kHz sEMG.
pub const SIMULATED_DEVICES: [(&str, &str); 4] = [
    ("manometry", "10 Hz"),
    ("two-sensor-trainer", "50 Hz"),
    ("emg-probe", "1 kHz"),
    ("emg-probe-2000", "2 kHz"),
];

/// Subjects of the simulated sets (every one runs the `demo` scenario).
pub const SIMULATED_SUBJECTS: [&str; 3] = ["healthy", "hypertonic", "dyssynergic"];

/// Where the committed fixtures live when run from a source checkout.
fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Labelled recordings (`*.csv` with a `.truth.jsonl` beside) in `dir`.
fn labelled(dir: &Path) -> CliResult<Vec<PathBuf>> {
    let rd =
        std::fs::read_dir(dir).map_err(|e| CliError::new(format!("{}: {e}", dir.display())))?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv") && truth_path_for(p).exists())
        .collect();
    v.sort();
    Ok(v)
}

fn rate_label(rate_hz: f64) -> String {
    if rate_hz >= 1000.0 {
        format!("{} kHz", rate_hz / 1000.0)
    } else {
        format!("{rate_hz} Hz")
    }
}

/// Runs `latency`.
pub fn latency(
    dir: Option<&Path>,
    format: ReportFormat,
    config: Option<&Path>,
    mains: Option<MainsArg>,
    seeds: u64,
) -> CliResult<()> {
    let user = UserConfig::load(config, mains)?;
    // rate label -> (rate, merged report, recordings)
    let mut by_rate: BTreeMap<u64, (String, Option<Report>, Vec<String>)> = BTreeMap::new();
    let mut add = |rate: f64, name: String, report: Report| {
        let key = (rate * 1000.0).round() as u64;
        let entry = by_rate
            .entry(key)
            .or_insert_with(|| (rate_label(rate), None, Vec::new()));
        match &mut entry.1 {
            Some(r) => r.merge(&report),
            None => entry.1 = Some(report),
        }
        entry.2.push(name);
    };
    let files = match dir {
        Some(d) => labelled(d)?,
        None => {
            let f = fixtures_dir();
            if f.is_dir() {
                labelled(&f)?
            } else {
                Vec::new()
            }
        }
    };
    if dir.is_some() && files.is_empty() {
        return Err(CliError::new(format!(
            "{}: no labelled recordings (NAME.csv with NAME.truth.jsonl beside it)",
            dir.map(|d| d.display().to_string()).unwrap_or_default()
        )));
    }
    let sims: Vec<SimConfig> = if dir.is_none() {
        let mut v = Vec::new();
        for (device, _) in SIMULATED_DEVICES {
            for subject in SIMULATED_SUBJECTS {
                for seed in 1..=seeds {
                    v.push(
                        SimConfig::from_names("demo", subject, device, seed)
                            .map_err(|e| CliError::new(e.to_string()))?,
                    );
                }
            }
        }
        v
    } else {
        Vec::new()
    };
    let mut total = 0u64;
    let mut prepared = Vec::new();
    for c in &sims {
        let sim = Simulator::new(c).map_err(|e| CliError::new(e.to_string()))?;
        total += sim.total_samples();
        prepared.push(sim);
    }
    let mut progress = Progress::new("latency", total + files.len() as u64);
    let mut done = 0u64;
    for path in &files {
        let truth = read_events(&truth_path_for(path))?;
        let mut rec = Recording::open(path, FormatArg::Csv)?;
        let rate = rec.spec().rate_hz();
        let config = user.for_recording(rec.mains_hint());
        let (events, stats) = detect_all(&mut rec, config, |_| {})?;
        done += 1;
        progress.update(done);
        add(
            rate,
            path.display().to_string(),
            score(&events, &truth, &ScoreConfig::new(stats.end_s)),
        );
    }
    for mut sim in prepared {
        let truth = sim.truth().to_vec();
        let rate = sim.spec().rate_hz();
        let name = sim.config().describe();
        let duration = sim.duration_s();
        let base = done;
        // a simulated session declares its mains like a recording's header
        let config = user.for_recording(Some(Some(sim_mains(&sim))));
        let (events, _) = detect_all(&mut sim, config, |n| progress.update(base + n))?;
        done = base + sim.total_samples();
        add(
            rate,
            name,
            score(&events, &truth, &ScoreConfig::new(duration)),
        );
    }
    progress.finish();
    let mut out = io::stdout().lock();
    match format {
        ReportFormat::Json => {
            let doc: Vec<serde_json::Value> = by_rate
                .values()
                .map(|(label, report, names)| {
                    serde_json::json!({"rate": label, "recordings": names, "report": report})
                })
                .collect();
            write_ok(writeln!(out, "{}", serde_json::Value::Array(doc)))?;
        }
        ReportFormat::Table => {
            let source = match dir {
                Some(d) => format!("{} labelled recording(s) in {}", files.len(), d.display()),
                None if files.is_empty() => format!(
                    "no fixtures folder at {} (not a source checkout); {} simulated session(s)",
                    fixtures_dir().display(),
                    sims.len()
                ),
                None => format!(
                    "{} committed fixture(s) + {} simulated `demo` session(s) ({})",
                    files.len(),
                    sims.len(),
                    SIMULATED_SUBJECTS.join(", ")
                ),
            };
            let mut lines = vec![
                source,
                format!(
                    "detection latency = detected_s - true onset; onset error = |detected onset - true onset|; \
                     match tolerance ±{} s",
                    ScoreConfig::new(1.0).tolerance_s
                ),
            ];
            for (label, report, names) in by_rate.values() {
                let Some(report) = report else { continue };
                lines.push(String::new());
                lines.push(format!(
                    "{label}: {} recording(s), {:.0} s",
                    names.len(),
                    report.duration_s
                ));
                if report.rows.is_empty() {
                    lines.push(format!(
                        "  no events in truth, none detected: 0 false events in {:.0} s",
                        report.duration_s
                    ));
                    continue;
                }
                lines.push(score_header("  "));
                for r in &report.rows {
                    lines.push(score_row("  ", r));
                }
            }
            for l in lines {
                if !write_ok(writeln!(out, "{l}"))? {
                    break;
                }
            }
        }
    }
    Ok(())
}

/// The mains frequency of a simulated device.
pub fn sim_mains(sim: &Simulator) -> Mains {
    if sim.config().device.mains_hz == 60.0 {
        Mains::Hz60
    } else {
        Mains::Hz50
    }
}
