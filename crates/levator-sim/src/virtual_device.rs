//! A virtual serial probe on a pseudo-terminal.
//!
//! [`VirtualDevice::open`] creates a pseudo-terminal pair and reports the
//! path of its device end (`/dev/pts/N`); any program opens that path like
//! a USB serial probe. [`VirtualDevice::serve`] (blocking) or
//! [`VirtualDevice::spawn`] (own thread) then streams any
//! [`SampleSource`] (a [`crate::Simulator`], or a [`crate::replay::Replay`]
//! for real-time pacing of a scenario or a recording) over it in one of
//! the three wire protocols of `levator-serial`:
//!
//! - [`WireProtocol::Binary`]: levator binary frames v1: a stream header
//!   first and about once a second, data frames of ~10 ms of samples,
//!   every channel as i24 (EMG 0.01 µV, pressure 0.01 of its unit, motion
//!   0.0001 g, respiration 0.001 per count).
//! - [`WireProtocol::Ascii`]: one line per sample, a millisecond timestamp
//!   then the channels in their units.
//! - [`WireProtocol::Cyton`]: an OpenBCI Cyton: silent until the host
//!   sends `b`; answers `v` (board info ending in `$$$`), `d` and channel
//!   setting commands, stops on `s`; 33-byte packets at 250 Hz with the
//!   pelvic EMG on channel 1 and the abdominal EMG on channel 2.
//!
//! [`Faults`] injects what real links do, each visible to a correct host:
//! dropped packets (the sample index / timestamp / counter jumps),
//! corrupted bytes (binary: one byte flipped, caught by the CRC; ASCII: a
//! byte replaced by `?`, an unparsable line; Cyton: the footer byte
//! destroyed, a framing error), stalls (nothing sent for a while) and a
//! disconnect (the device end closes). Fault decisions come from a seeded
//! generator, so a fault pattern is reproducible.
//!
//! Bytes written before a host opens the port wait in the kernel's
//! pseudo-terminal buffer (a few kB); when it is full the device waits
//! for the host (nothing is dropped that is not an injected fault).

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use levator_core::stream::{Frame, Role, SampleSource, SourceItem, StreamSpec, Unit};
use levator_serial::protocol::ascii::{AsciiColumn, AsciiConfig, AsciiEncoder, TimestampUnit};
use levator_serial::protocol::binary::{ChannelFormat, Encoder, SampleFormat, StreamHeader};
use levator_serial::protocol::cyton::{self, command, CytonEncoder, Gain};
use serialport::{SerialPort, TTYPort};

use crate::rng::Rng;

/// The wire protocol the device speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireProtocol {
    /// levator binary frames v1.
    Binary,
    /// ASCII lines with a millisecond timestamp.
    Ascii,
    /// OpenBCI Cyton packets and commands.
    Cyton,
}

impl WireProtocol {
    /// Parses `binary`, `ascii` or `cyton`.
    pub fn from_name(name: &str) -> Option<WireProtocol> {
        match name {
            "binary" | "levator" => Some(WireProtocol::Binary),
            "ascii" => Some(WireProtocol::Ascii),
            "cyton" | "openbci" => Some(WireProtocol::Cyton),
            _ => None,
        }
    }

    /// The name accepted by [`WireProtocol::from_name`].
    pub const fn name(self) -> &'static str {
        match self {
            WireProtocol::Binary => "binary",
            WireProtocol::Ascii => "ascii",
            WireProtocol::Cyton => "cyton",
        }
    }
}

/// Faults to inject. All off by default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Faults {
    /// Probability that a packet (binary data frame, ASCII line, Cyton
    /// packet) is corrupted.
    pub corrupt_prob: f64,
    /// Probability that a packet is dropped.
    pub drop_prob: f64,
    /// A stall of [`Faults::stall_s`] every this many seconds of stream time.
    pub stall_every_s: Option<f64>,
    /// Length of each stall (wall-clock seconds).
    pub stall_s: f64,
    /// Close the port after this many seconds of stream time.
    pub disconnect_after_s: Option<f64>,
    /// Seed of the fault decisions.
    pub seed: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            corrupt_prob: 0.0,
            drop_prob: 0.0,
            stall_every_s: None,
            stall_s: 0.0,
            disconnect_after_s: None,
            seed: 0,
        }
    }
}

