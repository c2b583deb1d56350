//! Anorectal manometry text exports (high-resolution manometry systems as
//! exported for the open `anomanor` project).
//!
//! Layout: a header line `TIME:` (German exports: `ZEIT:`) followed by the
//! sensor names, tab separated (`B2 B1 10 9 ... 1`); one row per sample
//! time, the time in seconds then one pressure per sensor in mmHg; then a
//! line `Annotations:` followed by `seconds<TAB>label` lines.
//!
//! Mapping onto levator roles (values are converted to cmH2O):
//! - `pelvic_pressure` = the **maximum** of the valid anal canal sensors
//!   (numeric names `1`..`10`), i.e. the pressure of the anal high-pressure
//!   zone wherever it sits along the catheter;
//! - `abdominal_pressure` = the rectal balloon sensors (`B1`, `B2`)
//!   combined by [`RectalCombine`]: by default
//!   [`RectalCombine::LargestRise`], the first streamed row's mean plus the
//!   largest rise of either sensor since that row. Both sit in the same
//!   balloon: a constant difference between them is an offset, and a
//!   sensor that does not follow a push the other one shows is not reading
//!   the balloon pressure (the mean would halve the push); if one is
//!   marked invalid the other is used alone.
//!
//! A negative annotation time marks the sensor named by the label as
//! invalid (`-1.00<TAB># B2`); such sensors are skipped.
//!
//! By default the stream starts at the operator's `# Rest` marker (the
//! rows before it are catheter placement; see
//! [`ManometryOptions::start_at_rest`]).
//!
//! The annotation block sits at the end of the file but decides which
//! sensors are valid, so [`ManometryReader::new`] first scans the file
//! once (keeping only the annotations and a few row times), then seeks
//! back and streams the rows. Samples are never held in memory.
//!
//! Rows are expected at a fixed spacing (0.54 s, 0.17 s, 0.1 s ... in the
//! exports seen). The spacing is taken from the time column (median of the
//! first row-to-row steps, refined over the whole file) and every row is
//! checked against it: a step of several periods is reported as a
//! [`SourceItem::Gap`] (and a [`Problem::Gap`]), a step that is not a
//! whole number of periods as [`Problem::IrregularSpacing`], a time that
//! does not increase is an error naming the line.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;

use levator_core::stream::{ChannelSpec, Frame, Role, SampleSource, SourceItem, StreamSpec, Unit};

use super::text::{excerpt, LineReader};
use super::{ImportError, Marker, MarkerKind, Problem};

/// The markers of the standard protocol, in protocol order, as checked by
/// the importer (a missing one is a [`Problem::MissingMarker`] when the
/// file has any protocol marker at all).
const EXPECTED: [(&str, MarkerKind); 9] = [
    ("# Rest", MarkerKind::Rest),
    ("# Squeeze 1", MarkerKind::Squeeze(Some(1))),
    ("# Squeeze 2", MarkerKind::Squeeze(Some(2))),
    ("# Long Squeeze", MarkerKind::LongSqueeze),
    ("# Cough", MarkerKind::Cough(None)),
    ("# Push 1", MarkerKind::Push(Some(1))),
    ("# Push 2", MarkerKind::Push(Some(2))),
    ("# Push 3", MarkerKind::Push(Some(3))),
    ("# RAIR", MarkerKind::Rair),
];

/// Longest gap between two rows accepted as missing rows (s); a longer
/// jump is an error (a corrupted time, not a pause in the recording).
const MAX_GAP_S: f64 = 86_400.0;

/// Shortest row period accepted (s): 1 MHz, far beyond any manometry system.
const MIN_PERIOD_S: f64 = 1e-6;

/// How many leading row-to-row steps estimate the row period.
const PERIOD_PROBE: usize = 64;

/// How the rectal balloon sensors become one `abdominal_pressure` channel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RectalCombine {
    /// Mean of the valid sensors.
    Mean,
    /// Maximum of the valid sensors.
    Max,
    /// The first row's mean plus the largest rise of any valid sensor
    /// since the first row. Both sensors sit in the same balloon and
    /// should read one pressure: a constant difference between them is a
    /// sensor offset, and a sensor that does not follow a rise the other
    /// one shows is not reading the balloon (seen in the issue-7
    /// recordings: one rectal sensor rises 25-35 mmHg during the pushes,
    /// the other 1-8 mmHg, while both follow the squeezes alike); the mean
    /// would halve such a push. With one valid sensor it is that sensor.
    #[default]
    LargestRise,
}

