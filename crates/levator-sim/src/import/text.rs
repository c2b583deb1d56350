//! Line-by-line text reading shared by the importers: 1-based line
//! numbers, `\r\n` tolerance, and UTF-8 with a Latin-1 fallback so that
//! clinic exports with umlauts in their notes never fail to decode.

use std::borrow::Cow;
use std::io::BufRead;

/// Reads lines one at a time into a reused buffer (no whole-file read).
#[derive(Debug)]
pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    line_no: u64,
    /// Lines that were not valid UTF-8 and were decoded as Latin-1.
    pub(crate) latin1_lines: u64,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(inner: R) -> LineReader<R> {
        LineReader {
            inner,
            buf: Vec::with_capacity(256),
            line_no: 0,
            latin1_lines: 0,
        }
    }

    /// The next line (without its line terminator) and its 1-based number,
    /// or `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> std::io::Result<Option<(u64, Cow<'_, str>)>> {
        self.buf.clear();
        let n = self.inner.read_until(b'\n', &mut self.buf)?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        let text = match std::str::from_utf8(&self.buf) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                self.latin1_lines += 1;
                Cow::Owned(latin1(&self.buf))
            }
        };
        Ok(Some((self.line_no, text)))
    }

    /// Number of the last line returned (0 before the first).
    pub(crate) fn line_no(&self) -> u64 {
        self.line_no
    }
}

/// Decodes ISO-8859-1: every byte is the code point of the same value.
pub(crate) fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Shortens a line for an error message.
pub(crate) fn excerpt(line: &str) -> String {
    const MAX: usize = 60;
    let t = line.trim();
    if t.chars().count() <= MAX {
        t.to_string()
    } else {
        let mut s: String = t.chars().take(MAX).collect();
        s.push_str("...");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_and_latin1_and_crlf() {
        let bytes: &[u8] = b"TIME:\tB1\r\nf\xfcr\nf\xc3\xbcr\n\nlast";
        let mut r = LineReader::new(bytes);
        let (n, l) = r.next_line().unwrap().unwrap();
        assert_eq!((n, l.as_ref()), (1, "TIME:\tB1"));
        let (n, l) = r.next_line().unwrap().unwrap();
        assert_eq!((n, l.as_ref()), (2, "f\u{fc}r"));
        let (n, l) = r.next_line().unwrap().unwrap();
        assert_eq!((n, l.as_ref()), (3, "f\u{fc}r"));
        let (n, l) = r.next_line().unwrap().unwrap();
        assert_eq!((n, l.as_ref()), (4, ""));
        let (n, l) = r.next_line().unwrap().unwrap();
        assert_eq!((n, l.as_ref()), (5, "last"));
        assert!(r.next_line().unwrap().is_none());
        assert_eq!(r.latin1_lines, 1);
    }

    #[test]
    fn excerpt_shortens() {
        assert_eq!(excerpt("  ab "), "ab");
        let long = "x".repeat(100);
        assert_eq!(excerpt(&long).chars().count(), 63);
    }
}
