//! Hand-checked byte vectors for the ASCII and Cyton codecs, and targeted
//! resync/gap cases for all three decoders. (The binary vectors live in the
//! crate docs and `codec_vectors.rs`.)

use levator_core::stream::{Role, Unit};
use levator_serial::protocol::ascii::{AsciiColumn, AsciiConfig, AsciiDecoder, TimestampUnit};
use levator_serial::protocol::binary::{
    ChannelFormat, Decoder, Encoder, SampleFormat, StreamHeader,
};
use levator_serial::protocol::cyton::{
    command, encode_packet, AccelAxis, CytonConfig, CytonDecoder, Gain, Packet,
};
use levator_serial::protocol::{DecodeError, Decoded, LineError};

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect()
}

/// A Cyton packet written out by hand from the OpenBCI data format.
const CYTON_PACKET: &str = "A0 05 \
    00 03 E8  FF FF FF  80 00 01  7F FF FF  00 00 01  FF FC 18  00 00 00  12 34 56 \
    00 20 FF E0 1F 40  C0";

#[test]
fn cyton_packet_decodes_to_known_microvolts() {
    let bytes: [u8; 33] = hex(CYTON_PACKET).try_into().unwrap();
    let p = Packet::parse(&bytes).unwrap();
    assert_eq!(p.counter, 5);
    assert_eq!(
        p.channels,
        [1000, -1, -8_388_607, 8_388_607, 1, -1000, 0, 0x12_3456]
    );
    // µV = count × 4.5 / 24 / (2^23 − 1) × 1e6, values computed independently.
    let uv = p.channels_uv(&[Gain::X24; 8]);
    let expected = [
        22.351744455307063,
        -0.022351744455307063,
        -187500.0,
        187500.0,
        0.022351744455307063,
        -22.351744455307063,
        0.0,
        26666.65931542627,
    ];
    for (u, e) in uv.iter().zip(expected) {
        assert!((u - e).abs() <= 1e-9 * e.abs().max(1.0), "{u} vs {e}");
    }
    assert!((Gain::X24.uv_per_count() - 0.02235).abs() < 1e-5);
    let mut gains = [Gain::X24; 8];
    gains[7] = Gain::X8;
    assert!((p.channels_uv(&gains)[7] - 79999.97794627881).abs() < 1e-8);
    // Accelerometer: 32, −32, 8000 counts × 0.002/16 g.
    assert_eq!(p.accel_counts(), Some([32, -32, 8000]));
    assert_eq!(p.accel_g(), Some([0.004, -0.004, 1.0]));
    assert_eq!(p.to_bytes(), bytes);
    assert_eq!(encode_packet(5, &p.channels, &p.aux, 0xC0), bytes);
}

#[test]
fn cyton_footer_and_header_are_checked() {
    let mut bytes: [u8; 33] = hex(CYTON_PACKET).try_into().unwrap();
    bytes[32] = 0xC7;
    assert_eq!(Packet::parse(&bytes), Err(DecodeError::BadFooter(0xC7)));
    bytes[32] = 0xC6;
    let p = Packet::parse(&bytes).unwrap();
    assert_eq!(p.accel_counts(), None, "aux is not accelerometer for C6");
    bytes[0] = 0xA1;
    assert!(Packet::parse(&bytes).is_err());
}

