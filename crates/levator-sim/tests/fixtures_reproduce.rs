//! Regenerating the committed fixtures reproduces them byte for byte.

use std::path::PathBuf;

use levator_sim::fixtures::FIXTURES;

#[test]
fn committed_fixtures_are_reproduced_byte_for_byte() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut total = 0;
    for fx in FIXTURES {
        let (csv, truth) = fx.render().unwrap();
        for (ext, bytes) in [("csv", csv), ("truth.jsonl", truth)] {
            let path = dir.join(format!("{}.{ext}", fx.stem));
            let committed = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (run make_fixtures)", path.display()));
            total += committed.len();
            if committed != bytes {
                let line = committed
                    .split(|b| *b == b'\n')
                    .zip(bytes.split(|b| *b == b'\n'))
                    .position(|(a, b)| a != b)
                    .map_or(0, |i| i + 1);
                panic!(
                    "{} differs from a fresh render (first differing line {line}); \
                     regenerate with `cargo run -p levator-sim --example make_fixtures` \
                     if the model changed on purpose",
                    path.display()
                );
            }
        }
    }
    // The set stays small.
    assert!(total < 4_000_000, "fixtures total {total} bytes");
}

#[test]
fn provenance_lists_every_fixture() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let text = std::fs::read_to_string(dir.join("PROVENANCE.md")).unwrap();
    for fx in FIXTURES {
        assert!(
            text.contains(fx.stem),
            "{} missing from PROVENANCE.md",
            fx.stem
        );
    }
    assert!(text.contains("cargo run -p levator-sim --example make_fixtures"));
}
