//! The `levator-csv v1` recording format: writer and streaming reader.
//!
//! ```text
//! # levator-csv v1
//! # rate_hz=1000
//! # device=emg-probe subject=hypertonic seed=7 scenario=glazer
//! t_s,pelvic_emg_uv,abdominal_emg_uv
//! 0.000,1.920,0.710
//! ```
//!
//! - Line 1 is the magic `# levator-csv v1`. Further `#` lines carry
//!   `key=value` metadata separated by spaces (`rate_hz` is the sample rate).
//! - The first non-comment line names the columns: `t_s` (optional when
//!   `rate_hz` is given) and `<role>_<unit>` with unit `uv`, `cmh2o`,
//!   `mmhg`, `g` or `au`. Other columns are carried through as text.
//! - Empty fields and `nan` are missing samples (NaN), never errors; any
//!   other non-number is an error naming the line and column.
//! - Without `t_s`, row k is sample k. With `t_s`, a row's sample index is
//!   `round(t_s x rate)`; a jump is reported as a gap, a step backwards is
//!   an error. Without `rate_hz` the rate is taken from the first two `t_s`.
//!
//! The reader is streaming: it holds one line at a time.
//!
//! ```
//! use levator_sim::csv::{CsvReader, CsvWriter};
//! use levator_core::stream::{ChannelSpec, Frame, Role, StreamSpec};
//!
//! let spec = StreamSpec::new(10.0, &[ChannelSpec::canonical(Role::PelvicPressure)]).unwrap();
//! let mut w = CsvWriter::new(Vec::new(), &spec, "device=example", true).unwrap();
//! w.write_frame(&Frame::new(0, &[19.5])).unwrap();
//! w.write_frame(&Frame::new(1, &[20.25])).unwrap();
//! let bytes = w.finish().unwrap();
//! assert_eq!(String::from_utf8(bytes.clone()).unwrap(),
//!     "# levator-csv v1\n# rate_hz=10\n# device=example\nt_s,pelvic_pressure_cmh2o\n0.0,19.500\n0.1,20.250\n");
//!
//! let mut r = CsvReader::new(&bytes[..]).unwrap();
//! assert_eq!(r.spec().rate_hz(), 10.0);
//! let rec = r.read_record().unwrap().unwrap();
//! assert_eq!((rec.frame.index, rec.frame.get(0)), (0, 19.5));
//! ```

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

use levator_core::stream::{
    ChannelSpec, Frame, Role, SampleSource, SourceItem, StreamSpec, Unit, MAX_CHANNELS,
};

/// The magic first line.
pub const MAGIC: &str = "# levator-csv v1";

/// Why a recording could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    /// Reading failed.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The first line is not `# levator-csv v1`.
    #[error("line 1: not a levator-csv v1 file (expected {MAGIC:?})")]
    Magic,
    /// A header line is malformed.
    #[error("line {line}: {problem}")]
    Header {
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// No data columns with a known role.
    #[error("line {line}: no <role>_<unit> column (e.g. pelvic_emg_uv)")]
    NoChannels {
        /// 1-based line number of the column header.
        line: u64,
    },
    /// Neither `rate_hz` nor two `t_s` values to infer it.
    #[error("no sample rate: give `# rate_hz=...` or a t_s column with at least two rows")]
    NoRate,
    /// A row has the wrong number of fields.
    #[error("line {line}: expected {expected} fields, found {found}")]
    FieldCount {
        /// 1-based line number.
        line: u64,
        /// Number of columns in the header.
        expected: usize,
        /// Number of fields in the row.
        found: usize,
    },
    /// A field is not a number.
    #[error("line {line}, column {column:?}: {value:?} is not a number")]
    Number {
        /// 1-based line number.
        line: u64,
        /// Column name.
        column: String,
        /// The offending text.
        value: String,
    },
    /// Time does not increase.
    #[error("line {line}: t_s={t_s} does not come after the previous row")]
    Time {
        /// 1-based line number.
        line: u64,
        /// The offending time.
        t_s: f64,
    },
}

fn decimals_for(unit: Unit) -> usize {
    match unit {
        Unit::Microvolt | Unit::CmH2O | Unit::MmHg => 3,
        Unit::G => 4,
        Unit::Arbitrary => 3,
    }
}

