//! `levator`: the command-line tool of the levator pelvic-floor
//! biofeedback library. See `levator --help`.
#![forbid(unsafe_code)]

mod cmd;
mod engine;
mod error;
mod input;
mod output;
mod progress;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use levator_core::stream::{SampleSource, SourceItem};

use crate::cmd::eval::ReportFormat;
use crate::engine::{parse_mains, MainsArg};
use crate::error::{CliError, CliResult};
use crate::input::{FormatArg, Recording};
use crate::output::EventFormat;

/// Pelvic-floor biofeedback: detects contraction, relaxation (release and
/// reverse-Kegel drop), bearing down and poor release in surface-EMG and
/// pressure streams, live from a probe or from recordings.
#[derive(Debug, Parser)]
#[command(
    name = "levator",
    version,
    about,
    after_help = "Examples:\n  levator demo\n  levator analyze session.csv --format jsonl\n  \
                  levator simulate --scenario glazer --subject hypertonic --out rec.csv\n  \
                  levator eval rec.csv\n  levator latency"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a built-in simulated session live, then summarise it (no hardware needed).
    #[command(
        after_help = "Examples:\n  levator demo\n  levator demo --subject dyssynergic --device two-sensor-trainer --speed 20\n  \
                            levator demo --fast --format jsonl | head"
    )]
    Demo(cmd::demo::DemoArgs),

    /// Stream a recording through the real-time pipeline and print the events.
    #[command(
        after_help = "Formats are detected from the content: levator-csv v1, anorectal manometry \
                            text exports (TIME:/ZEIT: header) and single-column EMG text (# Sampling Rate header).\n\n\
                            With --format jsonl, stdout carries exactly one JSON event per line and nothing else; \
                            warnings go to stderr; the exit code is 0 on success and 1 with a one-line reason otherwise.\n\n\
                            Examples:\n  levator analyze session.csv\n  levator analyze anomanor/test1.txt --format jsonl > events.jsonl\n  \
                            levator analyze emg_1.txt --config tuned.toml --input-format emg-text"
    )]
    Analyze {
        /// The recording.
        file: PathBuf,
        /// `table`: aligned events and a session summary; `jsonl`: events only.
        #[arg(long, value_enum, default_value_t = EventFormat::Table)]
        format: EventFormat,
        /// Pipeline configuration (TOML; any subset of the fields, the rest default).
        #[arg(long, value_name = "FILE.toml")]
        config: Option<PathBuf>,
        /// Local mains frequency notched out of EMG: 50, 60 or off. Default:
        /// the config file's, else the recording's `mains_hz` header, else 50.
        #[arg(long, value_name = "50|60|off", value_parser = parse_mains)]
        mains: Option<MainsArg>,
        /// Override format detection.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        input_format: FormatArg,
        /// Manometry: analyse from the first row instead of the operator's
        /// `# Rest` marker (before it the catheter is being placed).
        #[arg(long)]
        from_first_row: bool,
    },

    /// Write a simulated recording (REC.csv) and its ground truth (REC.truth.jsonl).
    #[command(after_help = "Examples:\n  levator simulate --list\n  \
                            levator simulate --scenario glazer --subject hypertonic --device emg-probe --seed 7 --out glazer.csv\n  \
                            levator simulate --scenario my_session.toml --device manometry --out mano.csv")]
    Simulate {
        /// Built-in scenario name or a scenario TOML file.
        #[arg(long, default_value = "demo", required_unless_present = "list")]
        scenario: String,
        /// Subject profile.
        #[arg(long, default_value = "healthy")]
        subject: String,
        /// Device profile.
        #[arg(long, default_value = "emg-probe")]
        device: String,
        /// Seed of every random draw.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output recording; the truth goes beside it as REC.truth.jsonl.
        #[arg(long, value_name = "REC.csv", required_unless_present = "list")]
        out: Option<PathBuf>,
        /// Leave out the t_s column (the rate header suffices).
        #[arg(long)]
        no_time: bool,
        /// List the built-in scenarios, subjects and devices.
        #[arg(long)]
        list: bool,
    },

    /// Start the virtual serial probe: a simulated session over a pseudo-terminal.
    #[command(
        after_help = "Prints the device path on stdout, then streams (looping the scenario) until Ctrl-C.\n\n\
                            Examples:\n  levator serve --protocol levator\n  \
                            levator serve --scenario glazer --subject hypertonic --protocol ascii --device pressure-trainer\n  \
                            levator serve --protocol cyton --speed 2 --duration 60\n  levator serve --drop-prob 0.01 --corrupt-prob 0.01   # a flaky link"
    )]
    Serve(cmd::serve::ServeArgs),

    /// Live detection from a serial device: bar view, events, summary on Ctrl-C.
    #[command(
        after_help = "Examples:\n  levator monitor --list-ports\n  levator monitor --port /dev/ttyUSB0 --protocol levator\n  \
                            levator monitor --port /dev/ttyACM0 --protocol ascii --rate 50 --columns pelvic_pressure_cmh2o\n  \
                            levator monitor --port /dev/ttyUSB0 --protocol cyton --format jsonl > events.jsonl"
    )]
    Monitor(cmd::monitor::MonitorArgs),

    /// Score the events of a recording against its ground truth.
    #[command(
        after_help = "Examples:\n  levator eval rec.csv                      # truth from rec.truth.jsonl\n  \
                            levator eval rec.csv --truth labels.jsonl --format json"
    )]
    Eval {
        /// The recording.
        rec: PathBuf,
        /// Ground truth JSON lines (default: REC.truth.jsonl beside the recording).
        #[arg(long)]
        truth: Option<PathBuf>,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
        /// Pipeline configuration (TOML).
        #[arg(long, value_name = "FILE.toml")]
        config: Option<PathBuf>,
        /// Local mains frequency notched out of EMG: 50, 60 or off. Default:
        /// the config file's, else the recording's `mains_hz` header, else 50.
        #[arg(long, value_name = "50|60|off", value_parser = parse_mains)]
        mains: Option<MainsArg>,
        /// Largest onset difference that still matches a truth event (s).
        #[arg(long, default_value_t = 1.0)]
        tolerance: f64,
        /// Override format detection.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        input_format: FormatArg,
    },

    /// Detection-latency benchmark per event kind and sample rate.
    #[command(
        after_help = "Without DIR: the committed fixtures (when run from a source checkout) plus \
                            freshly simulated `demo` sessions (healthy, hypertonic, dyssynergic) at 10 Hz \
                            (manometry), 50 Hz (two-sensor trainer), 1 kHz and 2 kHz (sEMG).\n\n\
                            Examples:\n  levator latency\n  levator latency fixtures/ --format json"
    )]
    Latency {
        /// Folder of labelled recordings (NAME.csv + NAME.truth.jsonl).
        dir: Option<PathBuf>,
        /// `table` or `json`.
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
        /// Pipeline configuration (TOML).
        #[arg(long, value_name = "FILE.toml")]
        config: Option<PathBuf>,
        /// Local mains frequency notched out of EMG: 50, 60 or off. Default:
        /// the config file's, else the recording's `mains_hz` header, else 50.
        #[arg(long, value_name = "50|60|off", value_parser = parse_mains)]
        mains: Option<MainsArg>,
        /// Simulated sessions per device and subject (seeds 1..=N).
        #[arg(long, default_value_t = 1)]
        seeds: u64,
    },

    /// Show what a recording holds: format, rate, channels, markers, problems.
    #[command(after_help = "Example:\n  levator inspect anomanor/test1.txt")]
    Inspect {
        /// The recording.
        file: PathBuf,
        /// Override format detection.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        input_format: FormatArg,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("levator: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> CliResult<()> {
    match cli.command {
        Command::Demo(args) => cmd::demo::demo(&args),
        Command::Serve(args) => cmd::serve::serve(&args),
        Command::Monitor(args) => cmd::monitor::monitor(&args),
        Command::Analyze {
            file,
            format,
            config,
            mains,
            input_format,
            from_first_row,
        } => cmd::analyze::analyze(
            &file,
            format,
            config.as_deref(),
            mains,
            input_format,
            !from_first_row,
        ),
        Command::Simulate {
            scenario,
            subject,
            device,
            seed,
            out,
            no_time,
            list,
        } => {
            if list {
                return cmd::simulate::list();
            }
            let out = out.ok_or_else(|| CliError::new("--out REC.csv is required"))?;
            cmd::simulate::simulate(&scenario, &subject, &device, seed, &out, !no_time)
        }
        Command::Eval {
            rec,
            truth,
            format,
            config,
            mains,
            tolerance,
            input_format,
        } => cmd::eval::eval(
            &rec,
            truth.as_deref(),
            format,
            config.as_deref(),
            mains,
            tolerance,
            input_format,
        ),
        Command::Latency {
            dir,
            format,
            config,
            mains,
            seeds,
        } => cmd::latency::latency(dir.as_deref(), format, config.as_deref(), mains, seeds),
        Command::Inspect { file, input_format } => inspect(&file, input_format),
    }
}