impl Faults {
    fn validate(&self) -> Result<(), VirtualError> {
        let p = |x: f64| x.is_finite() && (0.0..=1.0).contains(&x);
        let pos = |x: Option<f64>| match x {
            None => true,
            Some(x) => x.is_finite() && x > 0.0,
        };
        if !(p(self.corrupt_prob)
            && p(self.drop_prob)
            && pos(self.stall_every_s)
            && pos(self.disconnect_after_s)
            && self.stall_s.is_finite()
            && self.stall_s >= 0.0)
        {
            return Err(VirtualError::Faults);
        }
        Ok(())
    }
}

/// What the device did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceStats {
    /// Samples taken from the source.
    pub samples: u64,
    /// Samples in packets that were sent intact.
    pub samples_sent: u64,
    /// Packets written (including corrupted ones).
    pub packets_sent: u64,
    /// Packets dropped on purpose.
    pub packets_dropped: u64,
    /// Samples in dropped packets.
    pub samples_dropped: u64,
    /// Packets corrupted on purpose.
    pub packets_corrupted: u64,
    /// Samples in corrupted packets.
    pub samples_corrupted: u64,
    /// Stalls performed.
    pub stalls: u64,
    /// Whether the device closed the port as a disconnect fault.
    pub disconnected: bool,
    /// Gaps the source itself reported (not sent; the wire shows the jump).
    pub source_gaps: u64,
    /// Host commands received (Cyton).
    pub commands: u64,
}

