//! `levator eval REC --truth TRUTH`: analyze a recording and score the
//! events against its ground truth.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use levator_core::score::{score, ScoreConfig};

use crate::cmd::analyze::write_ok;
use crate::cmd::report::{read_events, score_lines};
use crate::engine::{detect_all, MainsArg, UserConfig};
use crate::error::{CliError, CliResult};
use crate::input::{FormatArg, Recording};
use crate::progress::Progress;

/// `--format` of `eval` and `latency`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Aligned table.
    Table,
    /// One JSON document on stdout.
    Json,
}

/// The truth file beside a recording: `REC.csv` -> `REC.truth.jsonl`.
pub fn truth_path_for(rec: &Path) -> PathBuf {
    let stem = rec.with_extension("");
    let mut s = stem.into_os_string();
    s.push(".truth.jsonl");
    PathBuf::from(s)
}

/// Runs `eval`.
pub fn eval(
    rec_path: &Path,
    truth: Option<&Path>,
    format: ReportFormat,
    config: Option<&Path>,
    mains: Option<MainsArg>,
    tolerance_s: f64,
    input_format: FormatArg,
) -> CliResult<()> {
    if !(tolerance_s.is_finite() && tolerance_s > 0.0) {
        return Err(CliError::new(format!(
            "--tolerance {tolerance_s}: must be a positive number of seconds"
        )));
    }
    let user = UserConfig::load(config, mains)?;
    let truth_path = truth
        .map(Path::to_path_buf)
        .unwrap_or_else(|| truth_path_for(rec_path));
    let truth = read_events(&truth_path)?;
    let mut rec = Recording::open(rec_path, input_format)?;
    let config = user.for_recording(rec.mains_hint());
    let counter = rec.progress_counter();
    let (_, size) = rec.progress();
    let mut progress = Progress::new("evaluating", size);
    let (events, stats) = detect_all(&mut rec, config, |_| progress.update(counter.get()))?;
    progress.finish();
    for p in rec.problems() {
        eprintln!("levator: warning: {}: {p}", rec.name());
    }
    let report = score(
        &events,
        &truth,
        &ScoreConfig::new(stats.end_s).with_tolerance_s(tolerance_s),
    );
    let mut out = io::stdout().lock();
    match format {
        ReportFormat::Json => {
            let doc = serde_json::json!({
                "recording": rec_path.display().to_string(),
                "truth": truth_path.display().to_string(),
                "tolerance_s": tolerance_s,
                "report": report,
            });
            write_ok(writeln!(out, "{doc}"))?;
        }
        ReportFormat::Table => {
            let mut lines = vec![format!(
                "{}: {} events detected, {} truth events, {:.1} s, onset tolerance ±{tolerance_s} s",
                rec_path.display(),
                events.len(),
                truth.len(),
                stats.end_s
            )];
            lines.extend(score_lines(&report, "  "));
            for l in lines {
                if !write_ok(writeln!(out, "{l}"))? {
                    break;
                }
            }
        }
    }
    Ok(())
}
