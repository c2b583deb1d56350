//! The serial-port layer: port listing, opening a device, and a reader
//! thread that decodes bytes into a `ringbuf` SPSC queue whose consumer
//! side, [`SerialSource`], implements
//! [`levator_core::stream::SampleSource`].
//!
//! ```text
//!  device ──bytes──▶ reader thread ──(decoder)──▶ HeapRb<Msg> ──▶ SerialSource::next_item
//!                    (owns the port;               (SPSC,          (blocks until an item,
//!                     stall / unplug detection,     never blocks     the end, or an error)
//!                     reconnect with backoff)       the reader)
//! ```
//!
//! Guarantees:
//! - The reader never blocks on a full queue. Frames that do not fit are
//!   counted and come out as one [`SourceItem::Gap`] (which the pipeline
//!   turns into a `signal_quality` gap event) as soon as there is room.
//! - Every decode problem (garbage, CRC/footer failure, malformed line,
//!   lost samples) is counted in [`SourceStats`] and delivered as a
//!   [`Notice`] (or a `Gap` for lost samples).
//! - A disconnect (EOF, device unplugged, I/O error) or a stall (no byte
//!   for [`SerialConfig::stall_timeout`]) ends the stream with a typed
//!   [`Error`], after the items received before it.
//! - Dropping or closing the source stops the thread within about one
//!   [`SerialConfig::poll_interval`] (plus one reconnect back-off slice).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use levator_core::stream::{SampleSource, SourceItem, StreamError, StreamSpec};
use ringbuf::traits::{Consumer as _, Observer as _, Producer as _, Split as _};
use ringbuf::{HeapCons, HeapProd, HeapRb};
use serialport::SerialPort;

use crate::protocol::ascii::{AsciiConfig, AsciiDecoder};
use crate::protocol::binary::{Decoder as BinaryDecoder, StreamHeader};
use crate::protocol::cyton::{command, CytonConfig, CytonDecoder, Gain};
use crate::protocol::{Decode, DecodeError, DecodeStats, Decoded};

/// Errors of the port layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The port could not be opened or configured.
    #[error("cannot open serial port {path}: {source}")]
    Open {
        /// Port path.
        path: String,
        /// Cause.
        #[source]
        source: serialport::Error,
    },
    /// Ports could not be listed.
    #[error("cannot list serial ports: {0}")]
    List(#[source] serialport::Error),
    /// The device went away: end of file, unplugged, or an I/O error.
    #[error("serial device disconnected ({kind:?}): {message}")]
    Disconnected {
        /// The I/O error kind (`UnexpectedEof` for end of file).
        kind: io::ErrorKind,
        /// The system's message.
        message: String,
    },
    /// No byte arrived for this long.
    #[error("serial device stalled: no data for {0:?}")]
    Stalled(Duration),
    /// A binary device sent no stream header within the start timeout.
    #[error("no levator stream header received within {0:?}")]
    NoHeader(Duration),
    /// A Cyton did not finish a reply with `$$$` within the start timeout.
    #[error("OpenBCI Cyton did not answer `{command}` with `$$$` within {timeout:?}")]
    Handshake {
        /// The command sent.
        command: char,
        /// How long we waited.
        timeout: Duration,
    },
    /// The Cyton has a Daisy module (16 channels at 125 Hz), which this
    /// decoder does not support.
    #[error("OpenBCI Cyton with Daisy module is not supported")]
    Daisy,
    /// Writing a command to the device failed.
    #[error("cannot write to serial device: {0}")]
    Write(#[source] io::Error),
    /// The device announced a different stream while running.
    #[error("device changed its stream description mid-stream ({old_channels} -> {new_channels} channels, {old_rate_hz} -> {new_rate_hz} Hz)")]
    SpecChanged {
        /// Channels before.
        old_channels: usize,
        /// Channels after.
        new_channels: usize,
        /// Rate before.
        old_rate_hz: f64,
        /// Rate after.
        new_rate_hz: f64,
    },
    /// The protocol configuration does not form a valid stream.
    #[error("invalid stream configuration: {0}")]
    Stream(StreamError),
    /// The queue capacity is zero or too large.
    #[error("invalid queue capacity {0}")]
    QueueCapacity(usize),
    /// Reconnecting failed every attempt.
    #[error("gave up after {attempts} reconnect attempts; last error: {last}")]
    ReconnectFailed {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: Box<Error>,
    },
    /// The reader thread panicked (a bug; reported instead of hanging).
    #[error("serial reader thread panicked")]
    ReaderPanicked,
}

/// What kind of port a [`PortInfo`] describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortKind {
    /// A USB serial adapter (FTDI dongle of the Cyton, Arduino, probe).
    Usb {
        /// USB vendor id.
        vid: u16,
        /// USB product id.
        pid: u16,
        /// Serial number, if reported.
        serial_number: Option<String>,
        /// Manufacturer, if reported.
        manufacturer: Option<String>,
        /// Product, if reported.
        product: Option<String>,
    },
    /// Bluetooth RFCOMM.
    Bluetooth,
    /// Built-in / PCI UART.
    Pci,
    /// Unknown (e.g. no libudev to ask: build with feature `udev`).
    Unknown,
}

