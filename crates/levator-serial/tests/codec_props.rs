//! Property tests of the three codecs: encode → decode is the identity;
//! arbitrary byte soup never panics and never yields a frame without a
//! valid CRC behind it; corruption only ever loses frames, never alters
//! one; any chunking of a byte stream gives the same items.

use levator_core::stream::{Role, Unit};
use levator_serial::crc::crc16;
use levator_serial::protocol::ascii::{AsciiConfig, AsciiDecoder, AsciiEncoder, TimestampUnit};
use levator_serial::protocol::binary::{
    ChannelFormat, Decoder, Encoder, SampleFormat, StreamHeader,
};
use levator_serial::protocol::cyton::{encode_packet, CytonConfig, CytonDecoder, Gain, Packet};
use levator_serial::protocol::{Decode, Decoded};
use proptest::prelude::*;

fn any_format() -> impl Strategy<Value = SampleFormat> {
    prop_oneof![
        Just(SampleFormat::I16),
        Just(SampleFormat::I24),
        Just(SampleFormat::I32)
    ]
}

/// A valid header: 1..=8 channels (distinct roles, any compatible unit),
/// any width, power-of-two scales (exact in f32 and f64).
fn any_header() -> impl Strategy<Value = StreamHeader> {
    (
        1u32..=4_000_000,
        Just(Role::ALL).prop_shuffle(),
        1usize..=6,
        proptest::collection::vec((any_format(), -8i32..8, -4i32..4, any::<bool>()), 6),
    )
        .prop_map(|(mhz, roles, n, fmts)| {
            let ch: Vec<ChannelFormat> = roles[..n]
                .iter()
                .zip(&fmts)
                .map(|(&role, &(fmt, e, off, mmhg))| {
                    let unit = if role.is_pressure() && mmhg {
                        Unit::MmHg
                    } else {
                        role.canonical_unit()
                    };
                    ChannelFormat::new(role, unit, fmt, 2f32.powi(e), off as f32)
                })
                .collect();
            StreamHeader::from_millihertz(mhz, &ch).unwrap()
        })
}

fn raw_in(fmt: SampleFormat) -> std::ops::RangeInclusive<i32> {
    fmt.min()..=fmt.max()
}

/// A header plus some data frames of raw counts within each channel's range.
fn stream() -> impl Strategy<Value = (StreamHeader, Vec<Vec<i32>>)> {
    any_header().prop_flat_map(|h| {
        let per_channel: Vec<_> = h.channels().iter().map(|c| raw_in(c.sample)).collect();
        let frame = (1usize..=12).prop_flat_map(move |n| {
            proptest::collection::vec(per_channel.clone(), n)
                .prop_map(|v| v.into_iter().flatten().collect::<Vec<i32>>())
        });
        (Just(h), proptest::collection::vec(frame, 1..12))
    })
}

fn encode(h: StreamHeader, frames: &[Vec<i32>]) -> (Vec<u8>, Vec<Vec<f64>>) {
    let mut enc = Encoder::new(h);
    let mut wire = enc.header_frame().to_vec();
    let mut expected = Vec::new();
    let c = h.channels().len();
    for (k, raw) in frames.iter().enumerate() {
        wire.extend_from_slice(&enc.data_frame_raw(raw).unwrap());
        if k % 3 == 1 {
            wire.extend_from_slice(&enc.marker_frame(k as u16, -(k as i32)));
        }
        for s in raw.chunks(c) {
            expected.push(
                s.iter()
                    .zip(h.channels())
                    .map(|(r, ch)| ch.to_canonical(*r))
                    .collect(),
            );
        }
    }
    (wire, expected)
}

fn decode_all(d: &mut dyn Decode, chunks: &[&[u8]]) -> Vec<Decoded> {
    let mut items = Vec::new();
    for c in chunks {
        d.push(c, &mut |i| items.push(i));
    }
    d.finish(&mut |i| items.push(i));
    items
}

fn frames_of(items: &[Decoded]) -> Vec<(u64, Vec<f64>)> {
    items
        .iter()
        .filter_map(|i| match i {
            Decoded::Frame(f) => Some((f.index, f.values().to_vec())),
            _ => None,
        })
        .collect()
}