/// Why the virtual device failed.
#[derive(Debug, thiserror::Error)]
pub enum VirtualError {
    /// The pseudo-terminal could not be created or has no name.
    #[error("cannot create a pseudo-terminal: {0}")]
    Pty(#[from] serialport::Error),
    /// Writing to or reading from the port failed.
    #[error("pseudo-terminal i/o: {0}")]
    Io(#[from] io::Error),
    /// The stream cannot be expressed in this protocol.
    #[error("{protocol} cannot carry this stream: {problem}")]
    Unsupported {
        /// The protocol.
        protocol: &'static str,
        /// Why not.
        problem: String,
    },
    /// A fault probability or time is out of range.
    #[error("fault settings out of range (probabilities 0..=1, times > 0)")]
    Faults,
    /// The source failed.
    #[error("source: {0}")]
    Source(String),
    /// The device thread panicked.
    #[error("virtual device thread panicked")]
    Thread,
}

/// A pseudo-terminal whose device end plays a probe.
#[derive(Debug)]
pub struct VirtualDevice {
    master: TTYPort,
    /// Our own handle on the device end, never read: its input queue
    /// (shared by every opener) tells how much the host has not read yet.
    slave: TTYPort,
    path: String,
}

/// Binary error-frame code the device sends when its source lost samples
/// (detail = how many).
pub const ERROR_SOURCE_GAP: u16 = 1;

/// Write timeout slice: how often a blocked write checks the stop flag.
const WRITE_SLICE: Duration = Duration::from_millis(50);

impl VirtualDevice {
    /// Creates the pseudo-terminal pair.
    ///
    /// ```no_run
    /// let dev = levator_sim::virtual_device::VirtualDevice::open().unwrap();
    /// println!("probe at {}", dev.path());
    /// ```
    pub fn open() -> Result<VirtualDevice, VirtualError> {
        let (mut master, slave) = TTYPort::pair()?;
        let path = slave.name().ok_or_else(|| {
            VirtualError::Pty(serialport::Error::new(
                serialport::ErrorKind::NoDevice,
                "pseudo-terminal has no name",
            ))
        })?;
        master.set_timeout(WRITE_SLICE)?;
        Ok(VirtualDevice {
            master,
            slave,
            path,
        })
    }

    /// Path of the device end (what a host opens), e.g. `/dev/pts/3`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Streams `source` until it ends, `stop` is set, or a disconnect fault;
    /// then closes the port (the host sees the device go away).
    pub fn serve<S: SampleSource>(
        mut self,
        mut source: S,
        protocol: WireProtocol,
        faults: Faults,
        stop: &AtomicBool,
    ) -> Result<DeviceStats, VirtualError> {
        faults.validate()?;
        let spec = source.spec();
        let mut wire = Wire::new(protocol, &spec)?;
        let mut link = Link {
            port: &mut self.master,
            stop,
            faults,
            rng: Rng::derived(faults.seed, "faults"),
            stats: DeviceStats::default(),
            streaming: protocol != WireProtocol::Cyton,
            cmd: Vec::new(),
        };
        let rate = spec.rate_hz();
        let mut next_stall = faults.stall_every_s;
        let mut index = 0u64;
        while !stop.load(Ordering::SeqCst) {
            link.poll_commands(&mut wire)?;
            if !link.streaming {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            let t = index as f64 / rate;
            if let Some(d) = faults.disconnect_after_s {
                if t >= d {
                    link.stats.disconnected = true;
                    break;
                }
            }
            if let Some(s) = next_stall {
                if t >= s {
                    link.stats.stalls += 1;
                    let d = Duration::try_from_secs_f64(faults.stall_s).unwrap_or(Duration::MAX);
                    sleep_checking(d, stop);
                    next_stall = Some(s + faults.stall_every_s.unwrap_or(f64::INFINITY));
                }
            }
            let item = source
                .next_item()
                .map_err(|e| VirtualError::Source(e.to_string()))?;
            match item {
                None => break,
                Some(SourceItem::Gap { lost, .. }) => {
                    link.stats.source_gaps += 1;
                    wire.skip(lost, &mut link)?;
                    index += lost;
                }
                Some(SourceItem::Frame(f)) => {
                    link.stats.samples += 1;
                    index = f.index + 1;
                    wire.push(&f, &mut link)?;
                }
            }
        }
        if !link.stats.disconnected {
            wire.flush(&mut link)?;
        }
        let stats = link.stats;
        // Closing the pseudo-terminal discards what the host has not read
        // yet, so wait (bounded) until it has read everything sent.
        drain(&self.slave, stop);
        // Dropping the master hangs up the device end: the host sees EOF.
        drop(self);
        Ok(stats)
    }

    /// Runs [`VirtualDevice::serve`] on its own thread.
    pub fn spawn<S: SampleSource + Send + 'static>(
        self,
        source: S,
        protocol: WireProtocol,
        faults: Faults,
    ) -> RunningDevice {
        let stop = Arc::new(AtomicBool::new(false));
        let path = self.path.clone();
        let flag = Arc::clone(&stop);
        let handle = std::thread::spawn(move || self.serve(source, protocol, faults, &flag));
        RunningDevice { path, stop, handle }
    }
}

/// A virtual device streaming on its own thread.
#[derive(Debug)]
pub struct RunningDevice {
    path: String,
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Result<DeviceStats, VirtualError>>,
}

impl RunningDevice {
    /// Path of the device end.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether the device has finished (source ended, stopped or disconnected).
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Asks the device to stop and waits for it.
    pub fn stop(self) -> Result<DeviceStats, VirtualError> {
        self.stop.store(true, Ordering::SeqCst);
        self.join()
    }

    /// Waits until the device finishes on its own.
    pub fn join(self) -> Result<DeviceStats, VirtualError> {
        self.handle.join().map_err(|_| VirtualError::Thread)?
    }
}

/// Waits until the device end's input queue stays empty (host read
/// everything), at most [`DRAIN_LIMIT`] or until `stop`.
fn drain(slave: &TTYPort, stop: &AtomicBool) {
    let end = Instant::now() + DRAIN_LIMIT;
    let mut empty_polls = 0;
    while empty_polls < 3 && Instant::now() < end && !stop.load(Ordering::SeqCst) {
        match slave.bytes_to_read() {
            Ok(0) => empty_polls += 1,
            Ok(_) => empty_polls = 0,
            Err(_) => return,
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Longest wait for the host to read the tail of the stream before closing.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

fn sleep_checking(d: Duration, stop: &AtomicBool) {
    let now = Instant::now();
    let end = now
        .checked_add(d)
        .unwrap_or(now + Duration::from_secs(86_400 * 365));
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= end {
            break;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(20)));
    }
}

/// The port plus fault injection and statistics.
struct Link<'a> {
    port: &'a mut TTYPort,
    stop: &'a AtomicBool,
    faults: Faults,
    rng: Rng,
    stats: DeviceStats,
    streaming: bool,
    cmd: Vec<u8>,
}

impl Link<'_> {
    /// Writes all of `bytes`, waiting (in slices, watching `stop`) while
    /// the host does not read.
    fn write_raw(&mut self, mut bytes: &[u8]) -> Result<(), VirtualError> {
        while !bytes.is_empty() {
            if self.stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            match self.port.write(bytes) {
                Ok(0) => return Err(VirtualError::Io(io::ErrorKind::WriteZero.into())),
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(VirtualError::Io(e)),
            }
        }
        Ok(())
    }

    /// Sends one packet carrying `samples` samples, applying drop/corrupt
    /// faults. `corrupt` damages the packet in a way the protocol detects.
    fn send_packet(
        &mut self,
        bytes: &mut [u8],
        samples: u64,
        corrupt: fn(&mut [u8], &mut Rng),
    ) -> Result<(), VirtualError> {
        if self.faults.drop_prob > 0.0 && self.rng.chance(self.faults.drop_prob) {
            self.stats.packets_dropped += 1;
            self.stats.samples_dropped += samples;
            return Ok(());
        }
        if self.faults.corrupt_prob > 0.0 && self.rng.chance(self.faults.corrupt_prob) {
            corrupt(bytes, &mut self.rng);
            self.stats.packets_corrupted += 1;
            self.stats.samples_corrupted += samples;
        } else {
            self.stats.samples_sent += samples;
        }
        self.stats.packets_sent += 1;
        self.write_raw(bytes)
    }

    /// Reads host bytes without blocking (Cyton commands; other protocols
    /// ignore what the host sends).
    fn poll_commands(&mut self, wire: &mut Wire) -> Result<(), VirtualError> {
        let Wire::Cyton { enc, .. } = wire else {
            return Ok(());
        };
        // An error here means no host has the port open yet.
        let waiting = self.port.bytes_to_read().unwrap_or_default();
        if waiting == 0 {
            return Ok(());
        }
        let mut buf = [0u8; 64];
        let n = match self.port.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => 0,
            Err(e) => return Err(VirtualError::Io(e)),
        };
        for &b in &buf[..n] {
            if !self.cmd.is_empty() {
                // Inside a channel setting command `x N P G I B S2 S1 X`.
                self.cmd.push(b);
                if b == b'X' || self.cmd.len() >= 9 {
                    let cmd = std::mem::take(&mut self.cmd);
                    self.stats.commands += 1;
                    match command::parse_channel_settings(&cmd) {
                        Ok((ch, s)) => {
                            enc.set_gain(usize::from(ch) - 1, s.gain);
                            let reply = format!("Success: Channel set for {ch}$$$");
                            self.write_raw(reply.as_bytes())?;
                        }
                        Err(_) => self.write_raw(b"Failure: too few chars$$$")?,
                    }
                }
                continue;
            }
            match b {
                command::RESET => {
                    self.stats.commands += 1;
                    self.streaming = false;
                    self.write_raw(
                        b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\n\
                          LIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$",
                    )?;
                }
                command::DEFAULTS => {
                    self.stats.commands += 1;
                    *enc = CytonEncoder::new([Gain::X24; cyton::CHANNELS]);
                    self.write_raw(b"updating channel settings to default$$$")?;
                }
                command::START => {
                    self.stats.commands += 1;
                    self.streaming = true;
                }
                command::STOP => {
                    self.stats.commands += 1;
                    self.streaming = false;
                }
                b'x' => self.cmd.push(b),
                _ => {}
            }
        }
        Ok(())
    }
}