/// Writes frames as levator-csv v1, fixed precision per unit (µV, cmH2O,
/// mmHg: 3 decimals; g: 4; au: 3) so output is byte-identical everywhere.
#[derive(Debug)]
pub struct CsvWriter<W: Write> {
    w: W,
    rate_hz: f64,
    decimals: Vec<usize>,
    time_decimals: Option<usize>,
    line: String,
}

/// Decimals that print `index / rate` exactly for rates dividing 10^k.
fn time_decimals(rate_hz: f64) -> usize {
    for d in 0..=6 {
        let per = libm::pow(10.0, d as f64) / rate_hz;
        if (per - libm::round(per)).abs() < 1e-9 && per >= 1.0 {
            return d;
        }
    }
    6
}

fn push_fixed(line: &mut String, x: f64, decimals: usize) {
    use std::fmt::Write as _;
    if x.is_nan() {
        line.push_str("nan");
        return;
    }
    let scale = libm::pow(10.0, decimals as f64);
    let r = libm::round(x * scale) / scale;
    // Avoid "-0.000".
    let r = if r == 0.0 { 0.0 } else { r };
    let _ = write!(line, "{r:.decimals$}");
}

impl<W: Write> CsvWriter<W> {
    /// Writes the header: magic, `rate_hz`, the metadata line (if not
    /// empty) and the column names. `with_time` adds the `t_s` column.
    pub fn new(mut w: W, spec: &StreamSpec, metadata: &str, with_time: bool) -> io::Result<Self> {
        writeln!(w, "{MAGIC}")?;
        writeln!(w, "# rate_hz={}", spec.rate_hz())?;
        for line in metadata.lines().filter(|l| !l.trim().is_empty()) {
            writeln!(w, "# {}", line.trim())?;
        }
        let mut cols: Vec<String> = Vec::new();
        if with_time {
            cols.push("t_s".into());
        }
        cols.extend(
            spec.channels()
                .iter()
                .map(|c| format!("{}_{}", c.role.name(), c.unit.suffix())),
        );
        writeln!(w, "{}", cols.join(","))?;
        Ok(CsvWriter {
            w,
            rate_hz: spec.rate_hz(),
            decimals: spec
                .channels()
                .iter()
                .map(|c| decimals_for(c.unit))
                .collect(),
            time_decimals: with_time.then(|| time_decimals(spec.rate_hz())),
            line: String::with_capacity(128),
        })
    }

    /// Writes one frame (its index gives `t_s`).
    pub fn write_frame(&mut self, frame: &Frame) -> io::Result<()> {
        self.line.clear();
        if let Some(d) = self.time_decimals {
            let t = frame.index as f64 / self.rate_hz;
            let d = d.max(1);
            push_fixed(&mut self.line, t, d);
        }
        for (i, &dec) in self.decimals.iter().enumerate() {
            if i > 0 || self.time_decimals.is_some() {
                self.line.push(',');
            }
            push_fixed(&mut self.line, frame.get(i), dec);
        }
        self.line.push('\n');
        self.w.write_all(self.line.as_bytes())
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.flush()?;
        Ok(self.w)
    }
}

/// Writes ground-truth (or detected) events as JSON lines, one
/// `serde_json::to_string(&event.rounded())` per line.
pub fn write_events<W: Write>(
    mut w: W,
    events: &[levator_core::event::Event],
) -> Result<W, crate::Error> {
    for e in events {
        let line = serde_json::to_string(&e.rounded()).map_err(io::Error::other)?;
        w.write_all(line.as_bytes())?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    Ok(w)
}

/// What a column of a recording holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// `t_s`.
    Time,
    /// Channel `n` of the stream.
    Channel(usize),
    /// Extra (unknown) column `n`, carried through as text.
    Extra(usize),
}

/// One row of a recording.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The samples (index = sample index).
    pub frame: Frame,
    /// `t_s` as written, if the file has it.
    pub t_s: Option<f64>,
    /// 1-based line number in the file.
    pub line: u64,
    /// Values of the extra columns (in [`CsvReader::extra_columns`] order).
    pub extra: Vec<String>,
}

