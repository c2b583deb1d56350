//! Single-column EMG text, as written by OpenSignals / BITalino tools and
//! shipped with BioSPPy:
//!
//! ```text
//! # Simple Text Format
//! # Sampling Rate (Hz):= 1000.00
//! # Resolution:= 12
//! # Labels:= EMG
//! 2034
//! 2011
//! ```
//!
//! `#` header lines carry `key:= value` pairs (`:=`, `:` or `=` are
//! accepted); `Sampling Rate` is required, `Resolution` (ADC bits) is
//! needed unless an explicit [`AdcScale`] is given. Then one raw ADC count
//! per line.
//!
//! **Assumed front end.** The counts are converted to µV at the electrode
//! with [`AdcScale::unipolar_centred`]`(3.3 V, gain 1009, bits)`: the
//! BITalino EMG sensor (supply 3.3 V, gain 1009, output centred at
//! mid-scale; transfer function EMG = (count / 2^n - 1/2) x VCC / gain),
//! the board BioSPPy's example recordings come from. For 12 bits that is
//! 0.7985 µV per count around 2048. Give [`EmgTextOptions::scale`] for any
//! other front end.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use levator_core::stream::{
    AdcScale, ChannelSpec, Frame, Role, SampleSource, SourceItem, StreamSpec,
};

use super::text::{excerpt, LineReader};
use super::{ImportError, Problem};

/// Supply voltage of the assumed front end (BITalino EMG), V.
pub const BITALINO_EMG_VCC_V: f64 = 3.3;
/// Amplifier gain of the assumed front end (BITalino EMG).
pub const BITALINO_EMG_GAIN: f64 = 1009.0;

/// Options of [`EmgTextReader`].
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct EmgTextOptions {
    /// Role of the single channel. Default [`Role::PelvicEmg`].
    pub role: Role,
    /// Count-to-µV conversion; `None` (default) assumes the BITalino EMG
    /// front end with the header's `Resolution` bits.
    pub scale: Option<AdcScale>,
    /// Sample rate to use instead of the header's `Sampling Rate`.
    pub rate_hz: Option<f64>,
}

impl Default for EmgTextOptions {
    fn default() -> Self {
        EmgTextOptions {
            role: Role::PelvicEmg,
            scale: None,
            rate_hz: None,
        }
    }
}

/// Streaming reader of single-column EMG text; a [`SampleSource`] with one
/// EMG channel in µV.
#[derive(Debug)]
pub struct EmgTextReader<R> {
    lines: LineReader<R>,
    spec: StreamSpec,
    scale: AdcScale,
    header: Vec<(String, String)>,
    bits: Option<u32>,
    first: Option<Frame>,
    next_index: u64,
    finished: bool,
    problems: Vec<Problem>,
    out_of_range: Option<(u64, u64)>,
}

impl EmgTextReader<BufReader<File>> {
    /// Opens a file with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ImportError> {
        let file = File::open(path)?;
        EmgTextReader::new(BufReader::new(file), EmgTextOptions::default())
    }
}

fn header_pair(line: &str) -> Option<(String, String)> {
    let body = line.trim_start_matches('#').trim();
    let (k, v) = if let Some(i) = body.find(":=") {
        (&body[..i], &body[i + 2..])
    } else if let Some(i) = body.find([':', '=']) {
        (&body[..i], &body[i + 1..])
    } else {
        return None;
    };
    Some((k.trim().to_string(), v.trim().to_string()))
}

fn leading_number(v: &str) -> Option<f64> {
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(v.len());
    v[..end].parse::<f64>().ok().filter(|x| x.is_finite())
}