fn corrupt_binary(bytes: &mut [u8], rng: &mut Rng) {
    // Flip one bit pattern in one byte after the sync word: CRC-16 catches
    // every single-byte error.
    let len = bytes.len();
    if len > 2 {
        let i = 2 + (rng.next_u64() % (len as u64 - 2)) as usize;
        bytes[i] ^= 1 + (rng.next_u64() % 255) as u8;
    }
}

fn corrupt_ascii(bytes: &mut [u8], rng: &mut Rng) {
    // Replace one character (not the line end) by '?': the line no longer
    // parses.
    let body = bytes
        .iter()
        .take_while(|b| **b != b'\r' && **b != b'\n')
        .count();
    if body > 0 {
        let i = (rng.next_u64() % body as u64) as usize;
        bytes[i] = b'?';
    }
}

fn corrupt_cyton(bytes: &mut [u8], _rng: &mut Rng) {
    // The packet has no checksum: damage its framing (footer), which a
    // host detects.
    if let Some(last) = bytes.last_mut() {
        *last = 0x00;
    }
}

/// Protocol state.
enum Wire {
    Binary {
        enc: Encoder,
        batch: Vec<f64>,
        per_frame: usize,
        channels: usize,
        since_header: u64,
        header_every: u64,
    },
    Ascii {
        enc: Box<AsciiEncoder>,
    },
    Cyton {
        enc: CytonEncoder,
        slots: [Option<usize>; cyton::CHANNELS],
    },
}