/// One serial port found on the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortInfo {
    /// Path to open (`/dev/ttyUSB0`, `COM3`).
    pub name: String,
    /// What it is.
    pub kind: PortKind,
}

/// Lists serial ports. Without the `udev` feature Linux ports are found in
/// `/sys/class/tty` and USB details may be missing; a machine without
/// `/sys/class/tty` (some containers) yields an empty list.
pub fn list_ports() -> Result<Vec<PortInfo>, Error> {
    #[cfg(all(target_os = "linux", not(feature = "udev")))]
    if !std::path::Path::new("/sys/class/tty").is_dir() {
        return Ok(Vec::new());
    }
    let ports = serialport::available_ports().map_err(Error::List)?;
    Ok(ports
        .into_iter()
        .map(|p| PortInfo {
            name: p.port_name,
            kind: match p.port_type {
                serialport::SerialPortType::UsbPort(u) => PortKind::Usb {
                    vid: u.vid,
                    pid: u.pid,
                    serial_number: u.serial_number,
                    manufacturer: u.manufacturer,
                    product: u.product,
                },
                serialport::SerialPortType::BluetoothPort => PortKind::Bluetooth,
                serialport::SerialPortType::PciPort => PortKind::Pci,
                serialport::SerialPortType::Unknown => PortKind::Unknown,
            },
        })
        .collect())
}

/// Which wire protocol the device speaks.
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // a one-off configuration value
pub enum Protocol {
    /// `levator` binary frames; the stream is taken from the device's first
    /// header frame (waits up to [`SerialConfig::start_timeout`]).
    Binary,
    /// `levator` binary frames from a device whose header is known in
    /// advance (data decodes before the first header frame).
    BinaryWithHeader(StreamHeader),
    /// ASCII lines.
    Ascii(AsciiConfig),
    /// OpenBCI Cyton: `s`, `v` handshake, gain commands for channels not at
    /// ×24, then `b`; `s` again when the source is closed.
    Cyton(CytonConfig),
}

/// Reconnect policy after a disconnect or stall: reopen the same path,
/// waiting `initial_delay`, then twice as long each time up to `max_delay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reconnect {
    /// Attempts before giving up (the stream then ends with
    /// [`Error::ReconnectFailed`]).
    pub attempts: u32,
    /// Wait before the first attempt.
    pub initial_delay: Duration,
    /// Longest wait between attempts.
    pub max_delay: Duration,
}

