//! JSON reports: JSON Lines (one object per line) or one JSON array of objects.
//!
//! Each row is an object whose keys are the chosen profile's column names, in profile
//! order; values are strings as the CSV would hold them (LastAccessed in ISO 8601 UTC
//! unless `--time-format original`), except `SourceLine`, a number. JSON goes to programs,
//! not to Excel, so cells are never neutralised: the values are the data, exactly.

use std::io::{self, Write};

use super::{lines, Column, Layout};
use crate::record::OwnedRecord;

/// The JSON report's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// JSON Lines: one object per line, nothing else.
    Lines,
    /// One array, one object per line inside it.
    Array,
}

/// Writes `rows` as JSON objects.
pub fn write(
    out: &mut dyn Write,
    rows: &[OwnedRecord],
    layout: Layout<'_>,
    shape: Shape,
) -> io::Result<()> {
    // The keys, escaped once: `"Subject":`.
    let keys: Vec<Vec<u8>> = layout
        .columns
        .iter()
        .map(|c| {
            let mut k = serde_json::to_vec(c.name()).unwrap_or_default();
            k.push(b':');
            k
        })
        .collect();
    let mut buf = Vec::with_capacity(4096);
    let mut cell = String::with_capacity(256);
    if shape == Shape::Array {
        out.write_all(b"[")?;
    }
    for (n, (row, item)) in lines(rows).enumerate() {
        buf.clear();
        if shape == Shape::Array {
            buf.extend_from_slice(if n == 0 { b"\n" } else { b",\n" });
        }
        buf.push(b'{');
        for (i, (&c, key)) in layout.columns.iter().zip(&keys).enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(key);
            if c == Column::SourceLine {
                buf.extend_from_slice(row.pos.line.to_string().as_bytes());
                continue;
            }
            cell.clear();
            layout.write_cell(c, row, item, &mut cell);
            serde_json::to_writer(&mut buf, cell.as_str()).map_err(io::Error::other)?;
        }
        buf.push(b'}');
        if shape == Shape::Lines {
            buf.push(b'\n');
        }
        out.write_all(&buf)?;
    }
    if shape == Shape::Array {
        out.write_all(b"\n]\n")?;
    }
    Ok(())
}