/// Streaming levator-csv v1 reader; also a [`SampleSource`] (a jump in
/// `t_s` is delivered as a [`SourceItem::Gap`]).
#[derive(Debug)]
pub struct CsvReader<R: BufRead> {
    r: R,
    line_no: u64,
    buf: String,
    spec: StreamSpec,
    columns: Vec<Column>,
    column_names: Vec<String>,
    extra_names: Vec<String>,
    metadata: BTreeMap<String, String>,
    pending: std::collections::VecDeque<Record>,
    next_index: u64,
    last_index: Option<u64>,
    rows: u64,
    held: Option<Frame>,
}

fn parse_number(field: &str) -> Option<f64> {
    let f = field.trim();
    if f.is_empty() || f.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    f.parse::<f64>().ok()
}

impl<R: BufRead> CsvReader<R> {
    /// Reads the header (and, without `rate_hz`, the first two rows to
    /// infer the rate).
    pub fn new(r: R) -> Result<CsvReader<R>, CsvError> {
        let mut me = CsvReader {
            r,
            line_no: 0,
            buf: String::new(),
            spec: StreamSpec::new(1.0, &[ChannelSpec::canonical(Role::PelvicEmg)])
                .map_err(|_| CsvError::NoRate)?,
            columns: Vec::new(),
            column_names: Vec::new(),
            extra_names: Vec::new(),
            metadata: BTreeMap::new(),
            pending: std::collections::VecDeque::new(),
            next_index: 0,
            last_index: None,
            rows: 0,
            held: None,
        };
        if !me.next_line()? || me.buf.trim_end() != MAGIC {
            return Err(CsvError::Magic);
        }
        // Comment lines until the column header.
        loop {
            if !me.next_line()? {
                return Err(CsvError::Header {
                    line: me.line_no,
                    problem: "no column header".into(),
                });
            }
            let line = me.buf.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                for kv in comment.split_whitespace() {
                    if let Some((k, v)) = kv.split_once('=') {
                        me.metadata.insert(k.to_string(), v.to_string());
                    }
                }
                continue;
            }
            break;
        }
        let header_line = me.line_no;
        let mut channels: Vec<ChannelSpec> = Vec::new();
        let names: Vec<String> = me
            .buf
            .trim()
            .split(',')
            .map(|s| s.trim().to_string())
            .collect();
        for name in &names {
            if name == "t_s" {
                if me.columns.contains(&Column::Time) {
                    return Err(CsvError::Header {
                        line: header_line,
                        problem: "t_s appears twice".into(),
                    });
                }
                me.columns.push(Column::Time);
            } else if let Some((role, unit)) = Role::parse_column(name) {
                if channels.iter().any(|c| c.role == role) {
                    return Err(CsvError::Header {
                        line: header_line,
                        problem: format!("role {role} appears twice"),
                    });
                }
                if channels.len() == MAX_CHANNELS {
                    return Err(CsvError::Header {
                        line: header_line,
                        problem: format!("more than {MAX_CHANNELS} channels"),
                    });
                }
                me.columns.push(Column::Channel(channels.len()));
                channels.push(ChannelSpec { role, unit });
            } else {
                me.columns.push(Column::Extra(me.extra_names.len()));
                me.extra_names.push(name.clone());
            }
        }
        me.column_names = names;
        if channels.is_empty() {
            return Err(CsvError::NoChannels { line: header_line });
        }
        let rate = match me.metadata.get("rate_hz") {
            Some(v) => {
                let r = v.parse::<f64>().ok().filter(|r| r.is_finite() && *r > 0.0);
                r.ok_or_else(|| CsvError::Header {
                    line: 2,
                    problem: format!("rate_hz={v} is not a positive number"),
                })?
            }
            None => {
                if !me.columns.contains(&Column::Time) {
                    return Err(CsvError::NoRate);
                }
                // Peek two rows (rate 1 Hz placeholder: indices fixed below).
                let mut times = Vec::new();
                for _ in 0..2 {
                    match me.parse_row(1.0)? {
                        Some(rec) => {
                            times.push(rec.t_s.unwrap_or(f64::NAN));
                            me.pending.push_back(rec);
                        }
                        None => break,
                    }
                }
                if times.len() < 2
                    || times[1].partial_cmp(&times[0]) != Some(std::cmp::Ordering::Greater)
                {
                    return Err(CsvError::NoRate);
                }
                let rate = 1.0 / (times[1] - times[0]);
                // Round to 1 mHz: t_s is printed with limited decimals.
                let rate = libm::round(rate * 1000.0) / 1000.0;
                for rec in me.pending.iter_mut() {
                    if let Some(t) = rec.t_s {
                        rec.frame.index = libm::round(t * rate) as u64;
                    }
                }
                rate
            }
        };
        me.spec = StreamSpec::new(rate, &channels).map_err(|e| CsvError::Header {
            line: header_line,
            problem: e.to_string(),
        })?;
        Ok(me)
    }

    fn next_line(&mut self) -> Result<bool, CsvError> {
        self.buf.clear();
        let n = self.r.read_line(&mut self.buf)?;
        if n == 0 {
            return Ok(false);
        }
        self.line_no += 1;
        Ok(true)
    }

    /// Parses the next data row; `rate` converts t_s to an index.
    fn parse_row(&mut self, rate: f64) -> Result<Option<Record>, CsvError> {
        loop {
            if !self.next_line()? {
                return Ok(None);
            }
            let line = self.buf.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            break;
        }
        let line_no = self.line_no;
        let line = self.buf.trim();
        let found = line.split(',').count();
        if found != self.columns.len() {
            return Err(CsvError::FieldCount {
                line: line_no,
                expected: self.columns.len(),
                found,
            });
        }
        let mut values = [f64::NAN; MAX_CHANNELS];
        let mut n_values = 0;
        let mut t_s = None;
        let mut extra = Vec::with_capacity(self.extra_names.len());
        for (i, field) in line.split(',').enumerate() {
            let bad = || CsvError::Number {
                line: line_no,
                column: self.column_names[i].clone(),
                value: field.trim().to_string(),
            };
            match self.columns[i] {
                Column::Time => {
                    let t = field.trim().parse::<f64>().ok().filter(|t| t.is_finite());
                    t_s = Some(t.ok_or_else(bad)?);
                }
                Column::Channel(c) => {
                    values[c] = parse_number(field).ok_or_else(bad)?;
                    n_values = n_values.max(c + 1);
                }
                Column::Extra(_) => extra.push(field.trim().to_string()),
            }
        }
        let index = match t_s {
            Some(t) => {
                if t < 0.0 {
                    return Err(CsvError::Time {
                        line: line_no,
                        t_s: t,
                    });
                }
                libm::round(t * rate) as u64
            }
            None => self.rows,
        };
        self.rows += 1;
        Ok(Some(Record {
            frame: Frame::new(index, &values[..n_values]),
            t_s,
            line: line_no,
            extra,
        }))
    }

    /// The stream described by the header.
    pub fn spec(&self) -> StreamSpec {
        self.spec
    }

    /// The `key=value` metadata of the header comments.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// Names of the columns that are neither `t_s` nor a known channel.
    pub fn extra_columns(&self) -> &[String] {
        &self.extra_names
    }

    /// Whether the file has a `t_s` column.
    pub fn has_time(&self) -> bool {
        self.columns.contains(&Column::Time)
    }

    /// The next row, or `None` at the end of the file.
    pub fn read_record(&mut self) -> Result<Option<Record>, CsvError> {
        let rec = match self.pending.pop_front() {
            Some(r) => Some(r),
            None => self.parse_row(self.spec.rate_hz())?,
        };
        if let Some(r) = &rec {
            if let Some(last) = self.last_index {
                if r.frame.index <= last {
                    return Err(CsvError::Time {
                        line: r.line,
                        t_s: r.t_s.unwrap_or(f64::NAN),
                    });
                }
            }
            self.last_index = Some(r.frame.index);
        }
        Ok(rec)
    }
}

impl<R: BufRead> SampleSource for CsvReader<R> {
    type Error = CsvError;

    fn spec(&self) -> StreamSpec {
        self.spec
    }

    fn next_item(&mut self) -> Result<Option<SourceItem>, CsvError> {
        if let Some(f) = self.held.take() {
            self.next_index = f.index + 1;
            return Ok(Some(SourceItem::Frame(f)));
        }
        let Some(rec) = self.read_record()? else {
            return Ok(None);
        };
        if rec.frame.index > self.next_index {
            let gap = SourceItem::Gap {
                first_index: self.next_index,
                lost: rec.frame.index - self.next_index,
            };
            // The frame after the gap is delivered on the next call.
            self.held = Some(rec.frame);
            return Ok(Some(gap));
        }
        self.next_index = rec.frame.index + 1;
        Ok(Some(SourceItem::Frame(rec.frame)))
    }
}