impl Default for Reconnect {
    /// 5 attempts, 100 ms doubling to 2 s.
    fn default() -> Self {
        Reconnect {
            attempts: 5,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }
}

/// How to open and watch a device.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SerialConfig {
    /// Baud rate (ignored by pseudo-terminals). Default 115 200.
    pub baud: u32,
    /// Read timeout slice: how often the reader checks for stop and stall.
    /// Default 20 ms.
    pub poll_interval: Duration,
    /// No byte for this long ends the stream with [`Error::Stalled`] (or
    /// triggers a reconnect). Default 2 s.
    pub stall_timeout: Duration,
    /// Wait for a binary stream header or a Cyton reply. Default 3 s.
    pub start_timeout: Duration,
    /// Items the queue holds before frames are counted as lost. Default
    /// 65 536 (about 30 s at 2 kHz).
    pub queue_capacity: usize,
    /// Reconnect after disconnect or stall; `None` (default) ends the stream.
    pub reconnect: Option<Reconnect>,
}

impl Default for SerialConfig {
    fn default() -> Self {
        SerialConfig {
            baud: 115_200,
            poll_interval: Duration::from_millis(20),
            stall_timeout: Duration::from_secs(2),
            start_timeout: Duration::from_secs(3),
            queue_capacity: 65_536,
            reconnect: None,
        }
    }
}

impl SerialConfig {
    /// Sets [`SerialConfig::baud`].
    pub fn baud(mut self, baud: u32) -> Self {
        self.baud = baud;
        self
    }
    /// Sets [`SerialConfig::poll_interval`].
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.poll_interval = d;
        self
    }
    /// Sets [`SerialConfig::stall_timeout`].
    pub fn stall_timeout(mut self, d: Duration) -> Self {
        self.stall_timeout = d;
        self
    }
    /// Sets [`SerialConfig::start_timeout`].
    pub fn start_timeout(mut self, d: Duration) -> Self {
        self.start_timeout = d;
        self
    }
    /// Sets [`SerialConfig::queue_capacity`].
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n;
        self
    }
    /// Sets [`SerialConfig::reconnect`].
    pub fn reconnect(mut self, r: Option<Reconnect>) -> Self {
        self.reconnect = r;
        self
    }
}

/// Something the device or decoder reported besides samples. Every notice
/// is also counted in [`SourceStats`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Notice {
    /// Bytes that could not be decoded.
    Decode(DecodeError),
    /// A device marker at sample `index`.
    Marker {
        /// Sample index.
        index: u64,
        /// Device-defined code.
        code: u16,
        /// Device-defined value.
        value: i32,
    },
    /// A device-reported error.
    DeviceError {
        /// Device-defined code.
        code: u16,
        /// Device-defined detail.
        detail: u32,
    },
    /// The link was re-established after a disconnect or stall.
    Reconnected {
        /// Which attempt succeeded (1-based).
        attempt: u32,
    },
}

/// One thing received: a stream item or a notice.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Received {
    /// A frame or a gap.
    Item(SourceItem),
    /// A notice.
    Notice(Notice),
}

/// Counters of a running source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceStats {
    /// The decoder's counters.
    pub decode: DecodeStats,
    /// Samples that did not fit the queue (delivered as gaps).
    pub overflow_samples: u64,
    /// Notices that did not fit the queue (still counted in `decode`).
    pub notices_dropped: u64,
    /// Successful reconnects.
    pub reconnects: u64,
}

type Msg = Received;

#[derive(Default)]
struct Tail {
    gap: Option<(u64, u64)>,
    error: Option<Error>,
}

struct Shared {
    stop: AtomicBool,
    finished: AtomicBool,
    waiting: AtomicBool,
    consumer: Mutex<Option<Thread>>,
    stats: Mutex<SourceStats>,
    tail: Mutex<Tail>,
    overflow_samples: AtomicU64,
    notices_dropped: AtomicU64,
    reconnects: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock only means a panic elsewhere; the data is plain counters.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn wake(&self) {
        if self.waiting.load(Ordering::SeqCst) {
            if let Some(t) = lock(&self.consumer).as_ref() {
                t.unpark();
            }
        }
    }
}