impl<R: BufRead> EmgTextReader<R> {
    /// Reads the header and the first sample.
    pub fn new(reader: R, options: EmgTextOptions) -> Result<Self, ImportError> {
        let mut lines = LineReader::new(reader);
        let mut header = Vec::new();
        let mut rate: Option<(u64, f64)> = None;
        let mut bits: Option<u32> = None;
        let (first_line, first_value) = loop {
            let Some((n, l)) = lines.next_line()? else {
                return Err(if lines.line_no() == 0 {
                    ImportError::Empty
                } else {
                    ImportError::NoSamples {
                        line: lines.line_no(),
                    }
                });
            };
            let t = l.trim();
            if t.is_empty() {
                continue;
            }
            if t.starts_with('#') {
                if let Some((k, v)) = header_pair(t) {
                    let key = k.to_lowercase();
                    if key.contains("sampling rate") {
                        match leading_number(&v).filter(|r| *r > 0.0) {
                            Some(r) => rate = Some((n, r)),
                            None => {
                                return Err(ImportError::malformed(
                                    n,
                                    format!(
                                        "sampling rate `{}` is not a positive number",
                                        excerpt(&v)
                                    ),
                                ))
                            }
                        }
                    } else if key.contains("resolution") {
                        match leading_number(&v) {
                            Some(b) if (2.0..=32.0).contains(&b) && b.fract() == 0.0 => {
                                bits = Some(b as u32)
                            }
                            _ => {
                                return Err(ImportError::malformed(
                                    n,
                                    format!(
                                        "resolution `{}` is not a bit count 2..32",
                                        excerpt(&v)
                                    ),
                                ))
                            }
                        }
                    }
                    header.push((k, v));
                }
                continue;
            }
            let v = parse_sample(n, t)?;
            break (n, v);
        };
        let rate_hz = match (options.rate_hz, rate) {
            (Some(r), _) => r,
            (None, Some((_, r))) => r,
            (None, None) => {
                return Err(ImportError::malformed(
                    first_line,
                    "no `Sampling Rate` header line before the first sample",
                ))
            }
        };
        let scale = match (options.scale, bits) {
            (Some(s), _) => s,
            (None, Some(b)) => AdcScale::unipolar_centred(BITALINO_EMG_VCC_V, BITALINO_EMG_GAIN, b)
                .map_err(ImportError::Scale)?,
            (None, None) => return Err(ImportError::malformed(
                first_line,
                "no `Resolution` header line: the ADC bit depth is needed to convert counts to µV",
            )),
        };
        let spec = StreamSpec::new(rate_hz, &[ChannelSpec::canonical(options.role)])
            .map_err(ImportError::Stream)?;
        let mut r = EmgTextReader {
            lines,
            spec,
            scale,
            header,
            bits,
            first: None,
            next_index: 0,
            finished: false,
            problems: Vec::new(),
            out_of_range: None,
        };
        r.first = Some(r.frame(first_line, first_value));
        Ok(r)
    }

    fn frame(&mut self, line: u64, count: f64) -> Frame {
        if let Some(b) = self.bits {
            let top = (1u64 << b) as f64 - 1.0;
            if !(0.0..=top).contains(&count) {
                match &mut self.out_of_range {
                    Some((_, c)) => *c += 1,
                    None => self.out_of_range = Some((line, 1)),
                }
            }
        }
        let f = Frame::new(self.next_index, &[self.scale.to_uv(count)]);
        self.next_index += 1;
        f
    }
}

fn parse_sample(line: u64, t: &str) -> Result<f64, ImportError> {
    let fields: Vec<&str> = t
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|f| !f.is_empty())
        .collect();
    if fields.len() != 1 {
        return Err(ImportError::malformed(
            line,
            format!("expected one value per line, found {}", fields.len()),
        ));
    }
    match fields[0].parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(ImportError::malformed(
            line,
            format!("`{}` is not a finite number", excerpt(fields[0])),
        )),
    }
}

impl<R> EmgTextReader<R> {
    /// The header's `key`/`value` pairs, in file order.
    pub fn header(&self) -> &[(String, String)] {
        &self.header
    }

    /// The count-to-µV conversion in use.
    pub fn scale(&self) -> AdcScale {
        self.scale
    }

    /// Samples delivered so far.
    pub fn samples_read(&self) -> u64 {
        self.next_index - u64::from(self.first.is_some())
    }

    /// Problems found so far (comments between samples, counts outside the
    /// header's ADC range).
    pub fn problems(&self) -> Vec<Problem> {
        let mut p = self.problems.clone();
        if let Some((first_line, count)) = self.out_of_range {
            p.push(Problem::OutOfRange { first_line, count });
        }
        p
    }
}

impl<R: BufRead> SampleSource for EmgTextReader<R> {
    type Error = ImportError;

    fn spec(&self) -> StreamSpec {
        self.spec
    }

