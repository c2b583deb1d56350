//! Bad inputs: each gives one clear `levator: error:` line and exit code
//! 1, never a panic, never output on stdout.

mod common;

use common::*;

const CSV_HEAD: &str =
    "# levator-csv v1\n# rate_hz=10\nt_s,pelvic_pressure_cmh2o,abdominal_pressure_cmh2o\n";

fn analyze(p: &std::path::Path) -> std::process::Output {
    levator(&[
        "analyze",
        p.to_str().unwrap_or_default(),
        "--format",
        "jsonl",
    ])
}

#[test]
fn missing_file() {
    let o = levator(&["analyze", "/definitely/not/here.csv", "--format", "jsonl"]);
    assert_one_line_error(&o, &["/definitely/not/here.csv", "No such file"]);
}

#[test]
fn directory_instead_of_file() {
    let dir = scratch("dir");
    let o = analyze(&dir);
    assert_one_line_error(&o, &["directory"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn empty_and_blank_files() {
    let dir = scratch("empty");
    for (name, body) in [("empty.csv", &b""[..]), ("blank.txt", &b"\n \n\t\n"[..])] {
        let p = write(&dir, name, body);
        assert_one_line_error(&analyze(&p), &[name, "empty"]);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn unknown_format() {
    let dir = scratch("unknown");
    let p = write(&dir, "notes.txt", b"dear diary,\ntoday I squeezed\n");
    assert_one_line_error(&analyze(&p), &["unrecognised format"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn wrong_columns() {
    let dir = scratch("columns");
    let p = write(
        &dir,
        "cols.csv",
        b"# levator-csv v1\n# rate_hz=10\nt_s,heart_rate_bpm,colour\n0.0,60,red\n",
    );
    assert_one_line_error(&analyze(&p), &["line 3", "column"]);
    // Manometry export without any known sensor.
    let p = write(&dir, "mano.txt", b"TIME:\tX\tY\n0.0\t1\t2\n0.1\t1\t2\n");
    assert_one_line_error(&analyze(&p), &["line 1", "sensor"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn text_in_number_fields() {
    let dir = scratch("text");
    let body = format!("{CSV_HEAD}0.0,20.0,5.0\n0.1,twenty,5.0\n");
    let p = write(&dir, "text.csv", body.as_bytes());
    assert_one_line_error(&analyze(&p), &["line 5", "twenty"]);
    let p = write(
        &dir,
        "mano.txt",
        b"TIME:\tB1\t1\n0.00\t1.0\t2.0\n0.10\t1.0\tabc\n",
    );
    assert_one_line_error(&analyze(&p), &["line 3", "abc"]);
    let p = write(
        &dir,
        "emg.txt",
        b"# Sampling Rate (Hz):= 1000.00\n# Resolution:= 12\n2048\n20x9\n",
    );
    assert_one_line_error(&analyze(&p), &["line 4", "20x9"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn truncated_last_line() {
    let dir = scratch("truncated");
    let body = format!("{CSV_HEAD}0.0,20.0,5.0\n0.1,20.0,5.0\n0.2,20.");
    let p = write(&dir, "trunc.csv", body.as_bytes());
    assert_one_line_error(&analyze(&p), &["line 6", "expected 3 fields, found 2"]);
    let p = write(
        &dir,
        "trunc.txt",
        b"TIME:\tB2\tB1\t2\t1\n0.00\t1\t1\t30\t40\n0.10\t1\t1\t30\t40\n0.20\t1\t1",
    );
    assert_one_line_error(&analyze(&p), &["line 4", "expected 5 fields"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn non_utf8_bytes() {
    let dir = scratch("latin1");
    // Latin-1 notes in a manometry annotation block are tolerated (clinic
    // exports have them) and decoded.
    let mano = b"ZEIT:\tB1\t1\n0.0\t5\t50\n0.1\t5\t50\n0.2\t5\t50\nAnnotations:\n0.1\tBallonvolumen f\xfcr n\xe4chste Bef\xfcllung\n";
    let p = write(&dir, "latin1.txt", mano);
    let o = levator(&["inspect", p.to_str().unwrap_or_default()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Ballonvolumen f\u{fc}r n\u{e4}chste"),
        "{}",
        stdout(&o)
    );
    let o = analyze(&p);
    assert!(o.status.success(), "{}", stderr(&o));
    // Bytes that break the annotation's time field are an error naming the line.
    let bad = b"TIME:\tB1\t1\n0.0\t5\t50\n0.1\t5\t50\nAnnotations:\n1\xff2.5\t# Push 1\n";
    let p = write(&dir, "badtime.txt", bad);
    assert_one_line_error(&analyze(&p), &["line 5", "annotation time"]);
    // Non-UTF-8 bytes in a levator-csv file: one clear line.
    let body = b"# levator-csv v1\n# rate_hz=10 note=f\xfcr\nt_s,pelvic_pressure_cmh2o\n0.0,1\n";
    let p = write(&dir, "latin1.csv", body);
    assert_one_line_error(&analyze(&p), &["latin1.csv", "line 2", "UTF-8"]);
    // ... also in a data row.
    let body = b"# levator-csv v1\n# rate_hz=10\nt_s,pelvic_pressure_cmh2o\n0.0,1\n0.1,\xff\n";
    let p = write(&dir, "latin1row.csv", body);
    assert_one_line_error(&analyze(&p), &["latin1row.csv", "line 5", "UTF-8"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn time_going_backwards() {
    let dir = scratch("backwards");
    let p = write(
        &dir,
        "back.txt",
        b"TIME:\tB1\t1\n0.0\t1\t1\n0.1\t1\t1\n0.05\t1\t1\n",
    );
    assert_one_line_error(&analyze(&p), &["line 4", "does not increase"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_arguments_are_usage_errors_not_panics() {
    let o = levator(&["analyze"]);
    assert_eq!(o.status.code(), Some(2), "clap usage error");
    assert!(!stderr(&o).contains("panicked"));
    let o = levator(&["analyze", "x.csv", "--format", "xml"]);
    assert_eq!(o.status.code(), Some(2));
    let o = levator(&["demo", "--subject", "superhero", "--fast"]);
    assert_one_line_error(&o, &["superhero"]);
}
