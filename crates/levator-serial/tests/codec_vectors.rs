//! The binary test-vector table in the crate docs is what the encoder
//! produces and what the decoder accepts, byte for byte.

use levator_core::stream::{Role, Unit};
use levator_serial::protocol::binary::{
    ChannelFormat, Decoder, Encoder, SampleFormat, StreamHeader,
};
use levator_serial::protocol::Decoded;

const LIB_RS: &str = include_str!("../src/lib.rs");

/// Rows `//! | name | `HEX` |` of the "Test vectors" table.
fn doc_vectors() -> Vec<(String, Vec<u8>)> {
    let start = LIB_RS.find("## Test vectors").expect("table heading");
    LIB_RS[start..]
        .lines()
        .filter_map(|l| {
            let l = l.strip_prefix("//! | ")?;
            let (name, rest) = l.split_once(" | `")?;
            let hex = rest.strip_suffix("` |")?;
            let bytes = hex
                .split(' ')
                .map(|h| u8::from_str_radix(h, 16).expect("hex byte"))
                .collect();
            Some((name.to_string(), bytes))
        })
        .collect()
}

fn doc_header() -> StreamHeader {
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
                Unit::MmHg,
                SampleFormat::I16,
                0.1,
                0.0,
            ),
        ],
    )
    .unwrap()
}

#[test]
fn encoder_reproduces_doc_table() {
    let rows = doc_vectors();
    assert_eq!(rows.len(), 4, "the docs table has four frames");
    let mut e = Encoder::new(doc_header());
    let produced = [
        e.header_frame().to_vec(),
        e.data_frame_raw(&[1000, -20, -2, 305]).unwrap().to_vec(),
        e.marker_frame(7, -1).to_vec(),
        e.error_frame(2, 0x0102_0304).to_vec(),
    ];
    for ((name, bytes), got) in rows.iter().zip(&produced) {
        assert_eq!(got, bytes, "frame {name}");
    }
}

#[test]
fn decoder_reads_doc_table() {
    let wire: Vec<u8> = doc_vectors().into_iter().flat_map(|(_, b)| b).collect();
    let mut d = Decoder::new();
    let mut items = Vec::new();
    d.push(&wire, &mut |i| items.push(i));
    assert_eq!(items.len(), 5, "{items:?}");
    let Decoded::Spec(spec) = items[0] else {
        panic!("{:?}", items[0])
    };
    assert_eq!(spec.rate_hz(), 1000.0);
    assert_eq!(spec.channel_index(Role::AbdominalPressure), Some(1));
    let Decoded::Frame(f0) = items[1] else {
        panic!()
    };
    let Decoded::Frame(f1) = items[2] else {
        panic!()
    };
    assert_eq!((f0.index, f1.index), (0, 1));
    assert_eq!(f0.get(0), 500.0);
    assert!((f0.get(1) - -2.71902).abs() < 1e-5, "{}", f0.get(1));
    assert_eq!(f1.get(0), -1.0);
    assert!((f1.get(1) - 41.465).abs() < 1e-3, "{}", f1.get(1));
    assert_eq!(
        items[3],
        Decoded::Marker {
            index: 2,
            code: 7,
            value: -1
        }
    );
    assert_eq!(
        items[4],
        Decoded::DeviceError {
            code: 2,
            detail: 0x0102_0304
        }
    );
    let s = d.stats();
    assert_eq!(
        (s.crc_failures, s.bytes_skipped, s.frames_lost, s.rejected),
        (0, 0, 0, 0)
    );
}

#[test]
fn crc_check_value_is_the_documented_one() {
    assert_eq!(levator_serial::crc::crc16(b"123456789"), 0x29B1);
    assert!(LIB_RS.contains("= `0x29B1`"));
}