/// The ASCII line format the virtual device prints for `spec`: a
/// millisecond timestamp, then every channel in its unit. A host decodes
/// it with the same config.
pub fn ascii_config(spec: &StreamSpec) -> Result<AsciiConfig, VirtualError> {
    let cols: Vec<Option<AsciiColumn>> = spec
        .channels()
        .iter()
        .map(|c| Some(AsciiColumn::new(c.role, c.unit)))
        .collect();
    AsciiConfig::new(spec.rate_hz(), &cols)
        .map(|c| c.with_timestamp(TimestampUnit::Milliseconds))
        .map_err(|e| VirtualError::Unsupported {
            protocol: "ascii",
            problem: e.to_string(),
        })
}

fn i24_scale(role: Role) -> f64 {
    match role {
        Role::PelvicEmg | Role::AbdominalEmg => 0.01,
        Role::PelvicPressure | Role::AbdominalPressure => 0.01,
        Role::ProbeMotion => 0.0001,
        Role::Respiration => 0.001,
    }
}

impl Wire {
    fn new(protocol: WireProtocol, spec: &StreamSpec) -> Result<Wire, VirtualError> {
        let unsupported = |problem: String| VirtualError::Unsupported {
            protocol: protocol.name(),
            problem,
        };
        match protocol {
            WireProtocol::Binary => {
                let formats: Vec<ChannelFormat> = spec
                    .channels()
                    .iter()
                    .map(|c| {
                        ChannelFormat::new(
                            c.role,
                            c.unit,
                            SampleFormat::I24,
                            i24_scale(c.role) as f32,
                            0.0,
                        )
                    })
                    .collect();
                let header = StreamHeader::new(spec.rate_hz(), &formats)
                    .map_err(|e| unsupported(e.to_string()))?;
                let per_frame = ((spec.rate_hz() / 100.0).round() as usize)
                    .clamp(1, header.max_samples_per_frame().max(1));
                Ok(Wire::Binary {
                    enc: Encoder::new(header),
                    batch: Vec::with_capacity(per_frame * spec.len()),
                    per_frame,
                    channels: spec.len(),
                    since_header: u64::MAX,
                    header_every: spec.rate_hz().round().max(1.0) as u64,
                })
            }
            WireProtocol::Ascii => Ok(Wire::Ascii {
                enc: Box::new(AsciiEncoder::new(ascii_config(spec)?)),
            }),
            WireProtocol::Cyton => {
                if spec.rate_hz() != cyton::SAMPLE_RATE_HZ {
                    return Err(unsupported(format!(
                        "the Cyton streams at 250 Hz, the source at {} Hz (use the cyton device profile)",
                        spec.rate_hz()
                    )));
                }
                let mut slots = [None; cyton::CHANNELS];
                slots[0] = spec.channel_index(Role::PelvicEmg);
                slots[1] = spec.channel_index(Role::AbdominalEmg);
                if slots.iter().all(Option::is_none) {
                    return Err(unsupported("no EMG channel".into()));
                }
                if spec
                    .channels()
                    .iter()
                    .any(|c| c.role.is_emg() && c.unit != Unit::Microvolt)
                {
                    return Err(unsupported("EMG not in µV".into()));
                }
                Ok(Wire::Cyton {
                    enc: CytonEncoder::new([Gain::X24; cyton::CHANNELS]),
                    slots,
                })
            }
        }
    }

