//! Opening a recording in any supported format, detected from its content.

use std::cell::Cell;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use levator_core::conditioning::Mains;
use levator_core::stream::{SampleSource, SourceItem, StreamSpec};
use levator_sim::csv::CsvReader;
use levator_sim::import::{
    sniff, EmgTextOptions, EmgTextReader, InputFormat, ManometryOptions, ManometryReader, Marker,
    RectalCombine,
};

use crate::engine::mains_from_header;
use crate::error::{CliError, CliResult};

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

/// The levator-csv reader reports text that is not UTF-8 without a line
/// number; find the line so the error names it.
fn csv_error_text(msg: &str, path: &Path) -> String {
    if !msg.contains("valid UTF-8") {
        return msg.to_string();
    }
    match first_non_utf8_line(path) {
        Some(line) => format!("line {line}: not valid UTF-8 text (levator-csv is UTF-8)"),
        None => msg.to_string(),
    }
}

/// 1-based number of the first line of `path` that is not valid UTF-8.
fn first_non_utf8_line(path: &Path) -> Option<u64> {
    use std::io::BufRead;
    let mut r = BufReader::new(File::open(path).ok()?);
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf).ok()? == 0 {
            return None;
        }
        line += 1;
        if std::str::from_utf8(&buf).is_err() {
            return Some(line);
        }
    }
}

/// A file that counts the bytes read from it (for the progress bar).
#[derive(Debug)]
pub struct CountingFile {
    file: File,
    read: Rc<Cell<u64>>,
}

impl Read for CountingFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

impl std::io::Seek for CountingFile {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        let p = self.file.seek(pos)?;
        self.read.set(p);
        Ok(p)
    }
}

type Buffered = BufReader<CountingFile>;

/// The reader behind a [`Recording`].
#[derive(Debug)]
enum Reader {
    Csv(CsvReader<Buffered>),
    Manometry(ManometryReader<Buffered>),
    EmgText(EmgTextReader<Buffered>),
}

/// An opened recording: a sample source plus what the file says about itself.
#[derive(Debug)]
pub struct Recording {
    reader: Reader,
    name: String,
    size: u64,
    read: Rc<Cell<u64>>,
}

impl Recording {
    /// Opens `path`, detecting the format unless `format` says otherwise.
    /// Errors read `FILE: line N: reason`.
    pub fn open(path: &Path, format: FormatArg) -> CliResult<Recording> {
        Recording::open_with(path, format, true)
    }

    /// [`open`](Self::open); `start_at_rest` = false makes a manometry
    /// export stream from its first row instead of its `# Rest` marker
    /// ([`ManometryOptions::start_at_rest`]).
    pub fn open_with(path: &Path, format: FormatArg, start_at_rest: bool) -> CliResult<Recording> {
        let name = path.display().to_string();
        let err = |e: &dyn std::fmt::Display| CliError::new(format!("{name}: {e}"));
        let mut file = File::open(path).map_err(|e| err(&e))?;
        let meta = file.metadata().map_err(|e| err(&e))?;
        if meta.is_dir() {
            return Err(err(&"is a directory, not a recording"));
        }
        let size = meta.len();
        let mut head = Vec::with_capacity(4096);
        (&mut file)
            .take(4096)
            .read_to_end(&mut head)
            .map_err(|e| err(&e))?;
        if head.iter().all(u8::is_ascii_whitespace) {
            return Err(err(&"the file is empty"));
        }
        let format = match format {
            FormatArg::Csv => InputFormat::LevatorCsv,
            FormatArg::Manometry => InputFormat::Manometry,
            FormatArg::EmgText => InputFormat::EmgText,
            FormatArg::Auto => sniff(&head).ok_or_else(|| {
                err(
                    &"unrecognised format (expected levator-csv, a manometry text export \
                      or single-column EMG text; see --input-format)",
                )
            })?,
        };
        let read = Rc::new(Cell::new(0));
        let file = File::open(path).map_err(|e| err(&e))?;
        let buffered = BufReader::new(CountingFile {
            file,
            read: Rc::clone(&read),
        });
        let reader = match format {
            InputFormat::LevatorCsv => Reader::Csv(
                CsvReader::new(buffered).map_err(|e| err(&csv_error_text(&e.to_string(), path)))?,
            ),
            InputFormat::Manometry => Reader::Manometry(
                ManometryReader::new(
                    buffered,
                    ManometryOptions::default().with_start_at_rest(start_at_rest),
                )
                .map_err(|e| err(&e))?,
            ),
            InputFormat::EmgText => Reader::EmgText(
                EmgTextReader::new(buffered, EmgTextOptions::default()).map_err(|e| err(&e))?,
            ),
        };
        Ok(Recording {
            reader,
            name,
            size,
            read,
        })
    }