#[test]
fn cyton_decoder_resyncs_counts_footer_failures_and_gaps() {
    let mut cfg = CytonConfig {
        motion_axis: Some(AccelAxis::Z),
        ..CytonConfig::default()
    };
    cfg.roles[2] = Some(Role::Respiration);
    let mut d = CytonDecoder::new(cfg).unwrap();
    let ch = |k: i32| [k, -k, 2 * k, 0, 0, 0, 0, 0];
    let mut wire = b"garbage \xA0 more".to_vec();
    for k in 0..5u8 {
        let aux = if k == 0 {
            [0, 0, 0, 0, 0x1F, 0x40]
        } else {
            [0; 6]
        };
        wire.extend_from_slice(&encode_packet(k, &ch(i32::from(k)), &aux, 0xC0));
    }
    // Packet 5 with a broken footer, packet 6 lost, then 7..9.
    wire.extend_from_slice(&encode_packet(5, &ch(5), &[0; 6], 0x00));
    for k in 7..10u8 {
        wire.extend_from_slice(&encode_packet(k, &ch(i32::from(k)), &[0; 6], 0xC1));
    }
    let mut items = Vec::new();
    d.push(&wire, &mut |i| items.push(i));
    d.finish(&mut |i| items.push(i));
    let frames: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            Decoded::Frame(f) => Some(*f),
            _ => None,
        })
        .collect();
    assert_eq!(frames.len(), 8);
    assert_eq!(
        frames.iter().map(|f| f.index).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 7, 8, 9]
    );
    let u = Gain::X24.uv_per_count();
    assert_eq!(frames[5].values(), &[7.0 * u, -7.0 * u, 14.0 * u, 1.0][..]);
    assert!(items.contains(&Decoded::Gap {
        first_index: 5,
        lost: 2
    }));
    assert!(items.contains(&Decoded::Error(DecodeError::BadFooter(0x00))));
    let s = d.stats();
    assert_eq!(s.footer_failures, 1);
    assert_eq!(s.samples_lost, 2);
    assert_eq!(s.frames, 8);
    assert_eq!(s.bytes_in, wire.len() as u64);
    // Everything not in a good packet was skipped: 14 leading bytes + 33.
    assert_eq!(s.bytes_skipped, 14 + 33);
    assert_eq!(s.bytes_skipped + 8 * 33, s.bytes_in);
}

#[test]
fn cyton_commands() {
    let s = command::ChannelSettings {
        powered_down: true,
        gain: Gain::X1,
        input: command::Input::Shorted,
        bias: false,
        srb2: false,
        srb1: true,
    };
    let cmd = command::channel_settings(8, &s).unwrap();
    assert_eq!(&cmd, b"x8101001X");
    assert_eq!(command::parse_channel_settings(&cmd), Ok((8, s)));
    assert_eq!(
        command::channel_settings(0, &s),
        Err(command::CommandError::Channel)
    );
    assert_eq!(
        command::parse_channel_settings(b"x9060110X"),
        Err(command::CommandError::Channel)
    );
    assert_eq!(
        command::parse_channel_settings(b"x1070110X"),
        Err(command::CommandError::Syntax),
        "gain code 7 does not exist"
    );
    assert_eq!(
        &command::channel_settings(1, &command::ChannelSettings::default()).unwrap(),
        b"x1060110X"
    );

    let mut r = command::Reply::new();
    let text =
        b"OpenBCI V3 8-16 channel\nOn Board ADS1299 Device ID: 0x3E\nFirmware: v3.1.2\n$$$\xA0\x01";
    assert_eq!(r.push(&text[..10]), None);
    assert_eq!(r.push(&text[10..]), Some(text.len() - 10 - 2));
    assert!(r.is_complete());
    assert_eq!(r.firmware(), Some("v3.1.2"));
    assert!(!r.has_daisy());
    assert!(r.text().ends_with(b"v3.1.2\n"));
}