/// Options of [`ManometryReader`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ManometryOptions {
    /// How `B1`/`B2` are combined. Default [`RectalCombine::LargestRise`].
    pub rectal: RectalCombine,
    /// Accepted deviation of a row step from a whole number of row periods,
    /// as a fraction of the period, before [`Problem::IrregularSpacing`]
    /// is reported (times are printed to 10 ms). Default 0.25.
    pub spacing_tolerance: f64,
    /// Start the stream at the operator's `# Rest` marker (default `true`).
    ///
    /// The protocol starts there: before it the catheter is being placed
    /// and the patient settles (in the issue-7 recordings the anal
    /// high-pressure zone moves from one sensor to the next and its
    /// pressure drifts by 20-30 mmHg in the first 40 s), so a resting
    /// baseline calibrated on the first rows would be wrong. Clinical
    /// manometry analysis takes the resting pressures from the marked rest
    /// period for the same reason. Rows before the marker are read and
    /// checked like every row but not emitted
    /// ([`ManometryReader::rows_skipped`]); the first frame's index is that
    /// of the first row at or after the marker, so event times stay on the
    /// file's stream clock. Without a `# Rest` marker inside the recording
    /// the stream starts at the first row.
    pub start_at_rest: bool,
}

impl ManometryOptions {
    /// These options with [`start_at_rest`](Self::start_at_rest) set.
    ///
    /// ```
    /// use levator_sim::import::ManometryOptions;
    /// let whole = ManometryOptions::default().with_start_at_rest(false);
    /// assert!(!whole.start_at_rest);
    /// ```
    pub fn with_start_at_rest(mut self, start_at_rest: bool) -> Self {
        self.start_at_rest = start_at_rest;
        self
    }
}

impl Default for ManometryOptions {
    fn default() -> Self {
        ManometryOptions {
            rectal: RectalCombine::LargestRise,
            spacing_tolerance: 0.25,
            start_at_rest: true,
        }
    }
}

/// Streaming reader of a manometry text export; a [`SampleSource`] with
/// up to two channels, `pelvic_pressure` and `abdominal_pressure`, in cmH2O.
#[derive(Debug)]
pub struct ManometryReader<R> {
    lines: LineReader<R>,
    spec: StreamSpec,
    options: ManometryOptions,
    sensors: Vec<String>,
    rectal: Vec<usize>,
    anal: Vec<usize>,
    invalid: Vec<String>,
    markers: Vec<Marker>,
    problems: Vec<Problem>,
    start_s: f64,
    period_s: f64,
    next_index: u64,
    prev_t: Option<f64>,
    pending: Option<Frame>,
    finished: bool,
    rows: u64,
    rows_total: u64,
    lost: u64,
    skip_until_s: Option<f64>,
    start_rest_s: Option<f64>,
    skipped: u64,
    values: Vec<f64>,
    rectal_first: Vec<f64>,
    latin1_lines: u64,
}

impl ManometryReader<BufReader<File>> {
    /// Opens a file with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ImportError> {
        let file = File::open(path)?;
        ManometryReader::new(BufReader::new(file), ManometryOptions::default())
    }
}

/// What the first pass over the file learned.
struct Scan {
    sensors: Vec<String>,
    header_line: u64,
    rows: u64,
    first_t: f64,
    period_s: f64,
    markers: Vec<Marker>,
    problems: Vec<Problem>,
    invalid: Vec<(u64, String)>,
    latin1_lines: u64,
}

fn split_fields(line: &str) -> Vec<&str> {
    if line.contains('\t') {
        let mut v: Vec<&str> = line.split('\t').map(str::trim).collect();
        // leading indentation before the first tab, trailing tabs
        while v.last() == Some(&"") {
            v.pop();
        }
        if v.first() == Some(&"") {
            v.remove(0);
        }
        v
    } else {
        line.split_whitespace().collect()
    }
}

fn is_annotation_header(line: &str) -> bool {
    line.trim().to_lowercase().starts_with("annotations")
}

fn is_rectal(name: &str) -> bool {
    let mut c = name.chars();
    matches!(c.next(), Some('B' | 'b')) && {
        let rest = c.as_str();
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
    }
}

fn is_anal(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_digit())
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

