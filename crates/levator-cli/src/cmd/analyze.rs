//! `levator analyze FILE`: a recording through the real-time pipeline, as
//! fast as possible.

use std::io::{self, Write};
use std::path::Path;

use levator_core::detect::Pipeline;
use levator_core::event::{Event, EventKind, Phase};
use levator_core::stream::SampleSource;
use levator_sim::import::{Marker, MarkerKind};

use crate::engine::{run, MainsArg, UserConfig};
use crate::error::{CliError, CliResult};
use crate::input::{FormatArg, Recording};
use crate::output::{roman, EventFormat, EventPrinter, Style};
use crate::progress::Progress;
use crate::summary::Summary;

/// Writes to stdout; a closed pipe (`| head`) ends the run quietly.
pub fn write_ok(r: io::Result<()>) -> CliResult<bool> {
    match r {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(CliError::new(format!("writing to stdout: {e}"))),
    }
}

/// Runs `analyze`.
pub fn analyze(
    file: &Path,
    format: EventFormat,
    config: Option<&Path>,
    mains: Option<MainsArg>,
    input_format: FormatArg,
    start_at_rest: bool,
) -> CliResult<()> {
    let user = UserConfig::load(config, mains)?;
    let mut rec = Recording::open_with(file, input_format, start_at_rest)?;
    let config = user.for_recording(rec.mains_hint());
    let spec = rec.spec();
    let name = rec.name().to_string();
    let mut pipeline =
        Pipeline::new(spec, config).map_err(|e| CliError::new(format!("{name}: {e}")))?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut printer = EventPrinter::new(format);
    let style = printer.style();
    let table = format == EventFormat::Table;
    if table {
        let chans: Vec<String> = spec.channels().iter().map(|c| c.role.to_string()).collect();
        let head = format!(
            "{name}: {} at {:.4} Hz, channels {}",
            rec.format().name(),
            spec.rate_hz(),
            chans.join(", ")
        );
        if !write_ok(writeln!(out, "{}", style.bold(&head)))? {
            return Ok(());
        }
        for n in rec.notes() {
            write_ok(writeln!(out, "  {}", style.dim(&n)))?;
        }
    }
    // Every annotation is shown inline (operator notes too: `husten`,
    // `valsalva` explain activity); only protocol markers are scored.
    let mut timeline: Vec<Marker> = rec.markers().to_vec();
    timeline.sort_by(|a, b| a.stream_s.total_cmp(&b.stream_s));
    let markers: Vec<Marker> = timeline
        .iter()
        .filter(|m| m.kind != MarkerKind::Note)
        .cloned()
        .collect();
    let mut next_marker = 0;
    let mut summary = Summary::new(pipeline.pelvic_role(), spec.rate_hz());
    let (_, size) = rec.progress();
    let counter = rec.progress_counter();
    let mut progress = Progress::new("analyzing", size);
    let stats = run(&mut rec, &mut pipeline, |step| {
        summary.step(step.events, &step.snapshot);
        progress.update(counter.get());
        if table {
            while next_marker < timeline.len()
                && timeline[next_marker].stream_s <= step.snapshot.t_s
            {
                let m = &timeline[next_marker];
                next_marker += 1;
                let what = if m.kind == MarkerKind::Note {
                    "note"
                } else {
                    "marker"
                };
                let line = format!("{:>8.2}s  ▸  {what} {}", m.stream_s, m.label);
                if !write_ok(printer.note(&mut out, &line))? {
                    return Ok(false);
                }
            }
        }
        for e in step.events {
            if !write_ok(printer.event(&mut out, e))? {
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    progress.finish();
    // Reported after the run: the list is complete then (row spacing is
    // checked while streaming), and a failed run shows only its error.
    for p in rec.problems() {
        eprintln!("levator: warning: {name}: {p}");
    }
    let pstats = pipeline.stats();
    if table {
        let mut lines = vec![String::new(), style.bold("summary")];
        lines.push(format!(
            "  stream                 {:.1} s, {} frames, {} gap(s) / {} sample(s) missing",
            stats.end_s, stats.frames, pstats.gaps, pstats.samples_lost
        ));
        if pstats.bad_values > 0 || pstats.rejected_frames > 0 {
            lines.push(format!(
                "  {}",
                style.warn(&format!(
                    "{} non-finite value(s) held, {} frame(s) out of order rejected",
                    pstats.bad_values, pstats.rejected_frames
                ))
            ));
        }
        lines.extend(summary.render(&style));
        if !markers.is_empty() {
            lines.push(style.bold("protocol markers"));
            lines.extend(marker_lines(&markers, summary.events(), &style));
        }
        for l in lines {
            if !write_ok(writeln!(out, "{l}"))? {
                break;
            }
        }
    }
    write_ok(out.flush())?;
    Ok(())
}

/// The detection window of a marker: which event kind must start, and how
/// long before / after the marker (s). Squeezes: contraction start within
/// -3..+6 s; pushes: bearing_down start within -3..+8 s (issue 7).
pub fn marker_window(kind: MarkerKind) -> Option<(EventKind, f64, f64)> {
    match kind {
        MarkerKind::Squeeze(_) | MarkerKind::LongSqueeze => {
            Some((EventKind::Contraction, 3.0, 6.0))
        }
        MarkerKind::Push(_) => Some((EventKind::BearingDown, 3.0, 8.0)),
        _ => None,
    }
}

/// One line per squeeze/push marker: the matching start event, if any.
fn marker_lines(markers: &[Marker], events: &[Event], style: &Style) -> Vec<String> {
    let mut used = vec![false; events.len()];
    let mut lines = Vec::new();
    for m in markers {
        let Some((kind, before, after)) = marker_window(m.kind) else {
            continue;
        };
        let found = events.iter().enumerate().find(|(i, e)| {
            !used[*i]
                && e.kind == kind
                && e.phase == Some(Phase::Start)
                && e.onset_s >= m.stream_s - before
                && e.onset_s <= m.stream_s + after
        });
        let text = match found {
            Some((i, start)) => {
                used[i] = true;
                let e = crate::summary::final_judgement(events, start);
                let mut t = format!(
                    "{} start at {:.2} s ({:+.2} s)",
                    kind.name(),
                    e.onset_s,
                    e.onset_s - m.stream_s
                );
                if let Some(r) = e.pelvic_response {
                    t.push_str(&format!(", pelvic {}", crate::output::response_name(r)));
                }
                if let Some(r) = e.rao_type {
                    t.push_str(&format!(", Rao type {}", roman(r)));
                }
                t
            }
            None => style.warn(&format!(
                "no {} start within -{before}..+{after} s",
                kind.name()
            )),
        };
        lines.push(format!("  {:>8.2}s {:<16} {text}", m.stream_s, m.label));
    }
    lines
}
