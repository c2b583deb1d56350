//! `levator monitor`: live detection from a serial device, with a
//! scrolling bar view of each judged channel against its resting band,
//! events as they happen, quality warnings, and a summary on Ctrl-C.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use levator_core::detect::Pipeline;
use levator_core::event::Event;
use levator_core::features::baseline::Band;
use levator_core::stream::{Role, SampleSource, SourceItem};
use levator_serial::port::{Notice, PortKind, Protocol, SerialConfig, SerialSource};
use levator_serial::protocol::ascii::{AsciiColumn, AsciiConfig, TimestampUnit};
use levator_serial::protocol::cyton::CytonConfig;

use crate::cmd::analyze::write_ok;
use crate::cmd::serve::{stop_after, stop_flag, ProtocolArg};
use crate::engine::{parse_mains, MainsArg, UserConfig};
use crate::error::{CliError, CliResult};
use crate::output::{EventFormat, EventPrinter, Style};
use crate::summary::Summary;

/// Leading timestamp column of ASCII lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TimestampArg {
    /// No timestamp: every line is one sample.
    None,
    /// Seconds.
    S,
    /// Milliseconds (Arduino `millis()`).
    Ms,
    /// Microseconds (Arduino `micros()`).
    Us,
}

/// Options of `levator monitor`.
#[derive(Debug, Clone, clap::Args)]
pub struct MonitorArgs {
    /// Serial port path (e.g. /dev/ttyUSB0, or the path `levator serve` prints).
    #[arg(long, required_unless_present = "list_ports")]
    pub port: Option<String>,
    /// List the serial ports found on this machine and exit.
    #[arg(long)]
    pub list_ports: bool,
    /// Wire protocol.
    #[arg(long, value_enum, default_value_t = ProtocolArg::Levator)]
    pub protocol: ProtocolArg,
    /// Baud rate (ignored by pseudo-terminals).
    #[arg(long, default_value_t = 115_200)]
    pub baud: u32,
    /// `table`: live view and summary; `jsonl`: events only (for piping).
    #[arg(long, value_enum, default_value_t = EventFormat::Table)]
    pub format: EventFormat,
    /// ASCII: sample rate of the device (Hz).
    #[arg(long)]
    pub rate: Option<f64>,
    /// ASCII: the data columns after the timestamp, as `<role>_<unit>`
    /// (e.g. `pelvic_pressure_cmh2o,abdominal_pressure_cmh2o`); `-` skips a column.
    #[arg(long)]
    pub columns: Option<String>,
    /// ASCII: the leading timestamp column.
    #[arg(long, value_enum, default_value_t = TimestampArg::None)]
    pub timestamp: TimestampArg,
    /// Stop after this many seconds of wall time (default: until Ctrl-C).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Show the bar view even when stdout is not a terminal.
    #[arg(long)]
    pub bars: bool,
    /// Pipeline configuration (TOML).
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Local mains frequency notched out of EMG: 50, 60 or off (default:
    /// the config file's, else 50).
    #[arg(long, value_name = "50|60|off", value_parser = parse_mains)]
    pub mains: Option<MainsArg>,
}

fn protocol(args: &MonitorArgs) -> CliResult<Protocol> {
    match args.protocol {
        ProtocolArg::Levator => Ok(Protocol::Binary),
        ProtocolArg::Cyton => Ok(Protocol::Cyton(CytonConfig::default())),
        ProtocolArg::Ascii => {
            let rate = args
                .rate
                .ok_or_else(|| CliError::new("--protocol ascii needs --rate HZ"))?;
            let cols = args.columns.as_deref().ok_or_else(|| {
                CliError::new("--protocol ascii needs --columns, e.g. pelvic_pressure_cmh2o")
            })?;
            let mut columns = Vec::new();
            for c in cols.split(',').map(str::trim) {
                if c == "-" {
                    columns.push(None);
                    continue;
                }
                let (role, unit) = Role::parse_column(c).ok_or_else(|| {
                    CliError::new(format!(
                        "--columns: `{c}` is not <role>_<unit> (e.g. pelvic_emg_uv, abdominal_pressure_mmhg)"
                    ))
                })?;
                columns.push(Some(AsciiColumn::new(role, unit)));
            }
            let mut config = AsciiConfig::new(rate, &columns)
                .map_err(|e| CliError::new(format!("ascii format: {e}")))?;
            let unit = match args.timestamp {
                TimestampArg::None => None,
                TimestampArg::S => Some(TimestampUnit::Seconds),
                TimestampArg::Ms => Some(TimestampUnit::Milliseconds),
                TimestampArg::Us => Some(TimestampUnit::Microseconds),
            };
            if let Some(u) = unit {
                config = config.with_timestamp(u);
            }
            Ok(Protocol::Ascii(config))
        }
    }
}

/// Width of a bar in characters.
const BAR: usize = 32;
/// Stream time between two bar lines (s).
const BAR_EVERY_S: f64 = 0.25;

/// One channel's bar: the level against its resting band (`░`), the
/// activity threshold (`┊`) and a scale that follows the largest level seen.
#[derive(Debug, Default)]
struct BarScale {
    max: f64,
}

impl BarScale {
    fn render(&mut self, level: f64, band: &Band) -> String {
        let lo = band.band_lo.min(0.0);
        self.max = self
            .max
            .max(level)
            .max(band.on * 1.5)
            .max(band.band_hi + 1e-9);
        let hi = self.max;
        let span = (hi - lo).max(1e-9);
        let cell = |i: usize| lo + (i as f64 + 0.5) / BAR as f64 * span;
        let on_cell = (((band.on - lo) / span) * BAR as f64) as usize;
        (0..BAR)
            .map(|i| {
                let v = cell(i);
                if v <= level {
                    '█'
                } else if i == on_cell {
                    '┊'
                } else if v >= band.band_lo && v <= band.band_hi {
                    '░'
                } else {
                    ' '
                }
            })
            .collect()
    }
}

fn unit_of(role: Role) -> &'static str {
    if role.is_emg() {
        "µV"
    } else if role.is_pressure() {
        "cmH2O"
    } else if role == Role::ProbeMotion {
        "g"
    } else {
        "au"
    }
}

