//! levator-csv v1: round trip, streaming reader errors, unknown columns,
//! optional t_s, gaps.

use levator_core::stream::{Role, SampleSource, SourceItem, Unit};
use levator_sim::csv::{CsvError, CsvReader};
use levator_sim::{render_recording, Simulator};

#[test]
fn simulator_output_reads_back_exactly() {
    for (device, with_time) in [
        ("manometry", true),
        ("emg-probe", false),
        ("pressure-trainer", true),
    ] {
        let mut sim = Simulator::from_names("bearing_down", "healthy", device, 4).unwrap();
        let spec = sim.spec();
        let frames: Vec<_> = sim.clone().collect();
        let (mut csv, mut truth) = (Vec::new(), Vec::new());
        render_recording(&mut sim, &mut csv, &mut truth, with_time).unwrap();
        let mut r = CsvReader::new(&csv[..]).unwrap();
        assert_eq!(r.spec(), spec, "{device}");
        assert_eq!(r.metadata()["device"], device);
        assert_eq!(r.metadata()["seed"], "4");
        let mut n = 0;
        while let Some(item) = r.next_item().unwrap() {
            let SourceItem::Frame(f) = item else {
                panic!("gap in {device}")
            };
            let want = frames[n];
            assert_eq!(f.index, want.index);
            for c in 0..spec.len() {
                // Written with 3-4 decimals.
                assert!(
                    (f.get(c) - want.get(c)).abs() < 6e-4,
                    "{device} row {n} ch {c}"
                );
            }
            n += 1;
        }
        assert_eq!(n, frames.len());
        // The truth file parses back into the same events.
        let text = String::from_utf8(truth).unwrap();
        let back: Vec<levator_core::event::Event> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(back.len(), sim.truth().len());
        for (a, b) in back.iter().zip(sim.truth()) {
            assert_eq!(*a, b.rounded());
        }
    }
}

#[test]
fn manometry_is_written_in_mmhg() {
    let mut sim = Simulator::from_names("bearing_down", "healthy", "manometry", 1).unwrap();
    let spec = sim.spec();
    assert_eq!(spec.channels()[0].role, Role::AbdominalPressure);
    assert_eq!(spec.channels()[1].unit, Unit::MmHg);
    let first = sim.next().unwrap();
    // Anal resting pressure is tens of mmHg, rectal a few.
    assert!((30.0..130.0).contains(&first.get(1)), "{}", first.get(1));
    assert!((-5.0..20.0).contains(&first.get(0)), "{}", first.get(0));
}

const GOOD: &str = "# levator-csv v1\n# rate_hz=100\n# device=x\nt_s,pelvic_emg_uv,marker,abdominal_emg_uv\n0.00,1.5,a,2\n0.01,,b,nan\n0.02,3,,4\n";

#[test]
fn unknown_columns_are_carried_and_missing_values_are_nan() {
    let mut r = CsvReader::new(GOOD.as_bytes()).unwrap();
    assert_eq!(r.extra_columns(), ["marker"]);
    assert_eq!(r.spec().len(), 2);
    let a = r.read_record().unwrap().unwrap();
    assert_eq!(
        (a.frame.get(0), a.frame.get(1), a.extra[0].as_str()),
        (1.5, 2.0, "a")
    );
    assert_eq!(a.line, 5);
    let b = r.read_record().unwrap().unwrap();
    assert!(b.frame.get(0).is_nan() && b.frame.get(1).is_nan());
    assert_eq!(b.extra, ["b"]);
    let c = r.read_record().unwrap().unwrap();
    assert_eq!((c.frame.index, c.extra[0].as_str()), (2, ""));
    assert!(r.read_record().unwrap().is_none());
}