fn inspect(file: &std::path::Path, format: FormatArg) -> CliResult<()> {
    let mut rec = Recording::open(file, format)?;
    let spec = rec.spec();
    let (mut frames, mut gaps, mut lost) = (0u64, 0u64, 0u64);
    while let Some(item) = rec.next_item()? {
        match item {
            SourceItem::Frame(_) => frames += 1,
            SourceItem::Gap { lost: l, .. } => {
                gaps += 1;
                lost += l
            }
        }
    }
    println!("file      {}", file.display());
    println!("format    {}", rec.format().name());
    println!("rate      {:.4} Hz", spec.rate_hz());
    let chans: Vec<String> = spec.channels().iter().map(|c| c.role.to_string()).collect();
    println!("channels  {}", chans.join(", "));
    println!(
        "samples   {frames} ({:.1} s), {gaps} gap(s), {lost} sample(s) missing",
        frames as f64 / spec.rate_hz()
    );
    for n in rec.notes() {
        println!("note      {n}");
    }
    for m in rec.markers() {
        println!(
            "marker    {:>9.2} s (file {:>8.2} s, line {:>5})  {}",
            m.stream_s, m.time_s, m.line, m.label
        );
    }
    for p in rec.problems() {
        println!("problem   {p}");
    }
    Ok(())
}
