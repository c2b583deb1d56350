//! `levator`: the command-line tool of the levator pelvic-floor
//! biofeedback library. See `levator --help`.
#![forbid(unsafe_code)]

mod error;
mod input;
#[allow(dead_code)]
mod output;
#[allow(dead_code)]
mod progress;

#[allow(dead_code, unused_imports)]
#[path = "../../levator-sim/src/import/mod.rs"]
mod import;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use levator_core::stream::{SampleSource, SourceItem};

use crate::error::{CliError, CliResult};
use crate::input::{FormatArg, Recording};

/// Pelvic-floor biofeedback: detect contraction, relaxation, bearing down
/// and poor release in EMG and pressure recordings, live or offline.
#[derive(Debug, Parser)]
#[command(name = "levator", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show what a recording holds: format, rate, channels, markers, problems.
    #[command(after_help = "Example:\n  levator inspect anomanor/test1.txt")]
    Inspect {
        /// The recording (levator-csv, manometry text export, single-column EMG text).
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
        Command::Inspect { file, input_format } => inspect(&file, input_format),
    }
}

fn inspect(file: &std::path::Path, format: FormatArg) -> CliResult<()> {
    let mut rec = Recording::open(file, format)?;
    let spec = rec.spec();
    let (mut frames, mut gaps, mut lost) = (0u64, 0u64, 0u64);
    while let Some(item) = rec
        .next_item()
        .map_err(|e| CliError::new(format!("{}: {e}", file.display())))?
    {
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