fn notice_text(n: &Notice) -> String {
    match n {
        Notice::Decode(e) => format!("decode: {e}"),
        Notice::Marker { index, code, value } => {
            format!("device marker {code} = {value} at sample {index}")
        }
        Notice::DeviceError { code, detail } => format!("device error {code} (detail {detail})"),
        Notice::Reconnected { attempt } => format!("reconnected (attempt {attempt})"),
    }
}

/// Prints the serial ports found on this machine.
fn list_ports() -> CliResult<()> {
    let ports = levator_serial::port::list_ports().map_err(|e| CliError::new(e.to_string()))?;
    let mut out = io::stdout().lock();
    if ports.is_empty() {
        write_ok(writeln!(out, "no serial ports found"))?;
    }
    for p in ports {
        let kind = match p.kind {
            PortKind::Usb {
                vid,
                pid,
                manufacturer,
                product,
                ..
            } => format!(
                "USB {vid:04x}:{pid:04x} {} {}",
                manufacturer.unwrap_or_default(),
                product.unwrap_or_default()
            ),
            PortKind::Bluetooth => "Bluetooth".into(),
            PortKind::Pci => "built-in UART".into(),
            _ => "unknown kind".into(),
        };
        if !write_ok(writeln!(out, "{:<24} {}", p.name, kind.trim()))? {
            break;
        }
    }
    Ok(())
}