    fn next_item(&mut self) -> Result<Option<SourceItem>, ImportError> {
        if let Some(f) = self.first.take() {
            return Ok(Some(SourceItem::Frame(f)));
        }
        if self.finished {
            return Ok(None);
        }
        loop {
            let Some((n, l)) = self.lines.next_line()? else {
                self.finished = true;
                return Ok(None);
            };
            let t = l.trim();
            if t.is_empty() {
                continue;
            }
            if t.starts_with('#') {
                self.problems.push(Problem::CommentInData { line: n });
                continue;
            }
            let v = parse_sample(n, t)?;
            return Ok(Some(SourceItem::Frame(self.frame(n, v))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# Simple Text Format\n# Sampling Rate (Hz):= 1000.00\n\
                        # Resolution:= 12\n# Labels:= EMG\n2048\n2049\n\n2047\n";

    #[test]
    fn reads_header_and_converts_counts() {
        let mut r = EmgTextReader::new(TEXT.as_bytes(), EmgTextOptions::default()).unwrap();
        assert_eq!(r.spec().rate_hz(), 1000.0);
        assert_eq!(r.spec().channels()[0].role, Role::PelvicEmg);
        assert_eq!(r.header().len(), 3);
        let uv = 3.3 / 1009.0 / 4096.0 * 1e6;
        assert!((r.scale().uv_per_count - uv).abs() < 1e-12);
        let mut vals = Vec::new();
        while let Some(SourceItem::Frame(f)) = r.next_item().unwrap() {
            vals.push((f.index, f.get(0)));
        }
        assert_eq!(vals.len(), 3);
        assert_eq!(vals[0], (0, 0.0));
        assert!((vals[1].1 - uv).abs() < 1e-12);
        assert_eq!(vals[2].0, 2);
        assert!((vals[2].1 + uv).abs() < 1e-12);
        assert_eq!(r.samples_read(), 3);
        assert!(r.problems().is_empty());
    }

    #[test]
    fn options_override_and_problems() {
        let o = EmgTextOptions {
            role: Role::AbdominalEmg,
            scale: Some(AdcScale {
                uv_per_count: 2.0,
                offset: 0.0,
            }),
            rate_hz: Some(500.0),
        };
        let text = "# Resolution: 8\n10\n# late comment\n300\n";
        let mut r = EmgTextReader::new(text.as_bytes(), o).unwrap();
        assert_eq!(r.spec().rate_hz(), 500.0);
        let mut vals = Vec::new();
        while let Some(SourceItem::Frame(f)) = r.next_item().unwrap() {
            vals.push(f.get(0));
        }
        assert_eq!(vals, vec![20.0, 600.0]);
        let p = r.problems();
        assert!(p.contains(&Problem::CommentInData { line: 3 }));
        assert!(p.contains(&Problem::OutOfRange {
            first_line: 4,
            count: 1
        }));
    }

    #[test]
    fn malformed_inputs_name_the_line() {
        let cases: &[(&[u8], Option<u64>, &str)] = &[
            (b"", None, "empty"),
            (
                b"# Sampling Rate:= 1000\n# Resolution:= 12\n",
                Some(2),
                "no samples",
            ),
            (b"# Resolution:= 12\n2048\n", Some(2), "sampling rate"),
            (b"# Sampling Rate:= 1000\n2048\n", Some(2), "resolution"),
            (b"# Sampling Rate:= fast\n", Some(1), "sampling rate"),
            (
                b"# Sampling Rate:= 1000\n# Resolution:= 12\n2048\n20x8\n",
                Some(4),
                "not a finite",
            ),
            (
                b"# Sampling Rate:= 1000\n# Resolution:= 12\n2048\n1,2\n",
                Some(4),
                "one value",
            ),
            (
                b"# Sampling Rate:= 1000\n# Resolution:= 12\n2048\n\xff\xfe\n",
                Some(4),
                "not a finite",
            ),
        ];
        for (text, line, needle) in cases {
            let err = match EmgTextReader::new(*text, EmgTextOptions::default()) {
                Err(e) => e,
                Ok(mut r) => loop {
                    match r.next_item() {
                        Err(e) => break e,
                        Ok(None) => panic!("{needle}: imported without error"),
                        Ok(Some(_)) => {}
                    }
                },
            };
            assert_eq!(err.line(), *line, "{needle}: {err}");
            let msg = err.to_string().to_lowercase();
            assert!(msg.contains(&needle.to_lowercase()), "{msg}");
        }
    }
}