fn scan<R: BufRead>(reader: R) -> Result<Scan, ImportError> {
    let mut lines = LineReader::new(reader);
    let (header_line, sensors) = loop {
        let last = lines.line_no();
        match lines.next_line()? {
            None if last == 0 => return Err(ImportError::Empty),
            None => return Err(ImportError::NoSamples { line: last }),
            Some((_, l)) if l.trim().is_empty() => continue,
            Some((n, l)) => {
                let fields = split_fields(&l);
                let first = fields.first().map(|f| f.to_uppercase()).unwrap_or_default();
                let first = first.trim_end_matches(':');
                if first != "TIME" && first != "ZEIT" {
                    return Err(ImportError::malformed(
                        n,
                        format!(
                            "expected a manometry header starting with `TIME:` or `ZEIT:`, found `{}`",
                            excerpt(&l)
                        ),
                    ));
                }
                let sensors: Vec<String> = fields[1..].iter().map(|s| s.to_string()).collect();
                if sensors.is_empty() {
                    return Err(ImportError::malformed(n, "header names no sensor columns"));
                }
                break (n, sensors);
            }
        }
    };

    let mut rows = 0u64;
    let mut first_t = f64::NAN;
    let mut last_t = f64::NAN;
    let mut probe: Vec<f64> = Vec::with_capacity(PERIOD_PROBE);
    let mut deltas_after_probe: Vec<f64> = Vec::new();
    let mut period0: Option<f64> = None;
    let mut steps = 0u64;
    let mut annotations_at = None;
    while let Some((n, l)) = lines.next_line()? {
        if l.trim().is_empty() {
            continue;
        }
        if is_annotation_header(&l) {
            annotations_at = Some(n);
            break;
        }
        // Only the time column matters here; the second pass reports
        // malformed rows with their line.
        let Some(t) = l
            .split_whitespace()
            .next()
            .and_then(|f| f.parse::<f64>().ok())
            .filter(|t| t.is_finite())
        else {
            continue;
        };
        rows += 1;
        if rows == 1 {
            first_t = t;
        } else {
            let d = t - last_t;
            match period0 {
                None => {
                    probe.push(d);
                    if probe.len() == PERIOD_PROBE {
                        let mut p: Vec<f64> = probe.iter().copied().filter(|d| *d > 0.0).collect();
                        period0 = median(&mut p);
                        deltas_after_probe.clone_from(&probe);
                    }
                }
                Some(p) => {
                    if d > 0.0 {
                        steps = steps.saturating_add(((d / p).round() as u64).max(1));
                    }
                }
            }
        }
        last_t = t;
    }
    if rows == 0 {
        return Err(ImportError::NoSamples {
            line: lines.line_no(),
        });
    }
    if period0.is_none() {
        let mut p: Vec<f64> = probe.iter().copied().filter(|d| *d > 0.0).collect();
        period0 = median(&mut p);
        deltas_after_probe.clone_from(&probe);
    }
    let Some(p0) = period0 else {
        return Err(ImportError::malformed(
            header_line + 2,
            "cannot derive the sample rate: fewer than two rows with increasing times",
        ));
    };
    for d in deltas_after_probe.iter().filter(|d| **d > 0.0) {
        steps = steps.saturating_add(((d / p0).round() as u64).max(1));
    }
    if p0 < MIN_PERIOD_S {
        return Err(ImportError::malformed(
            header_line + 2,
            format!("rows {p0} s apart: not a plausible row period (at least {MIN_PERIOD_S} s)"),
        ));
    }
    // Refine the period over the whole file (times are printed to 10 ms, so
    // one step can be off by a rounding unit), unless the rows are so
    // irregular that the refined value strays from the typical step.
    let span = last_t - first_t;
    let refined = span / steps.max(1) as f64;
    let period_s = if steps > 0 && span > 0.0 && (refined / p0 - 1.0).abs() < 0.02 {
        refined
    } else {
        p0
    };

    let mut markers = Vec::new();
    let mut problems = Vec::new();
    let mut invalid = Vec::new();
    match annotations_at {
        None => problems.push(Problem::NoAnnotationBlock),
        Some(block_line) => {
            while let Some((n, l)) = lines.next_line()? {
                let t = l.trim();
                if t.is_empty() {
                    continue;
                }
                let (time_txt, label) = match t.find(char::is_whitespace) {
                    Some(i) => (&t[..i], t[i..].trim()),
                    None => (t, ""),
                };
                let time_s: f64 = match time_txt.parse::<f64>() {
                    Ok(v) if v.is_finite() => v,
                    _ => {
                        return Err(ImportError::malformed(
                            n,
                            format!(
                            "annotation time `{}` is not a number (expected `seconds<TAB>label`)",
                            excerpt(time_txt)
                        ),
                        ))
                    }
                };
                if label.is_empty() {
                    problems.push(Problem::EmptyAnnotation { line: n });
                    continue;
                }
                if time_s < 0.0 {
                    let name = label.trim_start_matches('#').trim();
                    if sensors.iter().any(|s| s == name) {
                        invalid.push((n, name.to_string()));
                    } else {
                        problems.push(Problem::NegativeTime {
                            line: n,
                            label: label.to_string(),
                        });
                    }
                    continue;
                }
                let kind = MarkerKind::classify(label);
                if kind == MarkerKind::UnknownProtocol {
                    problems.push(Problem::UnknownMarker {
                        line: n,
                        label: label.to_string(),
                    });
                }
                if kind != MarkerKind::Note
                    && (time_s < first_t - period_s || time_s > last_t + period_s)
                {
                    problems.push(Problem::MarkerOutsideRecording {
                        line: n,
                        label: label.to_string(),
                        time_s,
                    });
                }
                markers.push(Marker {
                    line: n,
                    time_s,
                    stream_s: time_s - first_t,
                    label: label.to_string(),
                    kind,
                });
            }
            let protocol: Vec<&Marker> = markers
                .iter()
                .filter(|m| m.kind != MarkerKind::Note)
                .collect();
            if protocol.is_empty() {
                problems.push(Problem::NoMarkers { line: block_line });
            }
            for (i, m) in protocol.iter().enumerate() {
                if m.kind == MarkerKind::UnknownProtocol {
                    continue;
                }
                if let Some(first) = protocol[..i].iter().find(|p| p.kind == m.kind) {
                    problems.push(Problem::DuplicateMarker {
                        label: m.label.clone(),
                        first_line: first.line,
                        line: m.line,
                    });
                }
            }
        }
    }
    // A file without any marker gets one problem for that, not one per marker.
    let any_protocol = markers.iter().any(|m| m.kind != MarkerKind::Note);
    for (name, kind) in EXPECTED.into_iter().filter(|_| any_protocol) {
        let present = markers.iter().any(|m| match (kind, m.kind) {
            (MarkerKind::Cough(_), MarkerKind::Cough(_)) => true,
            (a, b) => a == b,
        });
        if !present {
            problems.push(Problem::MissingMarker { name });
        }
    }
    Ok(Scan {
        sensors,
        header_line,
        rows,
        first_t,
        period_s,
        markers,
        problems,
        invalid,
        latin1_lines: lines.latin1_lines,
    })
}

