//! The one way mbxaudit writes a CSV line: every field quoted, quotes doubled, CRLF at the
//! end (as the seed script's `Export-Csv -NoTypeInformation -Encoding UTF8` writes), and
//! Excel-safe cells. Every CSV we write — the report, Timesketch's import, the summary
//! tables, the findings — goes through [`Line`].
//!
//! Reports are opened in Excel, and subjects are written by whoever sent the mail. A cell
//! starting with `=`, `+`, `-`, `@`, tab or CR would run as a formula, so by default it is
//! prefixed with `'` (OWASP's CSV-injection advice) and counted; `--raw-cells` turns that
//! off. The quoting itself is `csv_core`'s (`QuoteStyle::Always`, CRLF terminator).

use std::io::{self, Write};

/// True when Excel would treat a cell starting this way as a formula.
pub fn is_formula_like(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// One CSV line being built.
pub struct Line {
    writer: csv_core::Writer,
    /// The line so far.
    text: Vec<u8>,
    /// No field yet on this line.
    empty: bool,
    excel_safe: bool,
    scratch: String,
    /// Cells neutralised so far (over every line built with this buffer).
    pub neutralised: u64,
}

/// Runs `step` of the `csv_core` writer with room for `room` bytes at the end of `text`,
/// again (with more room) until it is done. Writing in place, in one call for any field
/// that fits, matters: `csv_core` looks for quotes over the whole remaining input at every
/// call, so many small calls on a 50 MB field would take quadratic time.
fn emit(
    text: &mut Vec<u8>,
    mut room: usize,
    mut step: impl FnMut(&mut [u8]) -> (csv_core::WriteResult, usize),
) {
    loop {
        let start = text.len();
        text.resize(start + room, 0);
        let (result, written) = step(&mut text[start..]);
        text.truncate(start + written);
        if result == csv_core::WriteResult::InputEmpty {
            return;
        }
        room = room.saturating_mul(2);
    }
}

impl Line {
    pub fn new(excel_safe: bool) -> Line {
        let writer = csv_core::WriterBuilder::new()
            .quote_style(csv_core::QuoteStyle::Always)
            .terminator(csv_core::Terminator::CRLF)
            .build();
        Line {
            writer,
            text: Vec::with_capacity(1024),
            empty: true,
            excel_safe,
            scratch: String::new(),
            neutralised: 0,
        }
    }

    /// Appends one cell, prefixing a formula-like one with `'` when Excel-safe.
    pub fn cell(&mut self, value: &str) {
        if self.excel_safe && is_formula_like(value) {
            self.neutralised += 1;
            let mut prefixed = std::mem::take(&mut self.scratch);
            prefixed.clear();
            prefixed.push('\'');
            prefixed.push_str(value);
            self.field(prefixed.as_bytes());
            self.scratch = prefixed;
        } else {
            self.field(value.as_bytes());
        }
    }

    /// Appends a cell that is ours alone (a fixed column name, a count, a time we
    /// formatted): never neutralised. Anything that comes from the data or from a file
    /// the user gave — column names made of operation names, rule ids — goes through
    /// [`Line::cell`].
    pub fn plain(&mut self, value: &str) {
        self.field(value.as_bytes());
    }

    fn field(&mut self, mut value: &[u8]) {
        let (writer, text) = (&mut self.writer, &mut self.text);
        if !self.empty {
            emit(text, 4, |buf| writer.delimiter(buf));
        }
        self.empty = false;
        // The value, its quotes doubled, and the opening quote: one call suffices.
        let quotes = memchr::memchr_iter(b'"', value).count();
        emit(text, value.len() + quotes + 4, |buf| {
            let (result, read, written) = writer.field(value, buf);
            value = &value[read..];
            (result, written)
        });
    }

    /// Writes the line with its CRLF and starts the next one.
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.end();
        let r = out.write_all(&self.text);
        self.text.clear();
        r
    }

    /// Ends the line and appends it to `out`.
    pub fn finish_into(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        self.end();
        out.extend_from_slice(&self.text);
        self.text.clear();
        Ok(())
    }

    fn end(&mut self) {
        let (writer, text) = (&mut self.writer, &mut self.text);
        emit(text, 4, |buf| writer.terminator(buf));
        self.empty = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells() {
        for c in ["=1+1", "+x", "-Identity a", "@SUM(A1)", "\tx", "\rx"] {
            assert!(is_formula_like(c), "{c:?}");
        }
        for c in ["", "Good News", " =x", "'=x"] {
            assert!(!is_formula_like(c), "{c:?}");
        }
    }

    #[test]
    fn quotes_every_field_and_doubles_quotes() {
        let mut line = Line::new(true);
        line.cell(r#"He said "hi""#);
        line.cell("=1+1");
        line.plain("-x");
        line.cell("");
        let mut out = Vec::new();
        line.finish(&mut out).unwrap();
        line.cell("a\r\nb");
        line.finish(&mut out).unwrap();
        assert_eq!(
            out,
            b"\"He said \"\"hi\"\"\",\"'=1+1\",\"-x\",\"\"\r\n\"a\r\nb\"\r\n"
        );
        assert_eq!(line.neutralised, 1);
    }
}
