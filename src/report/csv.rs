//! The CSV report, encoded as the seed script's `Export-Csv -NoTypeInformation -Encoding
//! UTF8` writes it: UTF-8 with BOM, CRLF line ends, every field quoted.
//!
//! Reports are opened in Excel, and subjects are written by whoever sent the mail. A cell
//! starting with `=`, `+`, `-`, `@`, tab or CR would run as a formula, so by default it is
//! prefixed with `'` (OWASP's CSV-injection advice) and counted; `--raw-cells` turns that off.

use std::io::{self, Write};

use super::{Column, TimeFormat};
use crate::record::{Item, OwnedRecord};

/// Options of the CSV writer.
#[derive(Clone, Copy, Debug)]
pub struct CsvOptions<'a> {
    pub columns: &'a [Column],
    pub time: TimeFormat,
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

/// Writes the header and `rows`; returns how many cells were neutralised.
pub fn write(out: &mut dyn Write, rows: &[OwnedRecord], opts: CsvOptions<'_>) -> io::Result<u64> {
    let mut neutralised = 0u64;
    if opts.bom {
        out.write_all(b"\xEF\xBB\xBF")?;
    }
    let mut line = String::with_capacity(1024);
    for (i, c) in opts.columns.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_quoted(&mut line, c.name());
    }
    line.push_str("\r\n");
    out.write_all(line.as_bytes())?;
    let mut cell = String::with_capacity(256);
    let mut write_row = |row: &OwnedRecord, item: Option<&Item>| {
        line.clear();
        for (i, c) in opts.columns.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            cell.clear();
            if opts.excel_safe {
                c.write_value(row, item, opts.time, &mut cell);
                if is_formula_like(&cell) {
                    cell.insert(0, '\'');
                    neutralised += 1;
                }
            } else {
                c.write_value(row, item, opts.time, &mut cell);
            }
            push_quoted(&mut line, &cell);
        }
        line.push_str("\r\n");
        out.write_all(line.as_bytes())
    };
    for row in rows {
        if row.items.is_empty() {
            write_row(row, None)?;
        } else {
            for item in &row.items {
                write_row(row, Some(item))?;
            }
        }
    }
    Ok(neutralised)
}

fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    for (i, part) in value.split('"').enumerate() {
        if i > 0 {
            out.push_str("\"\"");
        }
        out.push_str(part);
    }
    out.push('"');
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
        let mut s = String::new();
        push_quoted(&mut s, r#"He said "hi""#);
        assert_eq!(s, r#""He said ""hi""""#);
    }
}