impl<R: BufRead + Seek> ManometryReader<R> {
    /// Reads the header and annotations (one pass over the file that keeps
    /// no samples), validates the channel mapping and positions the reader
    /// at the first row.
    pub fn new(mut reader: R, options: ManometryOptions) -> Result<Self, ImportError> {
        reader.seek(SeekFrom::Start(0))?;
        let scan = scan(&mut reader)?;
        reader.seek(SeekFrom::Start(0))?;
        let mut lines = LineReader::new(reader);
        // Skip up to and including the header line found by the scan.
        while lines.line_no() < scan.header_line {
            if lines.next_line()?.is_none() {
                return Err(ImportError::NoSamples {
                    line: lines.line_no(),
                });
            }
        }

        let mut problems = scan.problems;
        let mut invalid = Vec::new();
        for (line, name) in &scan.invalid {
            problems.push(Problem::InvalidChannel {
                line: *line,
                channel: name.clone(),
            });
            invalid.push(name.clone());
        }
        let mut rectal = Vec::new();
        let mut anal = Vec::new();
        for (i, name) in scan.sensors.iter().enumerate() {
            if invalid.contains(name) {
                continue;
            }
            if is_rectal(name) {
                rectal.push(i);
            } else if is_anal(name) {
                anal.push(i);
            } else {
                problems.push(Problem::UnknownColumn { name: name.clone() });
            }
        }
        let mut channels = Vec::with_capacity(2);
        if !anal.is_empty() {
            channels.push(ChannelSpec {
                role: Role::PelvicPressure,
                unit: Unit::CmH2O,
            });
        }
        if !rectal.is_empty() {
            channels.push(ChannelSpec {
                role: Role::AbdominalPressure,
                unit: Unit::CmH2O,
            });
        }
        if channels.is_empty() {
            return Err(ImportError::malformed(
                scan.header_line,
                "no valid rectal (`B1`, `B2`) or anal (`1`..`10`) sensor column",
            ));
        }
        let spec = StreamSpec::new(1.0 / scan.period_s, &channels).map_err(ImportError::Stream)?;
        let skip_until_s = if options.start_at_rest {
            let length_s = scan.rows.saturating_sub(1) as f64 * scan.period_s;
            scan.markers
                .iter()
                .filter(|m| m.kind == MarkerKind::Rest)
                .map(|m| m.stream_s)
                .find(|&t| t > 0.0 && t <= length_s)
        } else {
            None
        };
        Ok(ManometryReader {
            lines,
            spec,
            options,
            values: Vec::with_capacity(scan.sensors.len()),
            rectal_first: Vec::new(),
            sensors: scan.sensors,
            rectal,
            anal,
            invalid,
            markers: scan.markers,
            problems,
            start_s: scan.first_t,
            period_s: scan.period_s,
            next_index: 0,
            prev_t: None,
            pending: None,
            finished: false,
            rows: 0,
            rows_total: scan.rows,
            lost: 0,
            skip_until_s,
            start_rest_s: skip_until_s,
            skipped: 0,
            latin1_lines: scan.latin1_lines,
        })
    }
}

impl<R> ManometryReader<R> {
    /// Annotations in file order: protocol markers and free notes.
    pub fn markers(&self) -> &[Marker] {
        &self.markers
    }

    /// Everything odd found so far: annotation problems are known after
    /// construction; row spacing problems as the rows are read.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// Sensor names from the header, in column order.
    pub fn sensors(&self) -> &[String] {
        &self.sensors
    }

    /// Sensors marked invalid in the annotations (skipped).
    pub fn invalid_channels(&self) -> &[String] {
        &self.invalid
    }

    /// Names of the valid sensors combined into `abdominal_pressure`.
    pub fn rectal_sensors(&self) -> Vec<&str> {
        self.rectal
            .iter()
            .map(|&i| self.sensors[i].as_str())
            .collect()
    }

    /// How the rectal sensors are combined into `abdominal_pressure`.
    pub fn rectal_combine(&self) -> RectalCombine {
        self.options.rectal
    }