/// The producer side, owned by the reader thread.
struct Pusher {
    prod: HeapProd<Msg>,
    shared: Arc<Shared>,
    /// Samples lost to overflow not yet delivered: (first index, count).
    overflow: Option<(u64, u64)>,
}

impl Pusher {
    fn flush_overflow(&mut self) -> bool {
        if let Some((first_index, lost)) = self.overflow {
            if self
                .prod
                .try_push(Msg::Item(SourceItem::Gap { first_index, lost }))
                .is_err()
            {
                return false;
            }
            self.overflow = None;
        }
        true
    }

    /// Extends the pending gap to cover samples `first..end`. Only samples
    /// of frames that did not fit count as overflow; a decoder gap that
    /// merges in is already counted by the decoder.
    fn extend_gap(&mut self, first: u64, end: u64, overflow: bool) {
        let (start, before) = self.overflow.unwrap_or((first, 0));
        let lost = end.saturating_sub(start).max(before);
        if overflow {
            self.shared
                .overflow_samples
                .fetch_add(end.saturating_sub(first), Ordering::Relaxed);
        }
        self.overflow = Some((start, lost));
    }

    fn item(&mut self, item: SourceItem) {
        let (first, end, is_frame) = match item {
            SourceItem::Frame(f) => (f.index, f.index + 1, true),
            SourceItem::Gap { first_index, lost } => {
                (first_index, first_index.saturating_add(lost), false)
            }
        };
        if !self.flush_overflow() || self.prod.try_push(Msg::Item(item)).is_err() {
            self.extend_gap(first, end, is_frame);
        }
    }

    fn notice(&mut self, n: Notice) {
        if !self.flush_overflow() || self.prod.try_push(Msg::Notice(n)).is_err() {
            self.shared.notices_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A serial device as a [`SampleSource`].
///
/// ```no_run
/// use levator_core::stream::{SampleSource, SourceItem};
/// use levator_serial::port::{SerialConfig, SerialSource, Protocol};
/// use levator_serial::protocol::cyton::CytonConfig;
///
/// let mut src = SerialSource::open("/dev/ttyUSB0", Protocol::Cyton(CytonConfig::default()),
///                                  SerialConfig::default())?;
/// println!("{} channels at {} Hz", src.spec().len(), src.spec().rate_hz());
/// while let Some(item) = src.next_item()? {
///     if let SourceItem::Frame(f) = item { println!("{:?}", f.values()); }
/// }
/// # Ok::<(), levator_serial::port::Error>(())
/// ```
pub struct SerialSource {
    spec: StreamSpec,
    cons: HeapCons<Msg>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    notices: VecDeque<Notice>,
    notices_overflow: u64,
    done: bool,
}

/// Notices kept by [`SampleSource::next_item`] for [`SerialSource::take_notices`].
pub const NOTICE_BACKLOG: usize = 1024;

impl std::fmt::Debug for SerialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialSource")
            .field("spec", &self.spec)
            .field("stats", &self.stats())
            .finish()
    }
}

impl SerialSource {
    /// Opens `path` and starts the reader thread.
    pub fn open(
        path: &str,
        protocol: Protocol,
        config: SerialConfig,
    ) -> Result<SerialSource, Error> {
        let port = open_path(path, &config)?;
        Self::start(port, Some(path.to_string()), protocol, config)
    }

    /// Starts on an already open port (a pseudo-terminal, a port opened with
    /// custom settings). Reconnects reopen `port.name()` if it has one.
    pub fn from_port(
        mut port: Box<dyn SerialPort>,
        protocol: Protocol,
        config: SerialConfig,
    ) -> Result<SerialSource, Error> {
        let path = port.name();
        port.set_timeout(config.poll_interval)
            .map_err(|source| Error::Open {
                path: path.clone().unwrap_or_default(),
                source,
            })?;
        Self::start(port, path, protocol, config)
    }

