//! # levator-sim
//!
//! A pelvic-floor device simulator with exact ground truth, the
//! `levator-csv v1` recording format, replay of recordings as live
//! streams, and a virtual serial probe on a pseudo-terminal.
//!
//! ```text
//! scenario (TOML) ──▶ model (subject) ──▶ sensors (device) ──frames──▶ SampleSource
//!                         │                                   └──▶ csv::CsvWriter
//!                         └──▶ truth: Vec<Event>  ──▶ NAME.truth.jsonl
//! ```
//!
//! - [`scenario`]: what the person does (built-ins and a TOML format).
//! - [`subject`]: how the person's pelvic floor behaves (profiles).
//! - [`device`]: what the probe measures (channels, rate, noise, ADC).
//! - [`model`]: the physiology and the ground truth.
//! - [`Simulator`]: frames one by one, as an [`Iterator`] and a
//!   [`levator_core::stream::SampleSource`].
//! - [`csv`]: levator-csv v1 writer and streaming reader.
//! - [`replay`]: any recording as a paced live source (speed, seek, loop).
//! - [`virtual_device`]: a probe on a pseudo-terminal speaking levator
//!   binary frames, ASCII lines or OpenBCI Cyton, with injected faults.
//! - [`fixtures`]: the committed fixture set and how to re-render it.
//!
//! Same scenario + profiles + seed = byte-identical output on every
//! machine: one seeded xoshiro256++ per random stream ([`rng`]) and `libm`
//! for all transcendental math.
//!
//! ```
//! use levator_sim::Simulator;
//! use levator_core::event::EventKind;
//!
//! let mut sim = Simulator::from_names("quick_flicks", "healthy", "emg-probe", 42).unwrap();
//! let flicks = sim.truth().iter()
//!     .filter(|e| e.kind == EventKind::Contraction && e.is_onset())
//!     .count();
//! assert_eq!(flicks, 10);
//! let frame = sim.next().unwrap();          // one frame per call, nothing buffered
//! assert_eq!(frame.len(), 2);                // pelvic_emg, abdominal_emg (µV)
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod csv;
pub mod device;
pub mod fixtures;
pub mod import;
pub mod model;
pub mod replay;
pub mod rng;
pub mod scenario;
pub mod signal;
pub mod simulator;
pub mod subject;
pub mod virtual_device;

pub use device::{Device, DeviceKind};
pub use scenario::Scenario;
pub use simulator::{SimConfig, Simulator};
pub use subject::{Subject, SubjectKind};

/// Any error of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario could not be loaded.
    #[error(transparent)]
    Scenario(#[from] scenario::ScenarioError),
    /// A device configuration is invalid.
    #[error(transparent)]
    Device(#[from] device::DeviceError),
    /// No subject profile of that name.
    #[error("unknown subject profile {0:?} (known: healthy, hypotonic, hypertonic, dyssynergic, accessory, breath_holding)")]
    UnknownSubject(String),
    /// No device profile of that name.
    #[error("unknown device profile {0:?} (known: emg-probe, emg-probe-2000, pressure-trainer, pressure-trainer-100, two-sensor-trainer, manometry, cyton)")]
    UnknownDevice(String),
    /// Reading or writing failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes a whole simulation: the levator-csv recording to `csv_out`, the
/// ground truth as JSON lines to `truth_out` (streaming: one frame in
/// memory at a time). `with_time` adds the `t_s` column. Returns the number
/// of frames written.
///
/// ```
/// use levator_sim::{render_recording, Simulator};
/// let mut sim = Simulator::from_names("bearing_down", "healthy", "manometry", 1).unwrap();
/// let (mut csv, mut truth) = (Vec::new(), Vec::new());
/// let n = render_recording(&mut sim, &mut csv, &mut truth, true).unwrap();
/// let text = String::from_utf8(csv).unwrap();
/// assert!(text.starts_with("# levator-csv v1\n# rate_hz=10\n# device=manometry subject=healthy seed=1"));
/// assert!(text.contains("\nt_s,abdominal_pressure_mmhg,pelvic_pressure_mmhg\n"));
/// assert_eq!(text.lines().count() as u64, 4 + n);
/// assert_eq!(String::from_utf8(truth).unwrap().lines().count(), sim.truth().len());
/// ```
pub fn render_recording<W: std::io::Write, T: std::io::Write>(
    sim: &mut Simulator,
    csv_out: W,
    truth_out: T,
    with_time: bool,
) -> Result<u64, Error> {
    let mut w = csv::CsvWriter::new(csv_out, &sim.spec(), &sim.config().describe(), with_time)?;
    let mut n = 0;
    for frame in sim.by_ref() {
        w.write_frame(&frame)?;
        n += 1;
    }
    w.finish()?;
    csv::write_events(truth_out, sim.truth())?;
    Ok(n)
}

/// Writes a whole simulation as `<stem>.csv` and `<stem>.truth.jsonl`
/// (see [`render_recording`]). Returns the number of frames written.
///
/// ```no_run
/// use levator_sim::{write_recording, Simulator};
/// let mut sim = Simulator::from_names("glazer", "healthy", "emg-probe", 1).unwrap();
/// let n = write_recording(&mut sim, std::path::Path::new("out/glazer"), true).unwrap();
/// assert_eq!(n, sim.total_samples());
/// ```
pub fn write_recording(
    sim: &mut Simulator,
    stem: &std::path::Path,
    with_time: bool,
) -> Result<u64, Error> {
    use std::io::BufWriter;
    let mut csv_path = stem.as_os_str().to_owned();
    csv_path.push(".csv");
    let mut truth_path = stem.as_os_str().to_owned();
    truth_path.push(".truth.jsonl");
    let csv_file = BufWriter::new(std::fs::File::create(&csv_path)?);
    let truth_file = BufWriter::new(std::fs::File::create(&truth_path)?);
    render_recording(sim, csv_file, truth_file, with_time)
}