/// Splits `data` at the given (sorted, deduplicated) cut points.
fn split<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        out.push(&data[at..c]);
        at = c;
    }
    out.push(&data[at..]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn binary_encode_decode_is_identity((h, frames) in stream()) {
        let (wire, expected) = encode(h, &frames);
        let items = decode_all(&mut Decoder::new(), &[&wire]);
        prop_assert_eq!(items[0], Decoded::Spec(h.spec()));
        let got = frames_of(&items);
        prop_assert_eq!(got.len(), expected.len());
        for (k, ((index, values), want)) in got.iter().zip(&expected).enumerate() {
            prop_assert_eq!(*index, k as u64);
            prop_assert_eq!(values, want);
        }
        let markers = items.iter().filter(|i| matches!(i, Decoded::Marker { .. })).count();
        prop_assert_eq!(markers, frames.len() / 3 + usize::from(frames.len() % 3 == 2));
        prop_assert_eq!(items.len(), 1 + got.len() + markers, "no errors, no gaps");
    }

    #[test]
    fn binary_header_round_trips(h in any_header()) {
        let mut enc = Encoder::new(h);
        let f = enc.header_frame();
        prop_assert_eq!(StreamHeader::parse_payload(&f[8..f.len() - 2]), Ok(h));
    }

    #[test]
    fn binary_any_chunking_gives_same_items(
        (h, frames) in stream(),
        garbage in proptest::collection::vec(any::<u8>(), 0..64),
        at in any::<usize>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let (mut wire, _) = encode(h, &frames);
        let at = at % (wire.len() + 1);
        wire.splice(at..at, garbage);
        let whole = decode_all(&mut Decoder::new(), &[&wire]);
        let chunked = decode_all(&mut Decoder::new(), &split(&wire, &cuts));
        prop_assert_eq!(&whole, &chunked);
        let bytewise: Vec<&[u8]> = wire.chunks(1).collect();
        prop_assert_eq!(&whole, &decode_all(&mut Decoder::new(), &bytewise));
    }

    /// Random bytes (with sync bytes sprinkled in to make the decoder
    /// work): no panic, every byte accounted for, and a frame only where a
    /// CRC-valid data frame really is in the soup.
    #[test]
    fn binary_byte_soup_never_yields_an_unchecked_frame(
        soup in proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(0xA5u8), Just(0x5Au8), Just(0x01u8), Just(0x02u8), Just(0u8)],
            0..3000),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let h = StreamHeader::new(100.0, &[ChannelFormat::new(
            Role::PelvicEmg, Unit::Microvolt, SampleFormat::I16, 1.0, 0.0)]).unwrap();
        let mut d = Decoder::with_header(h);
        let items = decode_all(&mut d, &split(&soup, &cuts));
        let valid_data_frames = (0..soup.len()).filter(|&p| {
            let Some(prefix) = soup.get(p..p + 8) else { return false };
            if prefix[..4] != [0xA5, 0x5A, 1, 2] { return false; }
            let n = usize::from(u16::from_le_bytes([prefix[6], prefix[7]]));
            let Some(frame) = soup.get(p..p + 10 + n) else { return false };
            crc16(&frame[2..8 + n]) == u16::from_le_bytes([frame[8 + n], frame[9 + n]])
        }).count();
        if valid_data_frames == 0 {
            prop_assert!(frames_of(&items).is_empty(), "{:?}", items);
        }
        let s = d.stats();
        prop_assert_eq!(s.bytes_in, soup.len() as u64);
    }

    /// Flipping bytes of a valid stream loses frames (reported) but never
    /// changes the value of one that gets through: CRC-16 catches every
    /// error burst up to 16 bits.
    #[test]
    fn binary_corruption_never_alters_a_frame(
        (h, frames) in stream(),
        flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..4),
    ) {
        let (mut wire, expected) = encode(h, &frames);
        // Leave the header intact so frames stay decodable.
        let header_len = Encoder::new(h).header_frame().len();
        let body = wire.len() - header_len;
        for (pos, x) in &flips {
            let p = header_len + pos % body;
            wire[p] ^= x;
        }
        let mut d = Decoder::new();
        let items = decode_all(&mut d, &[&wire]);
        for (index, values) in frames_of(&items) {
            let want = expected.get(index as usize);
            prop_assert_eq!(Some(&values), want, "frame {} altered", index);
        }
        let s = d.stats();
        prop_assert!(s.frames + s.samples_lost <= expected.len() as u64);
    }

    #[test]
    fn cyton_packet_round_trips(
        counter in any::<u8>(),
        ch in proptest::array::uniform8(-(1i32 << 23)..(1 << 23)),
        aux in proptest::array::uniform6(any::<u8>()),
        footer in 0xC0u8..=0xC6,
    ) {
        let bytes = encode_packet(counter, &ch, &aux, footer);
        let p = Packet::parse(&bytes).unwrap();
        prop_assert_eq!((p.counter, p.channels, p.aux, p.footer), (counter, ch, aux, footer));
        prop_assert_eq!(p.to_bytes(), bytes);
    }

    #[test]
    fn cyton_stream_any_chunking_and_soup(
        packets in proptest::collection::vec(
            (proptest::array::uniform8(-(1i32 << 23)..(1 << 23)), any::<bool>()), 1..40),
        garbage in proptest::collection::vec(any::<u8>(), 0..80),
        at in any::<usize>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..30),
    ) {
        let mut wire = Vec::new();
        let mut counter = 0u8;
        for (ch, skip) in &packets {
            if *skip { counter = counter.wrapping_add(1); }
            wire.extend_from_slice(&encode_packet(counter, ch, &[0; 6], 0xC0));
            counter = counter.wrapping_add(1);
        }
        let clean = decode_all(&mut CytonDecoder::new(CytonConfig::default()).unwrap(), &[&wire]);
        let u = Gain::X24.uv_per_count();
        let got = frames_of(&clean);
        prop_assert_eq!(got.len(), packets.len());
        for ((_, v), (ch, _)) in got.iter().zip(&packets) {
            prop_assert_eq!(v.clone(), vec![f64::from(ch[0]) * u, f64::from(ch[1]) * u]);
        }
        let at = at % (wire.len() + 1);
        wire.splice(at..at, garbage);
        let whole = decode_all(&mut CytonDecoder::new(CytonConfig::default()).unwrap(), &[&wire]);
        let chunked = decode_all(
            &mut CytonDecoder::new(CytonConfig::default()).unwrap(), &split(&wire, &cuts));
        prop_assert_eq!(whole, chunked);
    }

    #[test]
    fn ascii_encode_decode_is_identity(
        rows in proptest::collection::vec((-1e6f64..1e6, -1e3f64..1e3), 1..50),
        sep in prop_oneof![Just(','), Just('\t'), Just(';'), Just(' ')],
        cuts in proptest::collection::vec(any::<usize>(), 0..30),
    ) {
        let cfg = AsciiConfig::roles(250.0, &[Role::AbdominalEmg, Role::Respiration])
            .unwrap()
            .with_timestamp(TimestampUnit::Microseconds);
        let mut enc = AsciiEncoder::new(cfg).with_separator(sep);
        let mut wire = Vec::new();
        for (a, b) in &rows {
            wire.extend_from_slice(&enc.encode(&[*a, *b]).unwrap());
        }
        let whole = decode_all(&mut AsciiDecoder::new(cfg), &[&wire]);
        let got = frames_of(&whole);
        prop_assert_eq!(got.len(), rows.len(), "{:?}", whole);
        for (k, ((index, v), (a, b))) in got.iter().zip(&rows).enumerate() {
            prop_assert_eq!(*index, k as u64);
            prop_assert_eq!(v.clone(), vec![*a, *b]);
        }
        let chunked = decode_all(&mut AsciiDecoder::new(cfg), &split(&wire, &cuts));
        prop_assert_eq!(whole, chunked);
    }

    #[test]
    fn ascii_byte_soup_never_panics_and_counts_every_line(
        soup in proptest::collection::vec(
            prop_oneof![any::<u8>(), Just(b'\n'), Just(b','), Just(b'1'), Just(b'.')], 0..2000),
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let cfg = AsciiConfig::roles(10.0, &[Role::PelvicPressure]).unwrap();
        let mut d = AsciiDecoder::new(cfg);
        let items = decode_all(&mut d, &split(&soup, &cuts));
        let s = d.stats();
        // Every non-empty line is a frame or a rejected line + one lost sample.
        prop_assert_eq!(s.frames + s.rejected, items.iter().filter(|i| matches!(i, Decoded::Frame(_) | Decoded::Error(_))).count() as u64);
        prop_assert_eq!(s.samples_lost, s.rejected);
        let whole = decode_all(&mut AsciiDecoder::new(cfg), &[&soup]);
        prop_assert_eq!(items, whole);
    }
}