    fn start(
        mut port: Box<dyn SerialPort>,
        path: Option<String>,
        protocol: Protocol,
        config: SerialConfig,
    ) -> Result<SerialSource, Error> {
        if config.queue_capacity == 0 || config.queue_capacity > (1 << 26) {
            return Err(Error::QueueCapacity(config.queue_capacity));
        }
        let mut pending: Vec<Decoded> = Vec::new();
        let (decoder, spec) = match protocol {
            Protocol::Binary => {
                let mut d = BinaryDecoder::new();
                let spec = wait_for_header(&mut *port, &mut d, &config, &mut pending)?;
                (Box::new(d) as Box<dyn Decode + Send>, spec)
            }
            Protocol::BinaryWithHeader(h) => (
                Box::new(BinaryDecoder::with_header(h)) as Box<dyn Decode + Send>,
                h.spec(),
            ),
            Protocol::Ascii(c) => (
                Box::new(AsciiDecoder::new(c)) as Box<dyn Decode + Send>,
                c.spec(),
            ),
            Protocol::Cyton(c) => {
                let d = CytonDecoder::new(c).map_err(Error::Stream)?;
                cyton_start(&mut *port, &c, &config)?;
                let spec = d.spec();
                (Box::new(d) as Box<dyn Decode + Send>, spec)
            }
        };
        let rb = HeapRb::<Msg>::try_new(config.queue_capacity)
            .map_err(|_| Error::QueueCapacity(config.queue_capacity))?;
        let (prod, cons) = rb.split();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            waiting: AtomicBool::new(false),
            consumer: Mutex::new(None),
            stats: Mutex::new(SourceStats::default()),
            tail: Mutex::new(Tail::default()),
            overflow_samples: AtomicU64::new(0),
            notices_dropped: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
        });
        let reader = Reader {
            port: Some(port),
            path,
            is_cyton: matches!(protocol, Protocol::Cyton(_)),
            decoder,
            spec,
            config,
            pusher: Pusher {
                prod,
                shared: shared.clone(),
                overflow: None,
            },
            ended: None,
        };
        let thread = thread::Builder::new()
            .name("levator-serial-reader".into())
            .spawn(move || reader.run(pending))
            .map_err(Error::Write)?;
        Ok(SerialSource {
            spec,
            cons,
            shared,
            thread: Some(thread),
            notices: VecDeque::new(),
            notices_overflow: 0,
            done: false,
        })
    }

    /// The next frame, gap or notice, blocking until one arrives.
    /// `Err` once when the stream ends (disconnect, stall, ...), then
    /// `Ok(None)`.
    pub fn next_received(&mut self) -> Result<Option<Received>, Error> {
        loop {
            if let Some(m) = self.cons.try_pop() {
                return Ok(Some(m));
            }
            if self.shared.finished.load(Ordering::SeqCst) {
                if let Some(m) = self.cons.try_pop() {
                    return Ok(Some(m));
                }
                return self.finish();
            }
            *lock(&self.shared.consumer) = Some(thread::current());
            self.shared.waiting.store(true, Ordering::SeqCst);
            if self.cons.is_empty() && !self.shared.finished.load(Ordering::SeqCst) {
                thread::park_timeout(Duration::from_millis(50));
            }
            self.shared.waiting.store(false, Ordering::SeqCst);
        }
    }

    /// Like [`SerialSource::next_received`] but returns `Ok(None)` at once
    /// if nothing is queued (and the stream has not ended).
    pub fn try_next_received(&mut self) -> Result<Option<Received>, Error> {
        if let Some(m) = self.cons.try_pop() {
            return Ok(Some(m));
        }
        if self.shared.finished.load(Ordering::SeqCst) {
            if let Some(m) = self.cons.try_pop() {
                return Ok(Some(m));
            }
            return self.finish();
        }
        Ok(None)
    }

    fn finish(&mut self) -> Result<Option<Received>, Error> {
        if self.done {
            return Ok(None);
        }
        let mut tail = lock(&self.shared.tail);
        if let Some((first_index, lost)) = tail.gap.take() {
            return Ok(Some(Received::Item(SourceItem::Gap { first_index, lost })));
        }
        let err = tail.error.take();
        drop(tail);
        self.done = true;
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                return Err(Error::ReaderPanicked);
            }
        }
        match err {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// Notices set aside by [`SampleSource::next_item`] (oldest first; at
    /// most [`NOTICE_BACKLOG`], older ones are counted in
    /// [`SerialSource::notices_overflowed`]).
    pub fn take_notices(&mut self) -> Vec<Notice> {
        self.notices.drain(..).collect()
    }

    /// Notices dropped from the backlog because nobody took them.
    pub fn notices_overflowed(&self) -> u64 {
        self.notices_overflow
    }

    /// Counters so far.
    pub fn stats(&self) -> SourceStats {
        let mut s = *lock(&self.shared.stats);
        s.overflow_samples = self.shared.overflow_samples.load(Ordering::Relaxed);
        s.notices_dropped = self.shared.notices_dropped.load(Ordering::Relaxed);
        s.reconnects = self.shared.reconnects.load(Ordering::Relaxed);
        s
    }

    /// Stops the reader (a Cyton gets `s`) and waits for it; returns the
    /// final counters. Bounded by about one poll interval.
    pub fn close(mut self) -> Result<SourceStats, Error> {
        self.stop()?;
        Ok(self.stats())
    }

    fn stop(&mut self) -> Result<(), Error> {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().map_err(|_| Error::ReaderPanicked)?;
        }
        Ok(())
    }
}

