//! Opening a recording in any supported format, detected from its content.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use levator_core::stream::{SampleSource, SourceItem, StreamSpec};

use crate::error::{CliError, CliResult};
use crate::import::{
    sniff, EmgTextOptions, EmgTextReader, ImportError, InputFormat, ManometryOptions,
    ManometryReader, Marker,
};

/// `--input-format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Detect from the file's content.
    Auto,
    /// levator-csv v1.
    Csv,
    /// Anorectal manometry text export (`TIME:` / `ZEIT:` header).
    Manometry,
    /// Single-column EMG text with a `Sampling Rate` header.
    EmgText,
}

/// An opened recording: a sample source plus what the file says about itself.
#[derive(Debug)]
pub enum Recording {
    /// Anorectal manometry text export.
    Manometry(ManometryReader<BufReader<File>>),
    /// Single-column EMG text.
    EmgText(EmgTextReader<BufReader<File>>),
}

impl Recording {
    /// Opens `path`, detecting the format unless `format` says otherwise.
    pub fn open(path: &Path, format: FormatArg) -> CliResult<Recording> {
        let shown = path.display();
        let mut file = File::open(path).map_err(|e| CliError::new(format!("{shown}: {e}")))?;
        let format = match format {
            FormatArg::Csv => InputFormat::LevatorCsv,
            FormatArg::Manometry => InputFormat::Manometry,
            FormatArg::EmgText => InputFormat::EmgText,
            FormatArg::Auto => {
                let mut head = Vec::with_capacity(4096);
                (&mut file)
                    .take(4096)
                    .read_to_end(&mut head)
                    .map_err(|e| CliError::new(format!("{shown}: {e}")))?;
                if head.iter().all(u8::is_ascii_whitespace) {
                    return Err(CliError::new(format!("{shown}: the file is empty")));
                }
                sniff(&head).ok_or_else(|| {
                    CliError::new(format!(
                        "{shown}: unrecognised format (expected levator-csv, a manometry \
                         text export or single-column EMG text); use --input-format"
                    ))
                })?
            }
        };
        let file = File::open(path).map_err(|e| CliError::new(format!("{shown}: {e}")))?;
        let reader = BufReader::new(file);
        let imported = |e: ImportError| CliError::new(format!("{shown}: {e}"));
        match format {
            InputFormat::Manometry => Ok(Recording::Manometry(
                ManometryReader::new(reader, ManometryOptions::default()).map_err(imported)?,
            )),
            InputFormat::EmgText => Ok(Recording::EmgText(
                EmgTextReader::new(reader, EmgTextOptions::default()).map_err(imported)?,
            )),
            InputFormat::LevatorCsv => Err(CliError::new(format!(
                "{shown}: levator-csv is read by the simulator crate's reader"
            ))),
        }
    }

    /// The detected format.
    pub fn format(&self) -> InputFormat {
        match self {
            Recording::Manometry(_) => InputFormat::Manometry,
            Recording::EmgText(_) => InputFormat::EmgText,
        }
    }

    /// Timestamped annotations (manometry markers), if the format has any.
    pub fn markers(&self) -> &[Marker] {
        match self {
            Recording::Manometry(r) => r.markers(),
            Recording::EmgText(_) => &[],
        }
    }

    /// Problems the importer tolerated, one line each.
    pub fn problems(&self) -> Vec<String> {
        match self {
            Recording::Manometry(r) => r.problems().iter().map(|p| p.to_string()).collect(),
            Recording::EmgText(r) => r.problems().iter().map(|p| p.to_string()).collect(),
        }
    }

    /// Extra facts worth showing (sensor mapping, ADC scale, clock offset).
    pub fn notes(&self) -> Vec<String> {
        match self {
            Recording::Manometry(r) => {
                let mut v = vec![
                    format!(
                        "pelvic_pressure = max of anal sensors [{}]",
                        r.anal_sensors().join(", ")
                    ),
                    format!(
                        "abdominal_pressure = mean of rectal sensors [{}]",
                        r.rectal_sensors().join(", ")
                    ),
                    format!(
                        "row period {:.4} s; stream time 0 = file time {} s",
                        r.row_period_s(),
                        r.start_s()
                    ),
                ];
                if !r.invalid_channels().is_empty() {
                    v.push(format!(
                        "invalid (skipped): [{}]",
                        r.invalid_channels().join(", ")
                    ));
                }
                v
            }
            Recording::EmgText(r) => vec![format!(
                "counts to µV: (count - {}) x {:.4} µV (assumed BITalino EMG front end)",
                r.scale().offset,
                r.scale().uv_per_count
            )],
        }
    }
}

impl SampleSource for Recording {
    type Error = CliError;

    fn spec(&self) -> StreamSpec {
        match self {
            Recording::Manometry(r) => r.spec(),
            Recording::EmgText(r) => r.spec(),
        }
    }

    fn next_item(&mut self) -> CliResult<Option<SourceItem>> {
        let r = match self {
            Recording::Manometry(r) => r.next_item(),
            Recording::EmgText(r) => r.next_item(),
        };
        r.map_err(|e| CliError::new(e.to_string()))
    }
}