    /// Names of the valid sensors whose maximum is `pelvic_pressure`.
    pub fn anal_sensors(&self) -> Vec<&str> {
        self.anal
            .iter()
            .map(|&i| self.sensors[i].as_str())
            .collect()
    }

    /// Time of the first row on the file's clock (stream time 0), s.
    pub fn start_s(&self) -> f64 {
        self.start_s
    }

    /// The row period derived from the time column, s.
    pub fn row_period_s(&self) -> f64 {
        self.period_s
    }

    /// Rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.rows
    }

    /// Data rows in the file (counted by the first pass).
    pub fn rows_total(&self) -> u64 {
        self.rows_total
    }

    /// Where the stream starts on the stream clock (s): the `# Rest`
    /// marker when [`ManometryOptions::start_at_rest`] applies, else `None`
    /// (the first row).
    pub fn starts_at_s(&self) -> Option<f64> {
        self.start_rest_s
    }

    /// Rows read but not emitted because they lie before the `# Rest`
    /// marker (see [`ManometryOptions::start_at_rest`]).
    pub fn rows_skipped(&self) -> u64 {
        self.skipped
    }

    /// Rows reported missing so far (sum of the gaps).
    pub fn rows_lost(&self) -> u64 {
        self.lost
    }

    /// Lines of the file that were not valid UTF-8 and were decoded as Latin-1.
    pub fn latin1_lines(&self) -> u64 {
        self.latin1_lines
    }

    /// The rows' clock converted to the stream clock: file time `t` → s since the first sample.
    pub fn to_stream_s(&self, t: f64) -> f64 {
        t - self.start_s
    }
}

impl<R: BufRead> ManometryReader<R> {
    fn parse_row(&mut self, line: u64, text: &str) -> Result<f64, ImportError> {
        let fields = split_fields(text);
        let want = self.sensors.len() + 1;
        if fields.len() != want {
            return Err(ImportError::malformed(
                line,
                format!(
                    "expected {want} fields (time and {} sensors), found {}",
                    self.sensors.len(),
                    fields.len()
                ),
            ));
        }
        let t = parse_number(line, fields[0], "time")?;
        self.values.clear();
        for (i, f) in fields[1..].iter().enumerate() {
            let v = parse_number(line, f, &format!("sensor `{}`", self.sensors[i]))?;
            self.values.push(v);
        }
        Ok(t)
    }

    fn combined(&mut self) -> Frame {
        let mut out = [0.0f64; 2];
        let mut n = 0;
        if !self.anal.is_empty() {
            let max = self
                .anal
                .iter()
                .map(|&i| self.values[i])
                .fold(f64::NEG_INFINITY, f64::max);
            out[n] = Unit::MmHg.to_canonical(max);
            n += 1;
        }
        if !self.rectal.is_empty() {
            let it = self.rectal.iter().map(|&i| self.values[i]);
            let v = match self.options.rectal {
                RectalCombine::Mean => it.sum::<f64>() / self.rectal.len() as f64,
                RectalCombine::Max => it.fold(f64::NEG_INFINITY, f64::max),
                RectalCombine::LargestRise => {
                    if self.rectal_first.is_empty() {
                        self.rectal_first = it.collect();
                    }
                    let first = &self.rectal_first;
                    let mean = first.iter().sum::<f64>() / first.len() as f64;
                    let rise = self
                        .rectal
                        .iter()
                        .zip(first)
                        .map(|(&i, f)| self.values[i] - f)
                        .fold(f64::NEG_INFINITY, f64::max);
                    mean + rise
                }
            };
            out[n] = Unit::MmHg.to_canonical(v);
            n += 1;
        }
        Frame::new(self.next_index, &out[..n])
    }
}

fn parse_number(line: u64, field: &str, what: &str) -> Result<f64, ImportError> {
    match field.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(ImportError::malformed(
            line,
            format!("{what}: `{}` is not a finite number", excerpt(field)),
        )),
    }
}

impl<R: BufRead> SampleSource for ManometryReader<R> {
    type Error = ImportError;

    fn spec(&self) -> StreamSpec {
        self.spec
    }