impl Drop for SerialSource {
    fn drop(&mut self) {
        // Join errors (a panicked reader) cannot be reported from drop.
        let _ = self.stop();
    }
}

impl SampleSource for SerialSource {
    type Error = Error;

    fn spec(&self) -> StreamSpec {
        self.spec
    }

    /// Frames and gaps; notices are set aside for
    /// [`SerialSource::take_notices`] (and counted in [`SerialSource::stats`]).
    fn next_item(&mut self) -> Result<Option<SourceItem>, Error> {
        loop {
            match self.next_received()? {
                None => return Ok(None),
                Some(Received::Item(i)) => return Ok(Some(i)),
                Some(Received::Notice(n)) => {
                    if self.notices.len() == NOTICE_BACKLOG {
                        self.notices.pop_front();
                        self.notices_overflow += 1;
                    }
                    self.notices.push_back(n);
                }
            }
        }
    }
}

fn open_path(path: &str, config: &SerialConfig) -> Result<Box<dyn SerialPort>, Error> {
    serialport::new(path, config.baud)
        .timeout(config.poll_interval)
        .open()
        .map_err(|source| Error::Open {
            path: path.to_string(),
            source,
        })
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

fn disconnected(e: &io::Error) -> Error {
    Error::Disconnected {
        kind: e.kind(),
        message: e.to_string(),
    }
}

fn eof() -> Error {
    Error::Disconnected {
        kind: io::ErrorKind::UnexpectedEof,
        message: "end of file".into(),
    }
}

/// Reads until the binary decoder announces a stream.
fn wait_for_header(
    port: &mut dyn SerialPort,
    d: &mut BinaryDecoder,
    config: &SerialConfig,
    pending: &mut Vec<Decoded>,
) -> Result<StreamSpec, Error> {
    let deadline = Instant::now() + config.start_timeout;
    let mut buf = [0u8; 1024];
    let mut spec = None;
    while spec.is_none() {
        if Instant::now() >= deadline {
            return Err(Error::NoHeader(config.start_timeout));
        }
        match port.read(&mut buf) {
            Ok(0) => return Err(eof()),
            Ok(n) => d.push(&buf[..n], &mut |item| {
                if let (None, Decoded::Spec(s)) = (spec, item) {
                    spec = Some(s);
                } else {
                    pending.push(item);
                }
            }),
            Err(e) if is_timeout(&e) => {}
            Err(e) => return Err(disconnected(&e)),
        }
    }
    spec.ok_or(Error::NoHeader(config.start_timeout))
}

fn write_all(port: &mut dyn SerialPort, bytes: &[u8]) -> Result<(), Error> {
    port.write_all(bytes).map_err(Error::Write)?;
    port.flush().map_err(Error::Write)
}

/// Sends `cmd` and reads until `$$$`; bytes after the marker are stream data.
fn cyton_command(
    port: &mut dyn SerialPort,
    cmd: &[u8],
    config: &SerialConfig,
) -> Result<command::Reply, Error> {
    write_all(port, cmd)?;
    let mut reply = command::Reply::new();
    let deadline = Instant::now() + config.start_timeout;
    let mut byte = [0u8; 1];
    // Byte by byte so nothing after `$$$` is consumed.
    while !reply.is_complete() {
        if Instant::now() >= deadline {
            return Err(Error::Handshake {
                command: char::from(cmd.first().copied().unwrap_or(b'?')),
                timeout: config.start_timeout,
            });
        }
        match port.read(&mut byte) {
            Ok(0) => return Err(eof()),
            Ok(_) => {
                reply.push(&byte);
            }
            Err(e) if is_timeout(&e) => {}
            Err(e) => return Err(disconnected(&e)),
        }
    }
    Ok(reply)
}

/// `s` (stop a stream left running), `v` handshake, gain commands, `b`.
fn cyton_start(
    port: &mut dyn SerialPort,
    c: &CytonConfig,
    config: &SerialConfig,
) -> Result<(), Error> {
    write_all(port, &[command::STOP])?;
    // Drop whatever a running stream still had in flight.
    let _ = port.clear(serialport::ClearBuffer::Input);
    let reply = cyton_command(port, &[command::RESET], config)?;
    if reply.has_daisy() {
        return Err(Error::Daisy);
    }
    for (i, g) in c.gains.iter().enumerate() {
        if *g != Gain::X24 {
            let s = command::ChannelSettings {
                gain: *g,
                ..command::ChannelSettings::default()
            };
            let cmd = command::channel_settings(i as u8 + 1, &s)
                .map_err(|_| Error::Stream(StreamError::TooManyChannels))?;
            cyton_command(port, &cmd, config)?;
        }
    }
    write_all(port, &[command::START])
}

struct Reader {
    port: Option<Box<dyn SerialPort>>,
    path: Option<String>,
    is_cyton: bool,
    decoder: Box<dyn Decode + Send>,
    spec: StreamSpec,
    config: SerialConfig,
    pusher: Pusher,
    ended: Option<Error>,
}

impl Reader {
    fn run(mut self, pending: Vec<Decoded>) {
        for item in pending {
            deliver(&mut self.pusher, &self.spec, &mut self.ended, item);
        }
        let mut buf = vec![0u8; 4096];
        let mut last_byte = Instant::now();
        while self.ended.is_none() && !self.pusher.shared.stop.load(Ordering::SeqCst) {
            let Some(port) = self.port.as_mut() else {
                break;
            };
            let failure = match port.read(&mut buf) {
                Ok(0) => Some(eof()),
                Ok(n) => {
                    last_byte = Instant::now();
                    self.push_bytes(n, &buf);
                    None
                }
                Err(e) if is_timeout(&e) => (last_byte.elapsed() >= self.config.stall_timeout)
                    .then_some(Error::Stalled(self.config.stall_timeout)),
                Err(e) => Some(disconnected(&e)),
            };
            if let Some(err) = failure {
                match self.reconnect(err) {
                    Ok(()) => last_byte = Instant::now(),
                    Err(e) => self.ended = Some(e),
                }
            }
        }
        if self.is_cyton && self.ended.is_none() {
            if let Some(p) = self.port.as_mut() {
                // Best effort: the board keeps streaming otherwise.
                let _ = p.write_all(&[command::STOP]);
                let _ = p.flush();
            }
        }
        // A last unterminated ASCII line, a pending garbage count: deliver
        // them before the end.
        let Reader {
            decoder,
            pusher,
            spec,
            ended,
            ..
        } = &mut self;
        if matches!(ended, Some(Error::SpecChanged { .. })) {
            // Items after a stream change belong to a stream nobody reads.
            decoder.finish(&mut |_| {});
        } else {
            let mut later = None;
            decoder.finish(&mut |item| deliver(pusher, spec, &mut later, item));
            if ended.is_none() {
                *ended = later;
            }
        }
        self.publish_stats();
        let shared = self.pusher.shared.clone();
        let mut tail = lock(&shared.tail);
        if !self.pusher.flush_overflow() {
            tail.gap = self.pusher.overflow.take();
        }
        tail.error = self.ended.take();
        drop(tail);
        shared.finished.store(true, Ordering::SeqCst);
        let consumer = lock(&shared.consumer).clone();
        if let Some(t) = consumer {
            t.unpark();
        }
    }

    fn push_bytes(&mut self, n: usize, buf: &[u8]) {
        let Reader {
            decoder,
            pusher,
            spec,
            ended,
            ..
        } = self;
        decoder.push(&buf[..n], &mut |item| deliver(pusher, spec, ended, item));
        self.publish_stats();
        self.pusher.shared.wake();
    }

    fn publish_stats(&mut self) {
        lock(&self.pusher.shared.stats).decode = self.decoder.stats();
    }

    /// Reopens the port with back-off, or returns the error that ends the
    /// stream.
    fn reconnect(&mut self, cause: Error) -> Result<(), Error> {
        let (Some(policy), Some(path)) = (self.config.reconnect, self.path.clone()) else {
            return Err(cause);
        };
        self.port = None;
        let mut delay = policy.initial_delay;
        let mut last = cause;
        for attempt in 1..=policy.attempts {
            if !self.sleep(delay) {
                return Err(last);
            }
            delay = (delay * 2).min(policy.max_delay);
            match open_path(&path, &self.config) {
                Ok(mut p) => {
                    if self.is_cyton {
                        if let Err(e) = write_all(&mut *p, &[command::START]) {
                            last = e;
                            continue;
                        }
                    }
                    self.port = Some(p);
                    self.pusher
                        .shared
                        .reconnects
                        .fetch_add(1, Ordering::Relaxed);
                    self.pusher.notice(Notice::Reconnected { attempt });
                    self.pusher.shared.wake();
                    return Ok(());
                }
                Err(e) => last = e,
            }
        }
        Err(Error::ReconnectFailed {
            attempts: policy.attempts,
            last: Box::new(last),
        })
    }

    /// Sleeps in poll-interval slices; false if asked to stop.
    fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        loop {
            if self.pusher.shared.stop.load(Ordering::SeqCst) {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            thread::sleep((end - now).min(self.config.poll_interval));
        }
    }
}

/// Routes one decoded item to the queue; a changed stream description ends
/// the stream.
fn deliver(pusher: &mut Pusher, spec: &StreamSpec, ended: &mut Option<Error>, item: Decoded) {
    if ended.is_some() {
        return;
    }
    match item {
        Decoded::Frame(f) => pusher.item(SourceItem::Frame(f)),
        Decoded::Gap { first_index, lost } => pusher.item(SourceItem::Gap { first_index, lost }),
        Decoded::Marker { index, code, value } => {
            pusher.notice(Notice::Marker { index, code, value })
        }
        Decoded::DeviceError { code, detail } => {
            pusher.notice(Notice::DeviceError { code, detail })
        }
        Decoded::Error(e) => pusher.notice(Notice::Decode(e)),
        Decoded::Spec(s) => {
            if s != *spec {
                *ended = Some(Error::SpecChanged {
                    old_channels: spec.len(),
                    new_channels: s.len(),
                    old_rate_hz: spec.rate_hz(),
                    new_rate_hz: s.rate_hz(),
                });
            }
        }
    }
}
