//! The CSV report, encoded as the seed script's `Export-Csv -NoTypeInformation -Encoding
//! UTF8` writes it: UTF-8 with BOM, CRLF line ends, every field quoted.
//!
//! Reports are opened in Excel, and subjects are written by whoever sent the mail. A cell
//! starting with `=`, `+`, `-`, `@`, tab or CR would run as a formula, so by default it is
//! prefixed with `'` (OWASP's CSV-injection advice) and counted; `--raw-cells` turns that off.
//! [`Line`] is that encoding for one record, shared with the other CSV writers (Timesketch,
//! summary tables).

use std::io::{self, Write};

use super::{lines, Layout};
use crate::record::OwnedRecord;

/// Options of the CSV writer.
#[derive(Clone, Copy, Debug)]
pub struct CsvOptions<'a> {
    pub layout: Layout<'a>,
    /// Write the UTF-8 byte-order mark (files yes, stdout no).
    pub bom: bool,
    /// Neutralise cells that Excel would run as formulas.
    pub excel_safe: bool,
}

/// True when Excel would treat a cell starting this way as a formula.
pub fn is_formula_like(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// One CSV line being built: every field quoted, quotes doubled, CRLF at the end.
pub struct Line {
    text: String,
    excel_safe: bool,
    /// Cells neutralised so far (over every line built with this buffer).
    pub neutralised: u64,
}

impl Line {
    pub fn new(excel_safe: bool) -> Line {
        Line {
            text: String::with_capacity(1024),
            excel_safe,
            neutralised: 0,
        }
    }

    /// Appends one cell, prefixing a formula-like one with `'` when Excel-safe.
    pub fn cell(&mut self, value: &str) {
        if !self.text.is_empty() {
            self.text.push(',');
        }
        self.text.push('"');
        if self.excel_safe && is_formula_like(value) {
            self.text.push('\'');
            self.neutralised += 1;
        }
        for (i, part) in value.split('"').enumerate() {
            if i > 0 {
                self.text.push_str("\"\"");
            }
            self.text.push_str(part);
        }
        self.text.push('"');
    }

    /// Appends a cell that is ours (a column name, a count): never neutralised.
    pub fn plain(&mut self, value: &str) {
        let safe = std::mem::replace(&mut self.excel_safe, false);
        self.cell(value);
        self.excel_safe = safe;
    }

    /// Writes the line with its CRLF and starts the next one.
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        self.text.push_str("\r\n");
        let r = out.write_all(self.text.as_bytes());
        self.text.clear();
        r
    }
}

/// Writes the header and `rows`; returns how many cells were neutralised.
pub fn write(out: &mut dyn Write, rows: &[OwnedRecord], opts: CsvOptions<'_>) -> io::Result<u64> {
    if opts.bom {
        out.write_all(b"\xEF\xBB\xBF")?;
    }
    let layout = opts.layout;
    let mut line = Line::new(opts.excel_safe);
    for c in layout.columns {
        line.plain(c.name());
    }
    line.finish(out)?;
    let mut cell = String::with_capacity(256);
    for (row, item) in lines(rows) {
        for &c in layout.columns {
            cell.clear();
            layout.write_cell(c, row, item, &mut cell);
            line.cell(&cell);
        }
        line.finish(out)?;
    }
    Ok(line.neutralised)
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
        let mut out = Vec::new();
        line.finish(&mut out).unwrap();
        assert_eq!(out, b"\"He said \"\"hi\"\"\",\"'=1+1\",\"-x\"\r\n");
        assert_eq!(line.neutralised, 1);
    }
}
