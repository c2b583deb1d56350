//! Regenerates the committed simulator fixtures in `fixtures/` (or checks
//! them with `--check`).
//!
//! ```text
//! cargo run -p levator-sim --example make_fixtures            # write
//! cargo run -p levator-sim --example make_fixtures -- --check # compare only
//! cargo run -p levator-sim --example make_fixtures -- --dir /tmp/fx
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use levator_sim::fixtures::FIXTURES;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    let dir = args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures"));
    let mut failed = false;
    for fx in FIXTURES {
        let (csv, truth) = match fx.render() {
            Ok(x) => x,
            Err(e) => {
                eprintln!("{}: {e}", fx.stem);
                return ExitCode::FAILURE;
            }
        };
        for (ext, bytes) in [("csv", &csv), ("truth.jsonl", &truth)] {
            let path = dir.join(format!("{}.{ext}", fx.stem));
            if check {
                let same = std::fs::read(&path).is_ok_and(|b| &b == bytes);
                println!(
                    "{} {}",
                    if same { "same " } else { "DIFF " },
                    path.display()
                );
                failed |= !same;
            } else {
                if let Err(e) =
                    std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, bytes))
                {
                    eprintln!("{}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
                println!("{:>9} bytes  {}", bytes.len(), path.display());
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
