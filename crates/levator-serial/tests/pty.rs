//! Port-layer tests on real pseudo-terminals (`TTYPort::pair`): the test
//! writes device bytes on the master side, `SerialSource` reads the slave
//! side through its reader thread and ringbuf queue. No mocks. Every test is
//! bounded by short stall timeouts.
#![cfg(unix)]

use std::io::{Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use levator_core::stream::{Role, SampleSource, SourceItem, Unit};
use levator_serial::port::{Error, Notice, Protocol, SerialConfig, SerialSource};
use levator_serial::protocol::ascii::{AsciiConfig, AsciiEncoder, TimestampUnit};
use levator_serial::protocol::binary::{ChannelFormat, Encoder, SampleFormat, StreamHeader};
use levator_serial::protocol::cyton::{command, CytonConfig, CytonEncoder, Gain};
use levator_serial::protocol::DecodeError;
use serialport::{SerialPort, TTYPort};

fn header() -> StreamHeader {
    StreamHeader::new(
        1000.0,
        &[
            ChannelFormat::new(
                Role::PelvicEmg,
                Unit::Microvolt,
                SampleFormat::I24,
                0.5,
                0.0,
            ),
            ChannelFormat::new(
                Role::AbdominalPressure,
                Unit::CmH2O,
                SampleFormat::I16,
                0.25,
                0.0,
            ),
        ],
    )
    .unwrap()
}

/// Frame `k` of sample `i`: exactly representable values.
fn sample(i: u64) -> [f64; 2] {
    [(i % 1000) as f64 * 0.5 - 100.0, (i % 200) as f64 * 0.25]
}

fn data(enc: &mut Encoder, first: u64, n: u64) -> Vec<u8> {
    let vals: Vec<f64> = (first..first + n).flat_map(sample).collect();
    enc.data_frame(&vals).unwrap().to_vec()
}

fn config() -> SerialConfig {
    SerialConfig::default()
        .stall_timeout(Duration::from_millis(500))
        .start_timeout(Duration::from_secs(2))
        .poll_interval(Duration::from_millis(10))
}

fn pty() -> (TTYPort, Box<dyn SerialPort>) {
    let (master, slave) = TTYPort::pair().expect("pseudo-terminal pair");
    (master, Box::new(slave))
}

/// Reads items until the stream errors or `want` samples are accounted
/// for (frames + lost), with a hard deadline.
fn collect(
    src: &mut SerialSource,
    want: u64,
    deadline: Duration,
) -> (Vec<SourceItem>, Option<Error>) {
    let end = Instant::now() + deadline;
    let mut items = Vec::new();
    let mut seen = 0;
    while seen < want {
        assert!(
            Instant::now() < end,
            "deadline passed after {seen} of {want} samples"
        );
        match src.next_item() {
            Ok(Some(i)) => {
                seen += match i {
                    SourceItem::Frame(_) => 1,
                    SourceItem::Gap { lost, .. } => lost,
                };
                items.push(i);
            }
            Ok(None) => break,
            Err(e) => return (items, Some(e)),
        }
    }
    (items, None)
}

#[test]
fn binary_clean_streaming() {
    let (mut master, slave) = pty();
    let writer = thread::spawn(move || {
        let mut enc = Encoder::new(header());
        master.write_all(&enc.header_frame()).unwrap();
        for k in 0..200u64 {
            master.write_all(&data(&mut enc, k * 5, 5)).unwrap();
            if k % 50 == 0 {
                master.write_all(&enc.header_frame()).unwrap();
            }
        }
        master.flush().unwrap();
        master // keep the device "plugged in" until the reader is done
    });
    let mut src = SerialSource::from_port(slave, Protocol::Binary, config()).unwrap();
    assert_eq!(src.spec().len(), 2);
    assert_eq!(src.spec().rate_hz(), 1000.0);
    let (items, err) = collect(&mut src, 1000, Duration::from_secs(10));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(items.len(), 1000);
    for (i, item) in items.iter().enumerate() {
        let SourceItem::Frame(f) = item else {
            panic!("unexpected {item:?}")
        };
        assert_eq!(f.index, i as u64);
        assert_eq!(f.values(), &sample(i as u64)[..]);
    }
    let stats = src.stats().decode;
    assert_eq!(stats.frames, 1000);
    assert_eq!(
        (
            stats.crc_failures,
            stats.bytes_skipped,
            stats.samples_lost,
            stats.rejected
        ),
        (0, 0, 0, 0)
    );
    assert!(src.take_notices().is_empty());
    let _master = writer.join().unwrap();
    let t = Instant::now();
    src.close().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "close took {:?}",
        t.elapsed()
    );
}

