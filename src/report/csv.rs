//! The CSV report, encoded as the seed script's `Export-Csv -NoTypeInformation -Encoding
//! UTF8` writes it: UTF-8 with BOM, CRLF line ends, every field quoted.

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
}

/// Writes the header and `rows`.
pub fn write(out: &mut dyn Write, rows: &[OwnedRecord], opts: CsvOptions<'_>) -> io::Result<()> {
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
            c.write_value(row, item, opts.time, &mut cell);
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
    Ok(())
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
    fn quotes_every_field_and_doubles_quotes() {
        let mut s = String::new();
        push_quoted(&mut s, r#"He said "hi""#);
        assert_eq!(s, r#""He said ""hi""""#);
    }
}
