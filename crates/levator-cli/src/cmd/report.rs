//! Scoring output shared by `demo`, `eval` and `latency`, and the reader
//! of ground-truth JSON-lines files.

use std::io::BufRead;
use std::path::Path;

use levator_core::event::Event;
use levator_core::score::{Report, Row};

use crate::error::{CliError, CliResult};

fn opt(v: Option<f64>, scale: f64, digits: usize) -> String {
    v.map(|x| format!("{:.*}", digits, x * scale))
        .unwrap_or_else(|| "-".into())
}

/// Header of the score table.
pub fn score_header(indent: &str) -> String {
    format!(
        "{indent}{:<20} {:>5} {:>5} {:>4} {:>4} {:>4} {:>6} {:>6} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7}",
        "kind",
        "truth",
        "found",
        "tp",
        "fp",
        "miss",
        "prec",
        "recall",
        "F1",
        "lat med",
        "lat p95",
        "err med",
        "err p95",
        "fp/10m"
    )
}

/// One score row; latencies and onset errors in ms.
pub fn score_row(indent: &str, r: &Row) -> String {
    format!(
        "{indent}{:<20} {:>5} {:>5} {:>4} {:>4} {:>4} {:>6} {:>6} {:>6} {:>6}ms {:>6}ms {:>6}ms {:>6}ms {:>7.1}",
        r.label,
        r.truth,
        r.detected,
        r.true_positives,
        r.false_positives,
        r.missed,
        opt(r.precision, 1.0, 2),
        opt(r.recall, 1.0, 2),
        opt(r.f1, 1.0, 2),
        opt(r.latency_median_s, 1000.0, 0),
        opt(r.latency_p95_s, 1000.0, 0),
        opt(r.onset_error_median_s, 1000.0, 0),
        opt(r.onset_error_p95_s, 1000.0, 0),
        r.false_per_10min,
    )
}

/// The whole score table of a report (rows with truth or detections).
pub fn score_lines(report: &Report, indent: &str) -> Vec<String> {
    let mut v = vec![score_header(indent)];
    for r in &report.rows {
        v.push(score_row(indent, r));
        if let Some(a) = r.attribute_agreement {
            v.push(format!(
                "{indent}  {} pelvic response / Rao type agree with truth in {:.0}% of matched pushes",
                r.label,
                a * 100.0
            ));
        }
    }
    v
}

/// Reads a JSON-lines event file (ground truth or `analyze --format
/// jsonl` output). Blank lines are skipped; anything else that is not an
/// event is an error naming the line.
pub fn read_events(path: &Path) -> CliResult<Vec<Event>> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| CliError::new(format!("{shown}: {e}")))?;
    let mut events = Vec::new();
    let mut buf = Vec::new();
    let mut reader = std::io::BufReader::new(file);
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| CliError::new(format!("{shown}: {e}")))?;
        if n == 0 {
            break;
        }
        line += 1;
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let e: Event = serde_json::from_str(text)
            .map_err(|e| CliError::new(format!("{shown}: line {line}: not an event: {e}")))?;
        events.push(e);
    }
    Ok(events)
}
