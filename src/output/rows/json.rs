//! JSON reports: JSON Lines (one object per line) or one JSON array of objects.
//!
//! Each row is an object whose keys are the chosen profile's column names, in profile
//! order; values are strings as the CSV would hold them (LastAccessed in ISO 8601 UTC
//! unless `--time-format original`), except `SourceLine`, a number. JSON goes to programs,
//! not to Excel, so cells are never neutralised: the values are the data, exactly.

use std::io;

use super::{Column, Layout, LineFormat};
use crate::output::cells::Line;
use crate::record::{Item, RowView};

/// The JSON report's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// JSON Lines: one object per line, nothing else.
    Lines,
    /// One array, one object per line inside it.
    Array,
}

/// JSON or JSON Lines rows.
pub struct Json<'a> {
    pub layout: Layout<'a>,
    pub shape: Shape,
}

impl LineFormat for Json<'_> {
    fn header(&self, out: &mut Vec<u8>) -> io::Result<()> {
        if self.shape == Shape::Array {
            out.push(b'[');
        }
        Ok(())
    }

    fn line(
        &self,
        index: u64,
        row: &RowView<'_>,
        item: Option<&Item>,
        buffers: &mut (Line, String),
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let cell = &mut buffers.1;
        if self.shape == Shape::Array {
            out.extend_from_slice(if index == 0 { b"\n" } else { b",\n" });
        }
        out.push(b'{');
        for (i, &c) in self.layout.columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut *out, c.name()).map_err(io::Error::other)?;
            out.push(b':');
            if c == Column::SourceLine {
                out.extend_from_slice(row.pos.line.to_string().as_bytes());
                continue;
            }
            cell.clear();
            self.layout.write_cell(c, row, item, cell);
            serde_json::to_writer(&mut *out, cell.as_str()).map_err(io::Error::other)?;
        }
        out.push(b'}');
        if self.shape == Shape::Lines {
            out.push(b'\n');
        }
        Ok(())
    }

    fn footer(&self, _lines: u64, out: &mut Vec<u8>) -> io::Result<()> {
        if self.shape == Shape::Array {
            out.extend_from_slice(b"\n]\n");
        }
        Ok(())
    }
}