    fn next_item(&mut self) -> Result<Option<SourceItem>, ImportError> {
        if let Some(f) = self.pending.take() {
            return Ok(Some(SourceItem::Frame(f)));
        }
        if self.finished {
            return Ok(None);
        }
        loop {
            let (line, text) = match self.lines.next_line()? {
                None => {
                    self.finished = true;
                    return Ok(None);
                }
                Some((n, l)) => (n, l.into_owned()),
            };
            if text.trim().is_empty() {
                continue;
            }
            if is_annotation_header(&text) {
                self.finished = true;
                return Ok(None);
            }
            let t = self.parse_row(line, &text)?;
            let mut lost = 0u64;
            if let Some(prev) = self.prev_t {
                let d = t - prev;
                if d <= 0.0 {
                    return Err(ImportError::malformed(
                        line,
                        format!("time {t} s does not increase (previous row {prev} s)"),
                    ));
                }
                if d > MAX_GAP_S {
                    return Err(ImportError::malformed(
                        line,
                        format!(
                            "time {t} s jumps {d:.0} s after the previous row (more than {MAX_GAP_S} s)"
                        ),
                    ));
                }
                // Anchor the index to the file's clock so that rounding in
                // the printed times never accumulates into drift.
                let exact = (t - self.start_s) / self.period_s;
                let index = (exact.round() as u64).max(self.next_index);
                let misfit = (t - self.start_s - index as f64 * self.period_s).abs();
                if misfit > self.options.spacing_tolerance * self.period_s {
                    self.problems.push(Problem::IrregularSpacing {
                        line,
                        delta_s: d,
                        expected_s: self.period_s,
                    });
                }
                lost = index - self.next_index;
            }
            self.prev_t = Some(t);
            self.rows += 1;
            if let Some(until) = self.skip_until_s {
                if lost > 0 {
                    // rows missing before the start: reported, nothing to
                    // emit for them
                    self.lost += lost;
                    self.problems.push(Problem::Gap { line, lost });
                    self.next_index += lost;
                    lost = 0;
                }
                // half a period of slack: the marker's printed time and the
                // row's may differ by rounding
                if (self.next_index as f64 + 0.5) * self.period_s <= until {
                    self.skipped += 1;
                    self.next_index += 1;
                    continue;
                }
                self.skip_until_s = None;
            }
            if lost > 0 {
                let first_index = self.next_index;
                self.next_index += lost;
                self.lost += lost;
                self.problems.push(Problem::Gap { line, lost });
                let frame = self.combined();
                self.next_index += 1;
                self.pending = Some(frame);
                return Ok(Some(SourceItem::Gap { first_index, lost }));
            }
            let frame = self.combined();
            self.next_index += 1;
            return Ok(Some(SourceItem::Frame(frame)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn reader(text: &[u8]) -> Result<ManometryReader<Cursor<Vec<u8>>>, ImportError> {
        ManometryReader::new(Cursor::new(text.to_vec()), ManometryOptions::default())
    }

    fn drain<R: BufRead>(r: &mut ManometryReader<R>) -> Result<Vec<SourceItem>, ImportError> {
        let mut v = Vec::new();
        while let Some(it) = r.next_item()? {
            v.push(it);
        }
        Ok(v)
    }

    const GOOD: &str = "TIME:\tB2\tB1\t2\t1\n\
        \x20   0.00\t   20.00\t   10.00\t   30.00\t   40.00\n\
        \x20   0.54\t   22.00\t   12.00\t   50.00\t   41.00\n\
        \x20   1.08\t   24.00\t   14.00\t   30.00\t   20.00\n\
        \n\
        Annotations:\n\
        \x20   0.10    # Rest\n\
        \x20   0.54\t# Squeeze 1\n\
        \x20   1.00\thusten\n";

    /// Rows 0.5 s apart, a gap of two rows before the `# Rest` marker at
    /// 2.0 s, a squeeze after it.
    const LATE_REST: &str = "TIME:\tB1\t1\n\
        0.0\t5\t90\n0.5\t5\t80\n1.0\t5\t70\n2.0\t5\t40\n2.5\t5\t41\n3.0\t5\t60\n\
        Annotations:\n1.95\t# Rest\n3.0\t# Squeeze 1\n";

    #[test]
    fn the_stream_starts_at_the_rest_marker() {
        let mut r = reader(LATE_REST.as_bytes()).unwrap();
        assert_eq!(r.starts_at_s(), Some(1.95));
        let items = drain(&mut r).unwrap();
        let frames: Vec<&Frame> = items
            .iter()
            .map(|i| match i {
                SourceItem::Frame(f) => f,
                SourceItem::Gap { .. } => panic!("the gap lies before the start: {items:?}"),
            })
            .collect();
        // the first frame is the row at 2.0 s, index 4 on the file's clock
        assert_eq!(
            frames.iter().map(|f| f.index).collect::<Vec<_>>(),
            [4, 5, 6]
        );
        assert!((frames[0].get(0) - 40.0 * 1.35951).abs() < 1e-9);
        assert_eq!(r.rows_skipped(), 3);
        assert_eq!(r.rows_read(), 6);
        // the missing row is still reported
        assert_eq!(r.rows_lost(), 1);
        assert!(r
            .problems()
            .iter()
            .any(|p| matches!(p, Problem::Gap { lost: 1, .. })));

        // opting out streams every row, the gap included
        let o = ManometryOptions::default().with_start_at_rest(false);
        let mut all = ManometryReader::new(Cursor::new(LATE_REST.as_bytes().to_vec()), o).unwrap();
        assert_eq!(all.starts_at_s(), None);
        let items = drain(&mut all).unwrap();
        assert_eq!(items.len(), 7);
        assert!(matches!(items[0], SourceItem::Frame(f) if f.index == 0));
        assert_eq!(all.rows_skipped(), 0);
    }

    #[test]
    fn maps_sensors_and_converts_units() {
        let mut r = reader(GOOD.as_bytes()).unwrap();
        let spec = r.spec();
        assert!((spec.rate_hz() - 1.0 / 0.54).abs() < 1e-9);
        assert_eq!(
            spec.channels(),
            &[
                ChannelSpec::canonical(Role::PelvicPressure),
                ChannelSpec::canonical(Role::AbdominalPressure)
            ]
        );
        let items = drain(&mut r).unwrap();
        assert_eq!(items.len(), 3);
        let SourceItem::Frame(f) = items[1] else {
            panic!("expected a frame")
        };
        assert_eq!(f.index, 1);
        assert!((f.get(0) - 50.0 * 1.35951).abs() < 1e-9, "anal maximum");
        assert!((f.get(1) - 17.0 * 1.35951).abs() < 1e-9, "rectal mean");
        assert_eq!(r.rows_read(), 3);
        let m = r.markers();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].kind, MarkerKind::Rest);
        assert_eq!(m[0].line, 7);
        assert_eq!(m[1].kind, MarkerKind::Squeeze(Some(1)));
        assert_eq!(m[2].kind, MarkerKind::Note);
        // Missing protocol markers are reported, not fatal.
        assert!(r
            .problems()
            .contains(&Problem::MissingMarker { name: "# Push 1" }));
    }

    #[test]
    fn max_combination_and_stream_clock() {
        let text =
            "ZEIT:\tB2\tB1\t1\n10.0\t1\t3\t5\n10.1\t1\t3\t5\nAnnotations:\n10.05\t# Push 1\n";
        let opts = ManometryOptions {
            rectal: RectalCombine::Max,
            ..ManometryOptions::default()
        };
        let mut r = ManometryReader::new(Cursor::new(text), opts).unwrap();
        assert!((r.markers()[0].stream_s - 0.05).abs() < 1e-9);
        assert_eq!(r.start_s(), 10.0);
        let Some(SourceItem::Frame(f)) = r.next_item().unwrap() else {
            panic!("expected a frame")
        };
        assert!((f.get(1) - 3.0 * 1.35951).abs() < 1e-9);
    }

    #[test]
    fn largest_rise_is_the_default_rectal_combination() {
        // B2 reads 20 mmHg above B1 and does not follow the push B1 shows;
        // both follow the squeeze (row 3) alike
        let text = "TIME:\tB2\tB1\t1\n0\t24\t4\t40\n1\t25\t34\t60\n\
                    2\t26\t6\t60\nAnnotations:\n0.5\t# Push 1\n";
        let mut r = reader(text.as_bytes()).unwrap();
        let items = drain(&mut r).unwrap();
        let rectal: Vec<f64> = items
            .iter()
            .map(|i| match i {
                SourceItem::Frame(f) => f.get(1) / 1.35951,
                SourceItem::Gap { .. } => f64::NAN,
            })
            .collect();
        // first row: the mean (14); then 14 + the larger rise
        for (got, want) in rectal.iter().zip([14.0, 44.0, 16.0]) {
            assert!((got - want).abs() < 1e-9, "{rectal:?}");
        }
        let mean = ManometryOptions {
            rectal: RectalCombine::Mean,
            ..ManometryOptions::default()
        };
        let mut r = ManometryReader::new(Cursor::new(text), mean).unwrap();
        let Some(SourceItem::Frame(_)) = r.next_item().unwrap() else {
            panic!("expected a frame")
        };
        let Some(SourceItem::Frame(f)) = r.next_item().unwrap() else {
            panic!("expected a frame")
        };
        assert!(
            (f.get(1) / 1.35951 - 29.5).abs() < 1e-9,
            "mean halves the push"
        );
    }

    #[test]
    fn invalid_channels_are_skipped() {
        let text = "TIME:\tB2\tB1\t2\t1\n0\t100\t10\t1\t99\n1\t100\t20\t2\t99\n\
                    Annotations:\n-1.00\t# B2\n-2.00\t# 1\n-1\t# RAIR\n";
        let mut r = reader(text.as_bytes()).unwrap();
        assert_eq!(r.invalid_channels(), &["B2".to_string(), "1".to_string()]);
        assert_eq!(r.rectal_sensors(), vec!["B1"]);
        assert_eq!(r.anal_sensors(), vec!["2"]);
        assert!(r.problems().iter().any(|p| matches!(
            p,
            Problem::NegativeTime { line: 7, label } if label == "# RAIR"
        )));
        let items = drain(&mut r).unwrap();
        let SourceItem::Frame(f) = items[1] else {
            panic!("expected a frame")
        };
        assert!((f.get(0) - 2.0 * 1.35951).abs() < 1e-9);
        assert!((f.get(1) - 20.0 * 1.35951).abs() < 1e-9);
    }

    #[test]
    fn gaps_and_irregular_rows_are_reported() {
        let text =
            "TIME:\tB1\t1\n0.0\t1\t1\n0.1\t1\t1\n0.2\t1\t1\n0.5\t1\t1\n0.63\t1\t1\n0.7\t1\t1\n";
        let mut r = reader(text.as_bytes()).unwrap();
        let items = drain(&mut r).unwrap();
        assert_eq!(
            items[3],
            SourceItem::Gap {
                first_index: 3,
                lost: 2
            }
        );
        let SourceItem::Frame(f) = items[4] else {
            panic!("expected a frame")
        };
        assert_eq!(f.index, 5);
        assert_eq!(r.rows_lost(), 2);
        assert!(r.problems().contains(&Problem::Gap { line: 5, lost: 2 }));
        assert!(r
            .problems()
            .iter()
            .any(|p| matches!(p, Problem::IrregularSpacing { line: 6, .. })));
        assert!(r.problems().contains(&Problem::NoAnnotationBlock));
        assert!(
            !r.problems()
                .iter()
                .any(|p| matches!(p, Problem::MissingMarker { .. })),
            "no per-marker noise when there are no markers at all"
        );
    }

    #[test]
    fn duplicate_unknown_and_empty_markers() {
        let text = "TIME:\tB1\t1\n0\t1\t1\n1\t1\t1\n2\t1\t1\nAnnotations:\n\
                    0.5\t# Squeeze 2\n1.5\t# Squeeze 2\n1.0\t# Blub\n1.2\n9.0\t# Push 1\n";
        let r = reader(text.as_bytes()).unwrap();
        let p = r.problems();
        assert!(p.contains(&Problem::DuplicateMarker {
            label: "# Squeeze 2".into(),
            first_line: 6,
            line: 7
        }));
        assert!(p.contains(&Problem::UnknownMarker {
            line: 8,
            label: "# Blub".into()
        }));
        assert!(p.contains(&Problem::EmptyAnnotation { line: 9 }));
        assert!(p
            .iter()
            .any(|p| matches!(p, Problem::MarkerOutsideRecording { line: 10, .. })));
        let empty = reader(b"TIME:\tB1\n0\t1\n1\t2\nAnnotations:\n\n").unwrap();
        assert!(empty.problems().contains(&Problem::NoMarkers { line: 4 }));
    }

    #[test]
    fn latin1_notes_are_decoded() {
        let text: &[u8] =
            b"ZEIT:\tB1\t1\n0\t1\t1\n1\t1\t1\nAnnotations:\n0.5\tBallonvolumen f\xfcr n\xe4chste\n";
        let r = reader(text).unwrap();
        assert_eq!(r.markers()[0].label, "Ballonvolumen f\u{fc}r n\u{e4}chste");
        assert_eq!(r.latin1_lines(), 1);
    }

    #[test]
    fn malformed_inputs_name_the_line() {
        let cases: &[(&[u8], Option<u64>, &str)] = &[
            (b"", None, "empty"),
            (b"hello\tworld\n1\t2\n", Some(1), "TIME:"),
            (b"TIME:\n0\n", Some(1), "no sensor"),
            (b"TIME:\tB1\t1\n", Some(1), "no samples"),
            (b"TIME:\tB1\t1\n0\t1\t1\n", Some(3), "fewer than two rows"),
            (
                b"TIME:\tB1\t1\n0\t1\t1\n1\t1\n",
                Some(3),
                "expected 3 fields",
            ),
            (
                b"TIME:\tB1\t1\n0\t1\t1\n1\tabc\t1\n",
                Some(3),
                "sensor `B1`",
            ),
            (b"TIME:\tB1\t1\n0\t1\t1\n1\t1\tNaN\n", Some(3), "finite"),
            (
                b"TIME:\tB1\t1\n0\t1\t1\n1\t1\t1\n0.5\t1\t1\n",
                Some(4),
                "does not increase",
            ),
            (
                b"TIME:\tB1\t1\n0\t1\t1\n1e-300\t1\t1\n",
                Some(3),
                "plausible row period",
            ),
            (
                b"TIME:\tB1\t1\n0\t1\t1\n1\t1\t1\n1e300\t1\t1\n",
                Some(4),
                "jumps",
            ),
            (
                b"TIME:\tB1\t1\n0\t1\t1\n1\t1\t1\nAnnotations:\nx\xff\t# Rest\n",
                Some(5),
                "annotation time",
            ),
            (
                b"TIME:\tX\tY\n0\t1\t1\n1\t1\t1\n",
                Some(1),
                "no valid rectal",
            ),
        ];
        for (text, line, needle) in cases {
            let err = match reader(text) {
                Err(e) => e,
                Ok(mut r) => match drain(&mut r) {
                    Err(e) => e,
                    Ok(_) => panic!("{needle}: imported without error"),
                },
            };
            assert_eq!(err.line(), *line, "{needle}: {err}");
            let msg = err.to_string();
            assert!(msg.to_lowercase().contains(&needle.to_lowercase()), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
    }
}
