//! The one way mbxaudit writes a CSV line: every field quoted, quotes doubled, CRLF at the
//! end (as the seed script's `Export-Csv -NoTypeInformation -Encoding UTF8` writes), and
//! Excel-safe cells. Every CSV we write — the report, Timesketch's import, the summary
//! tables, the findings — goes through [`Line`].
//!
//! Reports are opened in Excel, and subjects are written by whoever sent the mail. A cell
//! starting with `=`, `+`, `-`, `@`, tab or CR would run as a formula, so by default it is
//! prefixed with `'` (OWASP's CSV-injection advice) and counted; `--raw-cells` turns that
//! off. Every field is quoted and its quotes doubled, written straight into the line (as
//! `csv_core` with `QuoteStyle::Always` and a CRLF terminator would, in one pass).

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
    /// The line so far.
    text: Vec<u8>,
    /// No field yet on this line.
    empty: bool,
    excel_safe: bool,
    /// Cells neutralised so far (over every line built with this buffer).
    pub neutralised: u64,
}

impl Line {
    pub fn new(excel_safe: bool) -> Line {
        Line {
            text: Vec::with_capacity(1024),
            empty: true,
            excel_safe,
            neutralised: 0,
        }
    }

    /// Appends one cell, prefixing a formula-like one with `'` when Excel-safe.
    pub fn cell(&mut self, value: &str) {
        if self.excel_safe && is_formula_like(value) {
            self.neutralised += 1;
            self.field(b"'", value.as_bytes());
        } else {
            self.field(b"", value.as_bytes());
        }
    }

    /// Appends a cell that is ours alone (a fixed column name, a count, a time we
    /// formatted): never neutralised. Anything that comes from the data or from a file
    /// the user gave — column names made of operation names, rule ids — goes through
    /// [`Line::cell`].
    pub fn plain(&mut self, value: &str) {
        self.field(b"", value.as_bytes());
    }

    /// Appends `prefix` and `value` as one quoted field, quotes doubled.
    fn field(&mut self, prefix: &[u8], value: &[u8]) {
        let text = &mut self.text;
        if !self.empty {
            text.push(b',');
        }
        self.empty = false;
        text.reserve(prefix.len() + value.len() + 2);
        text.push(b'"');
        text.extend_from_slice(prefix);
        let mut rest = value;
        while let Some(i) = crate::record::find_quote(rest) {
            text.extend_from_slice(&rest[..=i]);
            text.push(b'"');
            rest = &rest[i + 1..];
        }
        text.extend_from_slice(rest);
        text.push(b'"');
    }

    /// Writes the line with its CRLF and starts the next one.
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.end();
        let r = out.write_all(&self.text);
        self.text.clear();
        r
    }

    /// Builds one line at the end of `out` itself: `cells` appends its cells, then the
    /// CRLF. The cells are written straight into `out` (the line's buffer and `out` trade
    /// places meanwhile), not built apart and copied: a whole export's report is
    /// formatted this way, a few hundred megabytes.
    pub fn write_into(&mut self, out: &mut Vec<u8>, cells: impl FnOnce(&mut Line)) {
        // A line begun with `cell` and not finished goes first, as `finish` would write it.
        out.append(&mut self.text);
        std::mem::swap(&mut self.text, out);
        cells(self);
        self.end();
        std::mem::swap(&mut self.text, out);
    }

    fn end(&mut self) {
        self.text.extend_from_slice(b"\r\n");
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
    fn a_line_written_into_a_buffer_follows_what_it_holds() {
        // Built in place, after the lines already there, as `finish` would write it; a
        // cell begun before goes first; the line's own buffer is left empty.
        let mut out = b"x\r\n".to_vec();
        let mut line = Line::new(true);
        line.write_into(&mut out, |l| {
            l.cell("=a");
            l.plain("b\"c");
        });
        line.cell("first");
        line.write_into(&mut out, |l| l.cell("then"));
        assert_eq!(
            out,
            b"x\r\n\"'=a\",\"b\"\"c\"\r\n\"first\",\"then\"\r\n".to_vec()
        );
        let mut alone = Vec::new();
        line.finish(&mut alone).unwrap();
        assert_eq!(alone, b"\r\n");
        assert_eq!(line.neutralised, 1);
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

    /// The same bytes as `csv_core` writes with `QuoteStyle::Always` and CRLF.
    #[test]
    fn the_same_as_csv_core() {
        let values = [
            "", "plain", "a\"b", "\"", "\"\"", "x,y", "l1\r\nl2", "é\"é", "'=q",
        ];
        let mut line = Line::new(false);
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for v in values {
            line.plain(v);
        }
        line.finish(&mut ours).unwrap();
        let mut w = csv::WriterBuilder::new()
            .quote_style(csv::QuoteStyle::Always)
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut theirs);
        w.write_record(values).unwrap();
        drop(w);
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs).unwrap()
        );
    }
}
