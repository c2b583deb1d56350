//! `levator demo`: a built-in simulated session, accelerated, with live
//! events and a summary scored against the simulator's ground truth.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use levator_core::detect::{Pipeline, PipelineConfig};
use levator_core::event::{Event, RelaxationSubtype};
use levator_core::score::{score, ScoreConfig};
use levator_core::stream::{SampleSource, SourceItem, StreamSpec};
use levator_sim::model::{DROP_MIN_FRAC, DROP_MIN_S};
use levator_sim::{SimConfig, Simulator};

use crate::cmd::analyze::write_ok;
use crate::cmd::latency::sim_mains;
use crate::cmd::report::score_lines;
use crate::engine::run;
use crate::error::{CliError, CliResult};
use crate::output::{EventFormat, EventPrinter};
use crate::summary::Summary;

/// Options of `levator demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Built-in scenario or scenario TOML file.
    #[arg(long, default_value = "demo")]
    pub scenario: String,
    /// Subject profile (see `levator simulate --list`).
    #[arg(long, default_value = "hypertonic")]
    pub subject: String,
    /// Device profile (see `levator simulate --list`).
    #[arg(long, default_value = "emg-probe")]
    pub device: String,
    /// Seed of every random draw (same seed, same session).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Speed-up over real time (default: whatever makes the session last about 15 s).
    #[arg(long, conflicts_with = "fast")]
    pub speed: Option<f64>,
    /// No pacing at all: run as fast as possible.
    #[arg(long)]
    pub fast: bool,
    /// `jsonl` prints only the events (the analyze contract).
    #[arg(long, value_enum, default_value_t = EventFormat::Table)]
    pub format: EventFormat,
}

/// Delivers a source's frames no faster than `speed` x real time.
struct Paced<S> {
    inner: S,
    rate_hz: f64,
    speed: Option<f64>,
    start: Instant,
    first: Option<u64>,
}

impl<S: SampleSource> SampleSource for Paced<S> {
    type Error = S::Error;

    fn spec(&self) -> StreamSpec {
        self.inner.spec()
    }

    fn next_item(&mut self) -> Result<Option<SourceItem>, S::Error> {
        let item = self.inner.next_item()?;
        if let (Some(speed), Some(SourceItem::Frame(f))) = (self.speed, &item) {
            let first = *self.first.get_or_insert(f.index);
            let due = (f.index - first) as f64 / (self.rate_hz * speed);
            let now = self.start.elapsed().as_secs_f64();
            // Sleep in slices of >= 5 ms so the OS timer is not hammered.
            if due - now > 0.005 {
                std::thread::sleep(Duration::from_secs_f64(due - now));
            }
        }
        Ok(item)
    }
}

/// Runs the demo.
pub fn demo(args: &DemoArgs) -> CliResult<()> {
    let started = Instant::now();
    let config = SimConfig::from_names(&args.scenario, &args.subject, &args.device, args.seed)
        .map_err(|e| CliError::new(e.to_string()))?;
    let sim = Simulator::new(&config).map_err(|e| CliError::new(e.to_string()))?;
    let spec = sim.spec();
    let duration = sim.duration_s();
    let truth: Vec<Event> = sim.truth().to_vec();
    // What the subject does, as `·` notes: every truth onset, plus the
    // reverse-Kegel attempts too shallow to be drops (they have no truth).
    let mut notes: Vec<(f64, String)> = truth
        .iter()
        .filter(|e| e.is_onset())
        .map(|t| {
            let what = match t.subtype {
                Some(RelaxationSubtype::Drop) => "reverse Kegel (drop)".into(),
                Some(RelaxationSubtype::Release) => "release".into(),
                None => t.kind.name().replace('_', " "),
            };
            (t.onset_s, what)
        })
        .collect();
    notes.extend(sim.drop_attempts().iter().filter(|a| !a.is_drop).map(|a| {
        (
            a.t0,
            format!(
                "reverse Kegel attempt, too shallow for a drop (level fell {:.0}% below rest; a drop is {:.0}% for {:.0} s)",
                100.0 * a.fall_frac,
                100.0 * DROP_MIN_FRAC,
                DROP_MIN_S
            ),
        )
    }));
    notes.sort_by(|a, b| a.0.total_cmp(&b.0));
    let speed = if args.fast {
        None
    } else {
        let s = args.speed.unwrap_or((duration / 15.0).max(1.0));
        if !(s.is_finite() && s > 0.0) {
            return Err(CliError::new(format!(
                "--speed {s}: must be a positive number"
            )));
        }
        Some(s)
    };
    // the demo user has set their local mains frequency, as a real one must
    let mut pipeline_config = PipelineConfig::default();
    pipeline_config.mains = Some(sim_mains(&sim));
    let mut pipeline = Pipeline::new(spec, pipeline_config)
        .map_err(|e| CliError::new(format!("pipeline: {e}")))?;
    let table = args.format == EventFormat::Table;
    let stdout = io::stdout();
    let mut out = io::LineWriter::new(stdout.lock());
    let mut printer = EventPrinter::new(args.format);
    let style = printer.style();
    if table {
        let chans: Vec<String> = spec.channels().iter().map(|c| c.role.to_string()).collect();
        let pace = match speed {
            Some(s) => format!("x{s:.1} speed"),
            None => "as fast as possible".into(),
        };
        let head = [
            style.bold(&format!(
                "levator demo: {} subject, scenario `{}` ({:.0} s), {} ({})",
                config.subject.name(),
                config.scenario.name,
                duration,
                config.device.kind.name(),
                chans.join(" + ")
            )),
            style.dim(&format!(
                "  {} -- seed {}, {pace}; `·` lines show what the simulated subject really does",
                config.scenario.description, args.seed
            )),
        ];
        for l in head {
            if !write_ok(writeln!(out, "{l}"))? {
                return Ok(());
            }
        }
    }
    let mut next_note = 0;
    let mut summary = Summary::new(pipeline.pelvic_role(), spec.rate_hz());
    let rate_hz = spec.rate_hz();
    let mut source = Paced {
        inner: sim,
        rate_hz,
        speed,
        start: Instant::now(),
        first: None,
    };
    let stats = run(&mut source, &mut pipeline, |step| {
        summary.step(step.events, &step.snapshot);
        if table {
            while next_note < notes.len() && notes[next_note].0 <= step.snapshot.t_s {
                let (t, what) = &notes[next_note];
                next_note += 1;
                let line = format!("{t:>8.2}s  ·  subject: {what}");
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
    if !table {
        write_ok(out.flush())?;
        return Ok(());
    }
    let report = score(
        summary.events(),
        &truth,
        &ScoreConfig::new(stats.end_s.max(duration)),
    );
    let mut lines = vec![String::new(), style.bold("summary")];
    lines.extend(summary.render(&style));
    lines.push(style.bold("detection against the simulator's ground truth"));
    lines.extend(score_lines(&report, "  "));
    lines.push(style.dim(&format!(
        "{} frames at {} Hz in {:.1} s wall time",
        stats.frames,
        spec.rate_hz(),
        started.elapsed().as_secs_f64()
    )));
    for l in lines {
        if !write_ok(writeln!(out, "{l}"))? {
            break;
        }
    }
    write_ok(out.flush())?;
    Ok(())
}