#[test]
fn binary_corruption_is_recovered_and_counted() {
    let (mut master, slave) = pty();
    let writer = thread::spawn(move || {
        let mut enc = Encoder::new(header());
        master.write_all(&enc.header_frame()).unwrap();
        for k in 0..40u64 {
            master.write_all(&data(&mut enc, k * 5, 5)).unwrap();
        }
        // Line noise containing a false sync.
        master
            .write_all(&[0x00, 0xA5, 0x13, 0xFF, 0xA5, 0x5A, 0x01])
            .unwrap();
        // Frame 40 with one payload bit flipped: fails its CRC.
        let mut bad = data(&mut enc, 200, 5);
        bad[15] ^= 0x10;
        master.write_all(&bad).unwrap();
        // Frame 41 never sent (dropped on the link).
        let _ = data(&mut enc, 205, 5);
        for k in 42..80u64 {
            master.write_all(&data(&mut enc, k * 5, 5)).unwrap();
        }
        master.flush().unwrap();
        master
    });
    let mut src = SerialSource::from_port(slave, Protocol::Binary, config()).unwrap();
    let (items, err) = collect(&mut src, 400, Duration::from_secs(10));
    assert!(err.is_none(), "{err:?}");
    let frames: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            SourceItem::Frame(f) => Some(*f),
            _ => None,
        })
        .collect();
    let gaps: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            SourceItem::Gap { first_index, lost } => Some((*first_index, *lost)),
            _ => None,
        })
        .collect();
    assert_eq!(gaps, vec![(200, 10)], "the bad and the dropped frame");
    assert_eq!(frames.len(), 390);
    for f in &frames {
        assert_eq!(f.values(), &sample(f.index)[..], "frame {}", f.index);
    }
    assert_eq!(frames.last().unwrap().index, 399);
    let s = src.stats().decode;
    assert_eq!(s.crc_failures, 1);
    assert_eq!(s.samples_lost, 10);
    assert_eq!(
        s.frames_lost, 2,
        "sequence numbers: the corrupted and the dropped frame"
    );
    assert!(s.bytes_skipped >= 7, "{s:?}");
    let notices = src.take_notices();
    assert!(notices
        .iter()
        .any(|n| matches!(n, Notice::Decode(DecodeError::Crc { .. }))));
    assert!(notices
        .iter()
        .any(|n| matches!(n, Notice::Decode(DecodeError::Garbage { .. }))));
    let _master = writer.join().unwrap();
}