/// Runs `monitor`.
pub fn monitor(args: &MonitorArgs) -> CliResult<()> {
    if args.list_ports {
        return list_ports();
    }
    let port = args
        .port
        .clone()
        .ok_or_else(|| CliError::new("--port PATH is required"))?;
    let config = UserConfig::load(args.config.as_deref(), args.mains)?.for_recording(None);
    let stop = stop_flag()?;
    stop_after(&stop, args.duration)?;
    let proto = protocol(args)?;
    let mut src = SerialSource::open(&port, proto, SerialConfig::default().baud(args.baud))
        .map_err(|e| CliError::new(e.to_string()))?;
    let spec = src.spec();
    let mut pipeline =
        Pipeline::new(spec, config).map_err(|e| CliError::new(format!("{}: {e}", port)))?;
    let table = args.format == EventFormat::Table;
    let bars = table && (args.bars || io::stdout().is_terminal());
    let stdout = io::stdout();
    let mut out = io::LineWriter::new(stdout.lock());
    let mut printer = EventPrinter::new(args.format);
    let style: Style = printer.style();
    let pelvic = pipeline.pelvic_role();
    let push = pipeline.push_role();
    if table {
        let chans: Vec<String> = spec.channels().iter().map(|c| c.role.to_string()).collect();
        let head = format!(
            "monitoring {} ({}, {} Hz: {}); Ctrl-C for the summary",
            port,
            args.protocol.name(),
            spec.rate_hz(),
            chans.join(", ")
        );
        write_ok(writeln!(out, "{}", style.bold(&head)))?;
        if bars {
            write_ok(writeln!(
                out,
                "{}",
                style.dim("  bars: █ level, ░ resting band, ┊ activity threshold")
            ))?;
        }
    }
    let mut summary = Summary::new(pelvic, spec.rate_hz());
    let mut scales = [BarScale::default(), BarScale::default()];
    let mut next_bar = 0.0;
    let mut events: Vec<Event> = Vec::new();
    let mut warnings = 0u64;
    let mut frames = 0u64;
    let mut failure = None;
    let mut open = true;
    while open && !stop.load(Ordering::SeqCst) {
        let item = match src.next_item() {
            Ok(Some(i)) => i,
            Ok(None) => break,
            Err(e) => {
                failure = Some(e.to_string());
                break;
            }
        };
        for n in src.take_notices() {
            warnings += 1;
            if warnings <= 20 {
                eprintln!("levator: warning: {}: {}", port, notice_text(&n));
            }
        }
        events.clear();
        pipeline.push_item(&item, &mut |e: Event| events.push(e));
        if matches!(item, SourceItem::Frame(_)) {
            frames += 1;
        }
        let snap = pipeline.snapshot();
        summary.step(&events, &snap);
        for e in &events {
            open &= write_ok(printer.event(&mut out, e))?;
        }
        if bars && snap.t_s >= next_bar {
            next_bar = snap.t_s + BAR_EVERY_S;
            let mut line = format!("{:>8.2}s ", snap.t_s);
            for (i, (role, view)) in [(pelvic, snap.pelvic), (push, snap.push)]
                .into_iter()
                .enumerate()
            {
                let Some(role) = role else { continue };
                match view {
                    Some((level, band)) => line.push_str(&format!(
                        " {:<18} {} {:>7.1} {}",
                        role.name(),
                        scales[i].render(level, &band),
                        level,
                        unit_of(role)
                    )),
                    None => line.push_str(&format!(" {:<18} (calibrating rest)", role.name())),
                }
            }
            open &= write_ok(printer.note(&mut out, &line))?;
        }
    }
    events.clear();
    pipeline.finish(&mut |e: Event| events.push(e));
    let snap = pipeline.snapshot();
    summary.step(&events, &snap);
    for e in &events {
        write_ok(printer.event(&mut out, e))?;
    }
    let stats = src.stats();
    if warnings > 20 {
        eprintln!("levator: warning: {} more notices not shown", warnings - 20);
    }
    if table {
        let mut lines = vec![String::new(), style.bold("summary")];
        lines.push(format!(
            "  link                   {frames} frames ({:.1} s), {} bytes, {} skipped, {} CRC / {} footer failures, {} rejected, {} samples lost, {} reconnects",
            frames as f64 / spec.rate_hz(),
            stats.decode.bytes_in,
            stats.decode.bytes_skipped,
            stats.decode.crc_failures,
            stats.decode.footer_failures,
            stats.decode.rejected,
            stats.decode.samples_lost + stats.overflow_samples,
            stats.reconnects
        ));
        lines.extend(summary.render(&style));
        for l in lines {
            if !write_ok(writeln!(out, "{l}"))? {
                break;
            }
        }
    }
    write_ok(out.flush())?;
    drop(out);
    // Closing stops the reader thread (and a Cyton's stream).
    let _ = src.close();
    match failure {
        // A device that goes away after Ctrl-C is not a failure.
        Some(e) if !stop.load(Ordering::SeqCst) => Err(CliError::new(format!("{}: {e}", port))),
        _ => Ok(()),
    }
}
