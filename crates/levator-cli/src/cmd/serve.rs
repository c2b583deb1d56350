//! `levator serve`: the virtual serial probe. A simulated session streams
//! in real time over a pseudo-terminal in one of the three wire protocols
//! until interrupted.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use levator_core::stream::StreamSpec;
use levator_sim::replay::{Pacing, Replay, SystemClock, MAX_SPEED, MIN_SPEED};
use levator_sim::virtual_device::{Faults, VirtualDevice, WireProtocol};
use levator_sim::{SimConfig, Simulator};

use crate::error::{CliError, CliResult};

/// `--protocol` of `serve` and `monitor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ProtocolArg {
    /// levator binary frames v1 (stream header announced by the device).
    Levator,
    /// ASCII lines, one sample per line.
    Ascii,
    /// OpenBCI Cyton packets (250 Hz, `b`/`s` commands).
    Cyton,
}

impl ProtocolArg {
    fn wire(self) -> WireProtocol {
        match self {
            ProtocolArg::Levator => WireProtocol::Binary,
            ProtocolArg::Ascii => WireProtocol::Ascii,
            ProtocolArg::Cyton => WireProtocol::Cyton,
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ProtocolArg::Levator => "levator",
            ProtocolArg::Ascii => "ascii",
            ProtocolArg::Cyton => "cyton",
        }
    }
}

/// Options of `levator serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Built-in scenario or scenario TOML file (looped).
    #[arg(long, default_value = "demo")]
    pub scenario: String,
    /// Subject profile.
    #[arg(long, default_value = "healthy")]
    pub subject: String,
    /// Device profile (default: `cyton` for the Cyton protocol, else `emg-probe`).
    #[arg(long)]
    pub device: Option<String>,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Wire protocol.
    #[arg(long, value_enum, default_value_t = ProtocolArg::Levator)]
    pub protocol: ProtocolArg,
    /// Speed factor over real time (0.5 to 100).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Play the scenario once instead of looping it.
    #[arg(long)]
    pub once: bool,
    /// Stop after this many seconds of wall time.
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Fault injection: probability that a packet / line is dropped.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub drop_prob: f64,
    /// Fault injection: probability that a packet / line is corrupted.
    #[arg(long, default_value_t = 0.0, value_name = "P")]
    pub corrupt_prob: f64,
    /// Fault injection: close the port after this many seconds of stream time.
    #[arg(long, value_name = "SECONDS")]
    pub disconnect_after: Option<f64>,
}

/// Installs SIGINT/SIGTERM handlers that set the returned flag (so a
/// Ctrl-C ends the run cleanly instead of killing the process).
pub fn stop_flag() -> CliResult<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&flag))
            .map_err(|e| CliError::new(format!("cannot install signal handler: {e}")))?;
    }
    Ok(flag)
}

/// Sets `flag` after `seconds` of wall time (checked every 50 ms).
pub fn stop_after(flag: &Arc<AtomicBool>, seconds: Option<f64>) -> CliResult<()> {
    let Some(s) = seconds else { return Ok(()) };
    if !(s.is_finite() && s > 0.0) {
        return Err(CliError::new(format!(
            "--duration {s}: must be a positive number"
        )));
    }
    let flag = Arc::clone(flag);
    let deadline = Instant::now() + Duration::from_secs_f64(s);
    std::thread::spawn(move || {
        while Instant::now() < deadline && !flag.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
        flag.store(true, Ordering::SeqCst);
    });
    Ok(())
}

/// The `levator monitor` arguments a host needs for this stream.
pub fn monitor_hint(path: &str, protocol: ProtocolArg, spec: &StreamSpec) -> String {
    match protocol {
        ProtocolArg::Ascii => {
            let cols: Vec<String> = spec
                .channels()
                .iter()
                .map(|c| format!("{}_{}", c.role.name(), c.unit.suffix()))
                .collect();
            format!(
                "levator monitor --port {path} --protocol ascii --rate {} --columns {} --timestamp ms",
                spec.rate_hz(),
                cols.join(",")
            )
        }
        p => format!("levator monitor --port {path} --protocol {}", p.name()),
    }
}

/// Runs `serve`.
pub fn serve(args: &ServeArgs) -> CliResult<()> {
    if !(MIN_SPEED..=MAX_SPEED).contains(&args.speed) {
        return Err(CliError::new(format!(
            "--speed {}: must be between {MIN_SPEED} and {MAX_SPEED}",
            args.speed
        )));
    }
    let device = args.device.clone().unwrap_or_else(|| {
        match args.protocol {
            ProtocolArg::Cyton => "cyton",
            _ => "emg-probe",
        }
        .to_string()
    });
    let config = SimConfig::from_names(&args.scenario, &args.subject, &device, args.seed)
        .map_err(|e| CliError::new(e.to_string()))?;
    let sim = Simulator::new(&config).map_err(|e| CliError::new(e.to_string()))?;
    let spec = sim.spec();
    let pacing = if args.speed == 1.0 {
        Pacing::RealTime
    } else {
        Pacing::Speed(args.speed)
    };
    let replay = Replay::new(sim, SystemClock::new(), pacing)
        .map_err(|e| CliError::new(e.to_string()))?
        .looping(!args.once);
    let dev = VirtualDevice::open().map_err(|e| CliError::new(format!("virtual device: {e}")))?;
    let path = dev.path().to_string();
    let stop = stop_flag()?;
    stop_after(&stop, args.duration)?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{path}")
            .and_then(|_| out.flush())
            .map_err(|e| CliError::new(format!("writing to stdout: {e}")))?;
    }
    eprintln!(
        "levator: serving `{}` ({} subject, {}) in the {} protocol on {path}; Ctrl-C to stop",
        config.scenario.name,
        config.subject.name(),
        config.device.kind.name(),
        args.protocol.name()
    );
    eprintln!(
        "levator: read it with: {}",
        monitor_hint(&path, args.protocol, &spec)
    );
    let faults = Faults {
        drop_prob: args.drop_prob,
        corrupt_prob: args.corrupt_prob,
        disconnect_after_s: args.disconnect_after,
        seed: args.seed,
        ..Faults::default()
    };
    let stats = dev
        .serve(replay, args.protocol.wire(), faults, &stop)
        .map_err(|e| CliError::new(format!("virtual device: {e}")))?;
    eprintln!(
        "levator: stopped after {} samples ({stats:?})",
        stats.samples
    );
    Ok(())
}
