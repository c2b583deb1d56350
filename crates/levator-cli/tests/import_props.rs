//! Property tests of the importers on hostile input: arbitrary bytes and
//! random corruptions of valid files never panic, every error is one line
//! naming a line when it concerns content, and every frame delivered is
//! finite with strictly increasing indices.

use std::io::Cursor;

use levator_core::stream::{SampleSource, SourceItem};
use levator_sim::import::{
    sniff, EmgTextOptions, EmgTextReader, ImportError, ManometryOptions, ManometryReader,
};
use proptest::prelude::*;

const MANOMETRY: &str = "TIME:\tB2\tB1\t3\t2\t1\n\
    \x20   0.00\t   20.56\t    1.21\t    6.36\t    9.21\t   29.32\n\
    \x20   0.54\t   18.35\t    1.39\t    8.21\t   10.72\t   35.02\n\
    \x20   1.08\t   19.35\t    1.49\t    8.91\t   11.72\t   36.02\n\
    \x20   1.62\t   21.35\t    1.59\t    9.21\t   12.72\t   33.02\n\
    \x20   2.16\t   20.35\t    1.29\t    8.21\t   10.72\t   31.02\n\
    \n\
    Annotations:\n\
    \x20  -1.00\t# B1\n\
    \x20   0.60\t# Squeeze 1\n\
    \x20   1.70\tBallonvolumen f\u{fc}r n\u{e4}chste\n\
    \x20   1.90\t# Push 1\n";

const EMG: &str = "# Simple Text Format\n# Sampling Rate (Hz):= 1000.00\n# Resolution:= 12\n\
    # Labels:= EMG\n2034\n2011\n2004\n2011\n2043\n2051\n2035\n";

/// Drains a source (bounded), checking frames; returns the error if any.
fn drain<S: SampleSource<Error = ImportError>>(mut s: S) -> Option<ImportError> {
    let width = s.spec().len();
    let mut last: Option<u64> = None;
    for _ in 0..100_000 {
        match s.next_item() {
            Ok(Some(SourceItem::Frame(f))) => {
                assert_eq!(f.len(), width);
                assert!(f.values().iter().all(|v| v.is_finite()), "{f:?}");
                assert!(
                    last.is_none_or_less(f.index),
                    "index {} after {last:?}",
                    f.index
                );
                last = Some(f.index);
            }
            Ok(Some(SourceItem::Gap { first_index, lost })) => {
                assert!(lost > 0);
                assert!(last.is_none_or_less(first_index));
                last = Some(first_index + lost - 1);
            }
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    }
    panic!("source did not end");
}

trait LessThan {
    fn is_none_or_less(&self, x: u64) -> bool;
}

impl LessThan for Option<u64> {
    fn is_none_or_less(&self, x: u64) -> bool {
        match self {
            None => true,
            Some(v) => *v < x,
        }
    }
}

fn check_error(e: &ImportError) {
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "multi-line error: {msg:?}");
    if let ImportError::Malformed { line, .. } = e {
        assert!(*line >= 1);
        assert!(msg.starts_with(&format!("line {line}: ")), "{msg}");
    }
}

fn run_all(bytes: &[u8]) {
    let _ = sniff(bytes);
    match ManometryReader::new(Cursor::new(bytes.to_vec()), ManometryOptions::default()) {
        Ok(r) => {
            if let Some(e) = drain(r) {
                check_error(&e);
            }
        }
        Err(e) => check_error(&e),
    }
    match EmgTextReader::new(bytes, EmgTextOptions::default()) {
        Ok(r) => {
            if let Some(e) = drain(r) {
                check_error(&e);
            }
        }
        Err(e) => check_error(&e),
    }
}

/// One random edit of a text: replace, insert or delete a byte.
fn mutate(base: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut v = base.to_vec();
    for &(pos, op, byte) in edits {
        if v.is_empty() {
            v.push(byte);
            continue;
        }
        let i = pos % v.len();
        match op % 3 {
            0 => v[i] = byte,
            1 => v.insert(i, byte),
            _ => {
                v.remove(i);
            }
        }
    }
    v
}

#[test]
fn the_valid_samples_import() {
    let r = ManometryReader::new(Cursor::new(MANOMETRY), ManometryOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.markers().len(), 3);
    assert!(drain(r).is_none());
    let r = EmgTextReader::new(EMG.as_bytes(), EmgTextOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(drain(r).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        run_all(&bytes);
    }

    #[test]
    fn corrupted_manometry_never_panics(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)
    ) {
        run_all(&mutate(MANOMETRY.as_bytes(), &edits));
    }

    #[test]
    fn corrupted_emg_text_never_panics(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..8)
    ) {
        run_all(&mutate(EMG.as_bytes(), &edits));
    }

    #[test]
    fn digits_and_separators_never_panic(
        text in "[0-9\\.\\-\\t \\n#:=a-zA-Z]{0,400}"
    ) {
        run_all(format!("TIME:\tB1\t1\n{text}").as_bytes());
        run_all(format!("# Sampling Rate:= 100\n# Resolution:= 10\n{text}").as_bytes());
    }
}
