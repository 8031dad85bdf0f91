//! `search --format table`: aligned columns for a terminal, long cells cut and control
//! characters escaped ([`crate::output::text_table`]).
//!
//! The widths are those of the widest cell of each column over all rows, so the rows are
//! held (as their cut cells, at most [`MAX_CELL`] columns each) until the end.

use std::io::{self, Write};

use super::{lines, Column, Layout, RowWriter};
use crate::output::text_table::{clean, Align, Aligner};
use crate::record::OwnedRecord;

/// The widest a cell is shown before it is cut.
pub const MAX_CELL: usize = 40;

/// The table writer: measures every line, then writes them padded.
pub struct Table<'a> {
    layout: Layout<'a>,
    aligner: Aligner,
    /// Every line's cells, cut and escaped.
    cells: Vec<Vec<String>>,
}

impl<'a> Table<'a> {
    pub fn new(layout: Layout<'a>) -> Table<'a> {
        let align = layout
            .columns
            .iter()
            .map(|&c| match c {
                Column::SourceLine => Align::Right,
                _ => Align::Left,
            })
            .collect();
        Table {
            layout,
            aligner: Aligner::new(align),
            cells: Vec::new(),
        }
    }
}

impl RowWriter for Table<'_> {
    fn begin(&mut self, _out: &mut (dyn Write + Send)) -> io::Result<()> {
        let header: Vec<&str> = self.layout.columns.iter().map(|c| c.name()).collect();
        self.aligner.measure(&header);
        Ok(())
    }

    fn rows(&mut self, _out: &mut (dyn Write + Send), rows: &[OwnedRecord]) -> io::Result<()> {
        let mut raw = String::new();
        for (row, item) in lines(rows) {
            let cells: Vec<String> = self
                .layout
                .columns
                .iter()
                .map(|&c| {
                    raw.clear();
                    self.layout.write_cell(c, &row.view(), item, &mut raw);
                    clean(&raw, MAX_CELL)
                })
                .collect();
            self.aligner.measure(&cells);
            self.cells.push(cells);
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut (dyn Write + Send)) -> io::Result<u64> {
        let header: Vec<&str> = self.layout.columns.iter().map(|c| c.name()).collect();
        let mut text = String::with_capacity(4096);
        self.aligner.line(&header, "", &mut text);
        self.aligner.rule("", &mut text);
        out.write_all(text.as_bytes())?;
        for cells in self.cells.drain(..) {
            text.clear();
            self.aligner.line(&cells, "", &mut text);
            out.write_all(text.as_bytes())?;
        }
        Ok(0)
    }
}