    /// The file name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The detected (or forced) format.
    pub fn format(&self) -> InputFormat {
        match self.reader {
            Reader::Csv(_) => InputFormat::LevatorCsv,
            Reader::Manometry(_) => InputFormat::Manometry,
            Reader::EmgText(_) => InputFormat::EmgText,
        }
    }

    /// File size and bytes read so far (for progress).
    pub fn progress(&self) -> (u64, u64) {
        (self.read.get(), self.size)
    }

    /// Shared counter of bytes read (for a progress bar while the source is borrowed).
    pub fn progress_counter(&self) -> Rc<Cell<u64>> {
        Rc::clone(&self.read)
    }

    /// Timestamped annotations (manometry markers), if the format has any.
    pub fn markers(&self) -> &[Marker] {
        match &self.reader {
            Reader::Manometry(r) => r.markers(),
            _ => &[],
        }
    }

    /// The mains frequency the recording declares (levator-csv header
    /// `mains_hz=50|60|none`): `Some(None)` for none, `None` when it does
    /// not say (or says something unreadable, reported by
    /// [`problems`](Self::problems)).
    pub fn mains_hint(&self) -> Option<Option<Mains>> {
        match &self.reader {
            Reader::Csv(r) => r
                .metadata()
                .get("mains_hz")
                .and_then(|v| mains_from_header(v)),
            _ => None,
        }
    }

    /// Problems the importer tolerated, one line each.
    pub fn problems(&self) -> Vec<String> {
        match &self.reader {
            Reader::Manometry(r) => r.problems().iter().map(|p| p.to_string()).collect(),
            Reader::EmgText(r) => r.problems().iter().map(|p| p.to_string()).collect(),
            Reader::Csv(r) => {
                let mut v: Vec<String> = r
                    .extra_columns()
                    .iter()
                    .map(|c| {
                        format!("column `{c}` is not a known <role>_<unit>; carried, not analysed")
                    })
                    .collect();
                if let Some(m) = r.metadata().get("mains_hz") {
                    if mains_from_header(m).is_none() {
                        v.push(format!(
                            "header mains_hz={m} is not 50, 60 or none; ignored (default or --mains used)"
                        ));
                    }
                }
                v
            }
        }
    }

    /// Extra facts worth showing (sensor mapping, ADC scale, clock offset).
    pub fn notes(&self) -> Vec<String> {
        match &self.reader {
            Reader::Manometry(r) => {
                let mut v = vec![
                    format!(
                        "pelvic_pressure = max of anal sensors [{}]",
                        r.anal_sensors().join(", ")
                    ),
                    format!(
                        "abdominal_pressure = {} of rectal sensors [{}]",
                        match r.rectal_combine() {
                            RectalCombine::Mean => "mean",
                            RectalCombine::Max => "maximum",
                            RectalCombine::LargestRise => "first-row mean + largest rise",
                        },
                        r.rectal_sensors().join(", ")
                    ),
                    format!(
                        "row period {:.4} s; stream time 0 = file time {} s",
                        r.row_period_s(),
                        r.start_s()
                    ),
                ];
                if let Some(t) = r.starts_at_s() {
                    v.push(format!(
                        "analysed from the `# Rest` marker at {t:.2} s (the rows before it, \
                         catheter placement, are not; --from-first-row analyses them)"
                    ));
                }
                if !r.invalid_channels().is_empty() {
                    v.push(format!(
                        "invalid (skipped): [{}]",
                        r.invalid_channels().join(", ")
                    ));
                }
                v
            }
            Reader::EmgText(r) => vec![format!(
                "counts to µV: (count - {}) x {:.4} µV (assumed BITalino EMG front end)",
                r.scale().offset,
                r.scale().uv_per_count
            )],
            Reader::Csv(r) => r
                .metadata()
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
        }
    }
}

impl SampleSource for Recording {
    type Error = CliError;

    fn spec(&self) -> StreamSpec {
        match &self.reader {
            Reader::Csv(r) => r.spec(),
            Reader::Manometry(r) => r.spec(),
            Reader::EmgText(r) => r.spec(),
        }
    }

    fn next_item(&mut self) -> CliResult<Option<SourceItem>> {
        let r = match &mut self.reader {
            Reader::Csv(r) => r
                .next_item()
                .map_err(|e| csv_error_text(&e.to_string(), Path::new(&self.name))),
            Reader::Manometry(r) => r.next_item().map_err(|e| e.to_string()),
            Reader::EmgText(r) => r.next_item().map_err(|e| e.to_string()),
        };
        r.map_err(|e| CliError::new(format!("{}: {e}", self.name)))
    }
}
