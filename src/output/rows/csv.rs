//! The CSV report, encoded as the seed script's `Export-Csv -NoTypeInformation -Encoding
//! UTF8` writes it: UTF-8 with BOM (files; not on standard output), CRLF line ends, every
//! field quoted, Excel-safe cells ([`crate::output::cells`]).

use std::io::{self, Write};

use super::{LineFormat, Options};
use crate::output::cells::Line;
use crate::record::{Item, RowView};

/// The CSV report's lines.
pub struct Csv<'a> {
    pub opts: Options<'a>,
}

impl LineFormat for Csv<'_> {
    fn header(&self, out: &mut Vec<u8>) -> io::Result<()> {
        if self.opts.bom {
            out.write_all(b"\xEF\xBB\xBF")?;
        }
        Line::new(false).write_into(out, |line| {
            for c in self.opts.layout.columns {
                line.plain(c.name());
            }
        });
        Ok(())
    }

    fn line(
        &self,
        _index: u64,
        row: &RowView<'_>,
        item: Option<&Item>,
        buffers: &mut (Line, String),
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let (line, cell) = buffers;
        line.write_into(out, |line| {
            self.opts.layout.csv_cells(row, item, line, cell)
        });
        Ok(())
    }

    fn excel_safe(&self) -> bool {
        self.opts.excel_safe
    }
}