#[test]
fn stalled_device_times_out() {
    let (mut master, slave) = pty();
    let mut enc = Encoder::new(header());
    master.write_all(&enc.header_frame()).unwrap();
    master.write_all(&data(&mut enc, 0, 10)).unwrap();
    let mut src = SerialSource::from_port(
        slave,
        Protocol::Binary,
        config().stall_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let t = Instant::now();
    let (items, err) = collect(&mut src, u64::MAX, Duration::from_secs(5));
    assert_eq!(items.len(), 10, "frames before the stall are delivered");
    assert!(
        matches!(err, Some(Error::Stalled(d)) if d == Duration::from_millis(300)),
        "{err:?}"
    );
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    // After the error the stream is over, and stays over.
    assert!(matches!(src.next_item(), Ok(None)));
    drop(master);
}

#[test]
fn unplugged_device_ends_with_clear_error() {
    let (mut master, slave) = pty();
    let mut enc = Encoder::new(header());
    master.write_all(&enc.header_frame()).unwrap();
    master.write_all(&data(&mut enc, 0, 20)).unwrap();
    master.flush().unwrap();
    let mut src = SerialSource::from_port(
        slave,
        Protocol::Binary,
        config().stall_timeout(Duration::from_secs(30)),
    )
    .unwrap();
    // Let the reader take the bytes in, then pull the plug.
    let (items, err) = collect(&mut src, 20, Duration::from_secs(5));
    assert!(err.is_none());
    assert_eq!(items.len(), 20);
    drop(master);
    let t = Instant::now();
    let (rest, err) = collect(&mut src, u64::MAX, Duration::from_secs(5));
    assert!(rest.is_empty(), "{rest:?}");
    match err {
        Some(Error::Disconnected { .. }) => {}
        other => panic!("expected Disconnected, got {other:?}"),
    }
    // Well before the 30 s stall timeout: the hang-up itself was seen.
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(matches!(src.next_item(), Ok(None)));
    let t = Instant::now();
    drop(src);
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[test]
fn queue_overflow_becomes_a_counted_gap() {
    let (mut master, slave) = pty();
    let mut src = SerialSource::from_port(
        slave,
        Protocol::BinaryWithHeader(header()),
        config().queue_capacity(64),
    )
    .unwrap();
    let writer = thread::spawn(move || {
        let mut enc = Encoder::new(header());
        for k in 0..100u64 {
            master.write_all(&data(&mut enc, k * 10, 10)).unwrap();
        }
        master.flush().unwrap();
        master
    });
    // The consumer is busy: the reader fills the queue meanwhile.
    let master = writer.join().unwrap();
    let end = Instant::now() + Duration::from_secs(5);
    while src.stats().decode.frames < 1000 {
        assert!(Instant::now() < end, "reader did not decode all frames");
        thread::sleep(Duration::from_millis(10));
    }
    let (items, err) = collect(&mut src, 1000, Duration::from_secs(5));
    assert!(err.is_none(), "{err:?}");
    let frames = items
        .iter()
        .filter(|i| matches!(i, SourceItem::Frame(_)))
        .count() as u64;
    let lost: u64 = items
        .iter()
        .map(|i| match i {
            SourceItem::Gap { lost, .. } => *lost,
            _ => 0,
        })
        .sum();
    assert!(lost > 0, "a 64-item queue cannot hold 1000 frames");
    assert_eq!(
        frames + lost,
        1000,
        "every sample is a frame or counted in a gap"
    );
    assert_eq!(src.stats().overflow_samples, lost);
    // Indices stay consistent across the gap.
    let mut next = 0;
    for i in &items {
        match i {
            SourceItem::Frame(f) => {
                assert_eq!(f.index, next);
                next += 1;
            }
            SourceItem::Gap { first_index, lost } => {
                assert_eq!(*first_index, next);
                next += lost;
            }
        }
    }
    drop(master);
}

#[test]
fn ascii_lines_with_malformed_line_and_timestamp_gap() {
    let (mut master, slave) = pty();
    let cfg = AsciiConfig::roles(100.0, &[Role::PelvicPressure, Role::ProbeMotion])
        .unwrap()
        .with_timestamp(TimestampUnit::Milliseconds);
    let mut src = SerialSource::from_port(slave, Protocol::Ascii(cfg), config()).unwrap();
    let mut enc = AsciiEncoder::new(cfg);
    let mut wire = Vec::new();
    for i in 0..50 {
        wire.extend_from_slice(&enc.encode(&[20.0 + i as f64, 0.01]).unwrap());
    }
    wire.extend_from_slice(b"1234,not-a-number,0\n");
    enc.skip(2); // the malformed line took one sample slot, one more line lost
    for i in 52..60 {
        wire.extend_from_slice(&enc.encode(&[20.0 + i as f64, 0.01]).unwrap());
    }
    master.write_all(&wire).unwrap();
    let (items, err) = collect(&mut src, 60, Duration::from_secs(5));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(items.len(), 60);
    // The malformed line is a lost sample; the missing line another.
    assert_eq!(
        items[50],
        SourceItem::Gap {
            first_index: 50,
            lost: 1
        }
    );
    assert_eq!(
        items[51],
        SourceItem::Gap {
            first_index: 51,
            lost: 1
        }
    );
    let SourceItem::Frame(f) = items[49] else {
        panic!()
    };
    assert_eq!((f.index, f.get(0)), (49, 69.0));
    let SourceItem::Frame(f) = items[52] else {
        panic!()
    };
    assert_eq!((f.index, f.get(0)), (52, 72.0));
    let notices = src.take_notices();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(matches!(
        notices[0],
        Notice::Decode(DecodeError::Line { line: 51, .. })
    ));
    assert_eq!(src.stats().decode.rejected, 1);
    drop(master);
}

/// A Cyton board on the master side: answers `v` and channel commands,
/// streams on `b`, stops on `s`.
fn fake_cyton(mut master: TTYPort, packets: usize, skip_at: usize) -> TTYPort {
    master.set_timeout(Duration::from_millis(20)).unwrap();
    let mut enc = CytonEncoder::new([Gain::X24; 8]);
    let mut cmd = Vec::new();
    let end = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 64];
    while Instant::now() < end {
        let n = match master.read(&mut buf) {
            Ok(n) => n,
            Err(_) => continue,
        };
        for &b in &buf[..n] {
            if !cmd.is_empty() || b == b'x' {
                cmd.push(b);
                if b == b'X' {
                    let (ch, s) = command::parse_channel_settings(&cmd).unwrap();
                    enc.set_gain(usize::from(ch) - 1, s.gain);
                    write!(master, "Success: Channel set for {ch}$$$").unwrap();
                    cmd.clear();
                }
                continue;
            }
            match b {
                command::RESET => master
                    .write_all(
                        b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\n\
                          LIS3DH Device ID: 0x33\nFirmware: v3.1.2\n$$$",
                    )
                    .unwrap(),
                command::START => {
                    for k in 0..packets {
                        if k == skip_at {
                            enc.skip(3);
                        }
                        let mut uv = [0.0; 8];
                        uv[0] = 100.0 * Gain::X8.uv_per_count() * k as f64;
                        uv[1] = -(k as f64) * Gain::X24.uv_per_count();
                        let accel = (k % 10 == 0).then_some([0.0, 1.0, -0.5]);
                        master.write_all(&enc.packet(&uv, accel).unwrap()).unwrap();
                    }
                    return master;
                }
                _ => {}
            }
        }
    }
    master
}

#[test]
fn cyton_session_handshake_gain_and_counter_gap() {
    let (master, slave) = pty();
    let board = thread::spawn(move || fake_cyton(master, 300, 100));
    let mut gains = [Gain::X24; 8];
    gains[0] = Gain::X8;
    let cfg = CytonConfig {
        gains,
        motion_axis: Some(levator_serial::protocol::cyton::AccelAxis::Y),
        ..CytonConfig::default()
    };
    let mut src = SerialSource::from_port(slave, Protocol::Cyton(cfg), config()).unwrap();
    assert_eq!(src.spec().rate_hz(), 250.0);
    assert_eq!(src.spec().len(), 3);
    let (items, err) = collect(&mut src, 303, Duration::from_secs(5));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(items.len(), 301);
    assert_eq!(
        items[100],
        SourceItem::Gap {
            first_index: 100,
            lost: 3
        }
    );
    for item in &items {
        if let SourceItem::Frame(f) = item {
            let k = if f.index < 100 { f.index } else { f.index - 3 } as f64;
            // Channel 1 at gain 8 (set by the x...X command): 100 counts per k.
            assert!((f.get(0) - 100.0 * Gain::X8.uv_per_count() * k).abs() < 1e-9);
            assert!((f.get(1) + k * Gain::X24.uv_per_count()).abs() < 1e-9);
            assert_eq!(f.get(2), 1.0, "accelerometer Y held between readings");
        }
    }
    let _master = board.join().unwrap();
}

#[test]
fn stall_then_reconnect_with_backoff_resumes_the_stream() {
    use levator_serial::port::{Received, Reconnect};
    use std::sync::mpsc;
    let (mut master, slave) = pty();
    let (go, resume) = mpsc::channel::<()>();
    let writer = thread::spawn(move || {
        let mut enc = Encoder::new(header());
        master.write_all(&enc.header_frame()).unwrap();
        master.write_all(&data(&mut enc, 0, 10)).unwrap();
        // Stall until the source has reconnected; 10 samples never sent.
        resume.recv_timeout(Duration::from_secs(5)).unwrap();
        let _ = data(&mut enc, 10, 10);
        master.write_all(&data(&mut enc, 20, 10)).unwrap();
        master.flush().unwrap();
        master
    });
    let reconnect = Reconnect {
        attempts: 3,
        initial_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    };
    let mut src = SerialSource::from_port(
        slave,
        Protocol::Binary,
        config()
            .stall_timeout(Duration::from_millis(200))
            .reconnect(Some(reconnect)),
    )
    .unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    let mut frames = Vec::new();
    let mut gaps = Vec::new();
    let mut go = Some(go);
    while frames.len() < 20 {
        assert!(Instant::now() < end, "no resume: {frames:?}");
        match src.next_received().unwrap() {
            Some(Received::Item(SourceItem::Frame(f))) => frames.push(f.index),
            Some(Received::Item(SourceItem::Gap { first_index, lost })) => {
                gaps.push((first_index, lost))
            }
            Some(Received::Notice(Notice::Reconnected { attempt })) => {
                assert_eq!(attempt, 1);
                go.take().unwrap().send(()).unwrap();
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(frames, (0..10).chain(20..30).collect::<Vec<u64>>());
    assert_eq!(gaps, vec![(10, 10)]);
    assert_eq!(src.stats().reconnects, 1);
    let _master = writer.join().unwrap();
}

#[test]
fn unplugged_device_with_reconnect_gives_up_in_bounded_time() {
    use levator_serial::port::Reconnect;
    let (mut master, slave) = pty();
    // Reach the device through a private symlink, as udev's by-id links do:
    // once it is gone, a recycled /dev/pts number (another test's pty)
    // cannot be reopened by mistake.
    let link = std::env::temp_dir().join(format!("levator-serial-pty-{}", std::process::id()));
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(slave.name().unwrap(), &link).unwrap();
    drop(slave);
    let mut src = SerialSource::open(
        link.to_str().unwrap(),
        Protocol::BinaryWithHeader(header()),
        config().reconnect(Some(Reconnect {
            attempts: 3,
            initial_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
        })),
    )
    .unwrap();
    let mut enc = Encoder::new(header());
    master.write_all(&data(&mut enc, 0, 5)).unwrap();
    let (items, err) = collect(&mut src, 5, Duration::from_secs(5));
    assert_eq!((items.len(), err.is_none()), (5, true));
    // Unplug: the device node goes away with the pty.
    std::fs::remove_file(&link).unwrap();
    drop(master);
    let t = Instant::now();
    let (items, err) = collect(&mut src, u64::MAX, Duration::from_secs(5));
    assert!(items.is_empty(), "{items:?}");
    match err {
        Some(Error::ReconnectFailed { attempts: 3, last }) => {
            assert!(matches!(*last, Error::Open { .. }), "{last}")
        }
        other => panic!("expected ReconnectFailed, got {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn last_ascii_line_without_newline_is_delivered_before_the_disconnect() {
    let (mut master, slave) = pty();
    let cfg = AsciiConfig::roles(20.0, &[Role::PelvicPressure]).unwrap();
    let mut src = SerialSource::from_port(slave, Protocol::Ascii(cfg), config()).unwrap();
    master.write_all(b"1.5\n2.5\n3.5").unwrap();
    master.flush().unwrap();
    thread::sleep(Duration::from_millis(100));
    drop(master);
    let (items, err) = collect(&mut src, u64::MAX, Duration::from_secs(5));
    let values: Vec<f64> = items
        .iter()
        .map(|i| match i {
            SourceItem::Frame(f) => f.get(0),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(values, [1.5, 2.5, 3.5]);
    assert!(matches!(err, Some(Error::Disconnected { .. })), "{err:?}");
}

#[test]
fn source_and_error_cross_threads() {
    fn send<T: Send>() {}
    fn send_sync_error<T: std::error::Error + Send + Sync + 'static>() {}
    send::<SerialSource>();
    send_sync_error::<Error>();
}

#[test]
fn port_listing_works_without_libudev() {
    // Whatever the machine has (often nothing in a container), listing must
    // succeed and name every port with a path.
    let ports = levator_serial::port::list_ports().unwrap();
    for p in &ports {
        assert!(!p.name.is_empty(), "{p:?}");
    }
}
