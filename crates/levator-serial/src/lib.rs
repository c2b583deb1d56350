//! # levator-serial
//!
//! Wire protocols and the serial-port layer of levator: probe bytes in,
//! [`levator_core::stream::Frame`]s out.
//!
//! Two layers, one module each:
//!
//! ```text
//! protocol ──────────────────────────▶ port (feature `std`)
//! pure codecs: binary, ascii, cyton    serialport reader thread ──ringbuf──▶ SerialSource
//! (bytes in, frames/typed errors out,  (port listing, open, stall/unplug detection,
//!  no I/O, no clock, no_std)            reconnect; implements SampleSource)
//! ```
//!
//! ```
//! use levator_core::stream::{Role, Unit};
//! use levator_serial::protocol::{binary, Decoded};
//!
//! // Device side: announce the stream, then send samples.
//! let header = binary::StreamHeader::new(1000.0, &[binary::ChannelFormat::new(
//!     Role::PelvicEmg, Unit::Microvolt, binary::SampleFormat::I24, 0.5, 0.0)]).unwrap();
//! let mut enc = binary::Encoder::new(header);
//! let mut wire = enc.header_frame().to_vec();
//! wire.extend_from_slice(&enc.data_frame(&[12.5, -3.0]).unwrap());
//!
//! // Host side: any chunking of the bytes gives the same items.
//! let mut dec = binary::Decoder::new();
//! let mut uv = Vec::new();
//! for chunk in wire.chunks(3) {
//!     dec.push(chunk, &mut |item| if let Decoded::Frame(f) = item { uv.push(f.get(0)) });
//! }
//! assert_eq!(uv, [12.5, -3.0]);
//! assert_eq!(dec.stats().crc_failures, 0);
//! ```
//!
//! ## Reading a device
//!
//! [`port::SerialSource`] opens a port, runs a reader thread and implements
//! [`levator_core::stream::SampleSource`]; lost samples come out as
//! [`levator_core::stream::SourceItem::Gap`], the end of the stream as a
//! typed [`port::Error`]:
//!
//! ```no_run
//! # #[cfg(feature = "std")] {
//! use levator_core::stream::{SampleSource, SourceItem};
//! use levator_serial::port::{list_ports, Protocol, SerialConfig, SerialSource};
//!
//! for p in list_ports()? {
//!     println!("{} {:?}", p.name, p.kind);
//! }
//! let mut src = SerialSource::open("/dev/ttyACM0", Protocol::Binary, SerialConfig::default())?;
//! loop {
//!     match src.next_item() {
//!         Ok(Some(SourceItem::Frame(f))) => println!("{} {:?}", f.index, f.values()),
//!         Ok(Some(SourceItem::Gap { first_index, lost })) => println!("lost {lost} at {first_index}"),
//!         Ok(None) => break,
//!         Err(e) => { eprintln!("{e}"); break } // unplugged, stalled, ...
//!     }
//! }
//! # }
//! # Ok::<(), levator_serial::port::Error>(())
//! ```
//!
//! ## Features
//!
//! - `std` (default): the port layer (`serialport`, `ringbuf`, reader
//!   thread). Without it the codecs build `no_std` and never allocate.
//! - `udev`: rich port listing (USB vendor/product/serial) through libudev.
//!   Off by default so a fresh Linux machine builds without libudev
//!   headers; without it Linux ports are listed from `/sys/class/tty`.
//!
//! Three protocols are spoken: [`protocol::binary`] (below), [`protocol::ascii`]
//! (text lines from DIY devices) and [`protocol::cyton`] (OpenBCI Cyton).
//!
//! # levator binary frames v1
//!
//! An open protocol for probe firmware. Everything multi-byte is
//! **little-endian**. A device streams frames back to back; the host never
//! needs to send anything.
//!
//! ## Frame
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 2 | sync `0xA5 0x5A` |
//! | 2 | 1 | version, `0x01` |
//! | 3 | 1 | frame type: `0x01` stream header, `0x02` data, `0x03` marker, `0x04` error |
//! | 4 | 2 | sequence number, u16, +1 for every frame of any type, wraps |
//! | 6 | 2 | payload length `N`, u16, at most 1024 |
//! | 8 | N | payload |
//! | 8+N | 2 | CRC-16 over bytes 2 .. 8+N (version through payload; the sync bytes are not included), little-endian |
//!
//! **CRC**: CRC-16/CCITT-FALSE (catalogued as CRC-16/IBM-3740): width 16,
//! polynomial `0x1021`, init `0xFFFF`, refin = false, refout = false,
//! xorout `0x0000`; check value (CRC of ASCII `"123456789"`) = `0x29B1`.
//! See [`crc`] for a table-driven implementation; a bit-by-bit one is eight
//! lines of C.
//!
//! ## Stream header (type `0x01`), N = 5 + 11·C
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | sample rate in millihertz, u32 (1000 Hz = `40 42 0F 00`) |
//! | 4 | 1 | channel count C, 1..=8 |
//! | 5+11·i | 1 | role of channel i: 0 pelvic_emg, 1 abdominal_emg, 2 pelvic_pressure, 3 abdominal_pressure, 4 probe_motion, 5 respiration (each role at most once) |
//! | 6+11·i | 1 | unit: 0 µV, 1 cmH2O, 2 mmHg, 3 g, 4 arbitrary (must suit the role) |
//! | 7+11·i | 1 | sample width in bytes: 2 (i16), 3 (i24), 4 (i32), two's complement |
//! | 8+11·i | 4 | scale, IEEE-754 f32: unit per count (finite, non-zero) |
//! | 12+11·i | 4 | offset, f32: value = count × scale + offset |
//!
//! Send it first and then about once a second, so a host that connects
//! mid-stream can start decoding. A repeated identical header changes
//! nothing; a different one starts a new stream.
//!
//! ## Data (type `0x02`), N = 5 + S·(sum of sample widths)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | device index of the first sample, u32, counted from stream start, wraps |
//! | 4 | 1 | S, samples per channel in this frame, 1..=255 |
//! | 5 | … | samples, interleaved: sample 0 of every channel in header order, then sample 1, … |
//!
//! The host uses the device index as the stream's sample index (extended
//! past 2^32), so a host that connects mid-stream starts at the device's
//! count. It detects lost frames from it: if a frame starts `k` samples
//! after the previous one ended, it reports a gap of `k` samples (a jump
//! backwards is reported as a counter reset and the host's index carries
//! on without a gap). The
//! sequence number additionally counts lost frames of every type.
//!
//! ## Marker (type `0x03`), N = 10
//!
//! u32 device sample index, u16 code, i32 value (device-defined; e.g. a
//! button press).
//!
//! ## Error (type `0x04`), N = 6
//!
//! u16 code, u32 detail (device-defined, e.g. sensor fault).
//!
//! ## Receiving
//!
//! Scan for `A5 5A`; read the 8-byte prefix; if N > 1024 the sync was
//! false: drop one byte and scan again. Otherwise wait for the whole frame
//! and check the CRC; on a mismatch drop **one** byte and scan again (a
//! real frame may start inside the bad one). Frames with an unknown
//! version or type but a valid CRC are skipped whole. Every skipped byte
//! and rejected frame is counted.
//!
//! ## Test vectors
//!
//! One stream, 1000 Hz, channel 0 pelvic EMG in µV as i24 with scale 0.5,
//! channel 1 abdominal pressure in mmHg as i16 with scale 0.1; frames
//! encoded one after the other (sequence numbers 0..=3). The table is
//! checked byte for byte by `tests/codec_vectors.rs`.
//!
//! | frame | bytes (hex) |
//! |---|---|
//! | header | `A5 5A 01 01 00 00 1B 00 40 42 0F 00 02 00 00 03 00 00 00 3F 00 00 00 00 03 02 02 CD CC CC 3D 00 00 00 00 6B 6E` |
//! | data: counts (1000, −20), (−2, 305) from index 0 | `A5 5A 01 02 01 00 0F 00 00 00 00 00 02 E8 03 00 EC FF FE FF FF 31 01 FB 86` |
//! | marker: code 7, value −1 at index 2 | `A5 5A 01 03 02 00 0A 00 02 00 00 00 07 00 FF FF FF FF 8F 45` |
//! | error: code 2, detail `0x01020304` | `A5 5A 01 04 03 00 06 00 02 00 04 03 02 01 6D 89` |
//!
//! The data frame decodes to (500 µV, −2.719 cmH2O) and (−1 µV,
//! 41.465 cmH2O): −20 × 0.1 mmHg = −2 mmHg = −2.71902 cmH2O.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod crc;
pub mod protocol;

#[cfg(feature = "std")]
pub mod port;