#[test]
fn ascii_hand_vectors() {
    let cfg = AsciiConfig::new(
        50.0,
        &[
            Some(AsciiColumn::new(Role::AbdominalPressure, Unit::MmHg)),
            None,
            Some(AsciiColumn::scaled(
                Role::PelvicEmg,
                Unit::Microvolt,
                2.0,
                -1024.0,
            )),
        ],
    )
    .unwrap()
    .with_timestamp(TimestampUnit::Seconds);
    assert_eq!(cfg.spec().len(), 2);
    assert_eq!(
        cfg.spec().channels()[0].unit,
        Unit::CmH2O,
        "decoded in canonical units"
    );
    let mut d = AsciiDecoder::new(cfg);
    let wire = b"0.00,10,99,512\r\n\
                 0.02\t20\t99\t513\n\
                 \r\n\
                 0.04 30   99 514\r\
                 0.06;40; 99 ;515\n\
                 0.08,,99,1\n\
                 0.10,1,2\n\
                 0.12,nan,1,1\n\
                 0.18,50,99,600";
    let mut items = Vec::new();
    d.push(wire, &mut |i| items.push(i));
    assert_eq!(
        items.len(),
        4 + 3 * 2,
        "last line waits for its terminator: {items:?}"
    );
    d.finish(&mut |i| items.push(i));
    let mmhg = levator_core::stream::CMH2O_PER_MMHG;
    let frame = |i: usize| match items[i] {
        Decoded::Frame(f) => f,
        other => panic!("item {i}: {other:?}"),
    };
    for (i, k) in (0..4).zip([10.0, 20.0, 30.0, 40.0]) {
        let f = frame(i);
        assert_eq!(f.index, i as u64);
        assert_eq!(f.get(0), k * mmhg);
        assert_eq!(f.get(1), (512.0 + i as f64) * 2.0 - 1024.0);
    }
    let line = |i: usize| match items[i] {
        Decoded::Error(DecodeError::Line { line, kind }) => (line, kind),
        other => panic!("item {i}: {other:?}"),
    };
    assert_eq!(line(4), (5, LineError::EmptyField(1)));
    assert_eq!(
        items[5],
        Decoded::Gap {
            first_index: 4,
            lost: 1
        }
    );
    assert_eq!(
        line(6),
        (
            6,
            LineError::ColumnCount {
                found: 3,
                expected: 4
            }
        )
    );
    assert_eq!(line(8), (7, LineError::NonFinite(1)));
    // 0.18 s is three periods after the rejected 0.12 s line: two more lost.
    assert_eq!(
        items[10],
        Decoded::Gap {
            first_index: 7,
            lost: 2
        }
    );
    assert_eq!(frame(11).index, 9);
    assert_eq!(frame(11).get(1), 176.0);
    let s = d.stats();
    assert_eq!((s.frames, s.rejected, s.samples_lost), (5, 3, 5));
}

#[test]
fn ascii_overlong_and_non_utf8_lines_are_reported() {
    let mut d = AsciiDecoder::new(AsciiConfig::roles(10.0, &[Role::Respiration]).unwrap());
    let mut wire = vec![b'1'; 300];
    wire.extend_from_slice(b"\n\xFF\xFE\n2\n");
    let mut items = Vec::new();
    d.push(&wire, &mut |i| items.push(i));
    assert_eq!(
        items[0],
        Decoded::Error(DecodeError::Line {
            line: 1,
            kind: LineError::TooLong
        })
    );
    assert_eq!(
        items[2],
        Decoded::Error(DecodeError::Line {
            line: 2,
            kind: LineError::NotUtf8
        })
    );
    assert!(matches!(items[4], Decoded::Frame(f) if f.index == 2 && f.get(0) == 2.0));
    assert_eq!(d.stats().bytes_skipped, 300);
}

fn two_channel_header() -> StreamHeader {
    StreamHeader::new(
        500.0,
        &[
            ChannelFormat::new(
                Role::PelvicEmg,
                Unit::Microvolt,
                SampleFormat::I32,
                0.125,
                0.0,
            ),
            ChannelFormat::new(Role::ProbeMotion, Unit::G, SampleFormat::I16, 0.0625, 0.0),
        ],
    )
    .unwrap()
}