#[test]
fn bad_rows_name_their_line() {
    let bad_number = GOOD.replace("0.02,3,,4", "0.02,3,,4x");
    let mut r = CsvReader::new(bad_number.as_bytes()).unwrap();
    r.read_record().unwrap();
    r.read_record().unwrap();
    match r.read_record() {
        Err(CsvError::Number {
            line,
            column,
            value,
        }) => {
            assert_eq!(
                (line, column.as_str(), value.as_str()),
                (7, "abdominal_emg_uv", "4x")
            );
        }
        other => panic!("{other:?}"),
    }
    let bad_count = GOOD.replace("0.01,,b,nan", "0.01,,b");
    let mut r = CsvReader::new(bad_count.as_bytes()).unwrap();
    r.read_record().unwrap();
    let e = r.read_record().unwrap_err();
    assert!(
        matches!(
            e,
            CsvError::FieldCount {
                line: 6,
                expected: 4,
                found: 3
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("line 6:"), "{e}");
    let backwards = GOOD.replace("0.02,3", "0.00,3");
    let mut r = CsvReader::new(backwards.as_bytes()).unwrap();
    r.read_record().unwrap();
    r.read_record().unwrap();
    assert!(matches!(
        r.read_record(),
        Err(CsvError::Time { line: 7, .. })
    ));
    assert!(matches!(
        CsvReader::new("t_s,pelvic_emg_uv\n".as_bytes()),
        Err(CsvError::Magic)
    ));
    assert!(matches!(
        CsvReader::new("# levator-csv v1\n# rate_hz=10\nt_s,heart_bpm\n".as_bytes()),
        Err(CsvError::NoChannels { line: 3 })
    ));
    assert!(matches!(
        CsvReader::new("# levator-csv v1\npelvic_emg_uv\n1\n".as_bytes()),
        Err(CsvError::NoRate)
    ));
    assert!(matches!(
        CsvReader::new("# levator-csv v1\n# rate_hz=-3\npelvic_emg_uv\n1\n".as_bytes()),
        Err(CsvError::Header { .. })
    ));
    assert!(matches!(
        CsvReader::new("# levator-csv v1\n# rate_hz=3\npelvic_emg_uv,pelvic_emg_uv\n".as_bytes()),
        Err(CsvError::Header { line: 3, .. })
    ));
}

#[test]
fn time_column_is_optional_with_rate_and_rate_is_inferred_without() {
    let no_time = "# levator-csv v1\n# rate_hz=4\npelvic_pressure_cmh2o\n19\n20\n21\n";
    let mut r = CsvReader::new(no_time.as_bytes()).unwrap();
    assert!(!r.has_time());
    let idx: Vec<u64> = std::iter::from_fn(|| r.read_record().unwrap())
        .map(|x| x.frame.index)
        .collect();
    assert_eq!(idx, [0, 1, 2]);
    let no_rate = "# levator-csv v1\nt_s,pelvic_pressure_cmh2o\n1.00,19\n1.02,20\n1.04,21\n";
    let mut r = CsvReader::new(no_rate.as_bytes()).unwrap();
    assert_eq!(r.spec().rate_hz(), 50.0);
    let idx: Vec<u64> = std::iter::from_fn(|| r.read_record().unwrap())
        .map(|x| x.frame.index)
        .collect();
    assert_eq!(idx, [50, 51, 52]);
}

#[test]
fn jumps_in_time_are_gaps_not_silent_losses() {
    let text = "# levator-csv v1\n# rate_hz=10\nt_s,pelvic_emg_uv\n0.0,1\n0.1,2\n0.5,3\n0.6,4\n";
    let mut r = CsvReader::new(text.as_bytes()).unwrap();
    let mut items = Vec::new();
    while let Some(i) = r.next_item().unwrap() {
        items.push(i);
    }
    assert_eq!(items.len(), 5);
    assert_eq!(
        items[2],
        SourceItem::Gap {
            first_index: 2,
            lost: 3
        }
    );
    let SourceItem::Frame(f) = items[3] else {
        panic!()
    };
    assert_eq!((f.index, f.get(0)), (5, 3.0));
}