    /// Accounts for samples the source lost: the wire index jumps (ASCII
    /// timestamp, Cyton counter). The binary encoder numbers samples
    /// itself, so there the pending samples are sent and the loss is
    /// announced with an error frame (code [`ERROR_SOURCE_GAP`], detail =
    /// samples lost).
    fn skip(&mut self, lost: u64, link: &mut Link<'_>) -> Result<(), VirtualError> {
        match self {
            Wire::Binary {
                enc,
                batch,
                channels,
                ..
            } => {
                if !batch.is_empty() {
                    send_binary(enc, batch, *channels, link)?;
                }
                let detail = u32::try_from(lost).unwrap_or(u32::MAX);
                let frame = enc.error_frame(ERROR_SOURCE_GAP, detail);
                link.write_raw(&frame)
            }
            Wire::Ascii { enc } => {
                enc.skip(lost);
                Ok(())
            }
            Wire::Cyton { enc, .. } => {
                enc.skip((lost % 256) as u8);
                Ok(())
            }
        }
    }

    fn push(&mut self, f: &Frame, link: &mut Link<'_>) -> Result<(), VirtualError> {
        match self {
            Wire::Binary {
                enc,
                batch,
                per_frame,
                channels,
                since_header,
                header_every,
            } => {
                if *since_header >= *header_every {
                    let h = enc.header_frame();
                    link.write_raw(&h)?;
                    *since_header = 0;
                }
                batch.extend((0..*channels).map(|c| f.get(c)));
                *since_header += 1;
                if batch.len() >= *per_frame * *channels {
                    send_binary(enc, batch, *channels, link)?;
                }
                Ok(())
            }
            Wire::Ascii { enc } => {
                let mut line = enc
                    .encode(f.values())
                    .map_err(|e| VirtualError::Source(format!("sample {}: {e}", f.index)))?
                    .to_vec();
                link.send_packet(&mut line, 1, corrupt_ascii)
            }
            Wire::Cyton { enc, slots } => {
                let mut uv = [0.0; cyton::CHANNELS];
                for (v, slot) in uv.iter_mut().zip(slots.iter()) {
                    if let Some(i) = slot {
                        *v = f.get(*i);
                    }
                }
                let mut p = enc
                    .packet(&uv, None)
                    .map_err(|e| VirtualError::Source(format!("sample {}: {e}", f.index)))?;
                link.send_packet(&mut p, 1, corrupt_cyton)
            }
        }
    }

    fn flush(&mut self, link: &mut Link<'_>) -> Result<(), VirtualError> {
        if let Wire::Binary {
            enc,
            batch,
            channels,
            ..
        } = self
        {
            if !batch.is_empty() {
                send_binary(enc, batch, *channels, link)?;
            }
        }
        link.port.flush()?;
        Ok(())
    }
}

fn send_binary(
    enc: &mut Encoder,
    batch: &mut Vec<f64>,
    channels: usize,
    link: &mut Link<'_>,
) -> Result<(), VirtualError> {
    let samples = (batch.len() / channels.max(1)) as u64;
    let frame = enc
        .data_frame(batch)
        .map_err(|e| VirtualError::Unsupported {
            protocol: "binary",
            problem: e.to_string(),
        })?;
    batch.clear();
    let mut bytes = frame.to_vec();
    link.send_packet(&mut bytes, samples, corrupt_binary)
}