#[test]
fn binary_rejects_and_reports_every_kind_of_bad_frame() {
    let mut enc = Encoder::new(two_channel_header());
    let mut wire = Vec::new();
    // Data before any header: cannot be decoded, reported with its size.
    wire.extend_from_slice(&enc.data_frame_raw(&[1, 2, 3, 4]).unwrap());
    wire.extend_from_slice(&enc.header_frame());
    wire.extend_from_slice(&enc.data_frame_raw(&[5, 6]).unwrap());
    // Device counter jumps backwards (reset without a new header).
    let mut again = Encoder::new(two_channel_header());
    wire.extend_from_slice(&again.data_frame_raw(&[7, 8]).unwrap());
    // A frame of an unknown version and one of an unknown type, valid CRCs.
    for (ver, ty) in [(2u8, 2u8), (1, 9)] {
        let mut f = vec![0xA5, 0x5A, ver, ty, 0, 0, 1, 0, 0x42];
        let crc = levator_serial::crc::crc16(&f[2..]);
        f.extend_from_slice(&crc.to_le_bytes());
        wire.extend_from_slice(&f);
    }
    let mut d = Decoder::new();
    let mut items = Vec::new();
    d.push(&wire, &mut |i| items.push(i));
    assert_eq!(
        items[0],
        Decoded::Error(DecodeError::NoHeader { samples: 2 })
    );
    assert!(matches!(items[1], Decoded::Spec(s) if s.rate_hz() == 500.0));
    assert!(matches!(items[2], Decoded::Frame(f) if f.index == 2 && f.values() == [0.625, 0.375]));
    assert_eq!(items[3], Decoded::Error(DecodeError::CounterReset));
    assert!(matches!(items[4], Decoded::Frame(f) if f.index == 3 && f.values() == [0.875, 0.5]));
    assert_eq!(items[5], Decoded::Error(DecodeError::UnsupportedVersion(2)));
    assert_eq!(items[6], Decoded::Error(DecodeError::UnknownFrameType(9)));
    assert_eq!(items.len(), 7);
    assert_eq!(d.stats().rejected, 4);
}

#[test]
fn binary_sample_index_wraps_without_a_false_gap() {
    let h = two_channel_header();
    let mut d = Decoder::with_header(h);
    let mut frames = Vec::new();
    let mut wire = Vec::new();
    // The device counter starts just below 2^32 and wraps inside frame 1.
    let mut raw_enc = RawAt { next: u32::MAX - 2 };
    for k in 0..3 {
        wire.extend_from_slice(&raw_enc.frame(&h, k));
    }
    d.push(&wire, &mut |i| {
        if let Decoded::Frame(f) = i {
            frames.push(f.index)
        } else {
            panic!("unexpected {i:?}")
        }
    });
    let start = u64::from(u32::MAX - 2);
    assert_eq!(frames, (start..start + 6).collect::<Vec<u64>>());
}

/// Builds data frames at an arbitrary device index (2 samples each).
struct RawAt {
    next: u32,
}

impl RawAt {
    fn frame(&mut self, h: &StreamHeader, k: i32) -> Vec<u8> {
        let mut p = self.next.to_le_bytes().to_vec();
        p.push(2);
        for s in 0..2 {
            p.extend_from_slice(&(k * 10 + s).to_le_bytes());
            p.extend_from_slice(&(k as i16).to_le_bytes());
        }
        assert_eq!(p.len(), 5 + 2 * h.bytes_per_frame());
        let mut f = vec![0xA5, 0x5A, 1, 2, 0, 0];
        f.extend_from_slice(&(p.len() as u16).to_le_bytes());
        f.extend_from_slice(&p);
        let crc = levator_serial::crc::crc16(&f[2..]);
        f.extend_from_slice(&crc.to_le_bytes());
        self.next = self.next.wrapping_add(2);
        f
    }
}

#[test]
fn ascii_timestamp_wrap_and_glitch_are_reported_not_turned_into_gaps() {
    let cfg = AsciiConfig::roles(1000.0, &[Role::PelvicEmg])
        .unwrap()
        .with_timestamp(TimestampUnit::Microseconds);
    let mut d = AsciiDecoder::new(cfg);
    // micros() wraps at 2^32; then a corrupted digit jumps ~3 hours ahead.
    let wire = b"4294966000,1\n4294967000,2\n704,3\n1704,4\n9999991704,5\n9999992704,6\n";
    let mut items = Vec::new();
    d.push(wire, &mut |i| items.push(i));
    let frames: Vec<u64> = items
        .iter()
        .filter_map(|i| match i {
            Decoded::Frame(f) => Some(f.index),
            _ => None,
        })
        .collect();
    assert_eq!(frames, [0, 1, 2, 3, 4, 5], "every sample kept, no gap");
    let kinds: Vec<LineError> = items
        .iter()
        .filter_map(|i| match i {
            Decoded::Error(DecodeError::Line { kind, .. }) => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [LineError::TimestampNotIncreasing, LineError::TimestampJump]
    );
    assert_eq!(d.stats().samples_lost, 0);
}
