//! `search --format xlsx`: the report as an Excel workbook, one sheet `Report` with the
//! CSV report's columns in its order (`--columns script|full`), then [`CUT_COLUMN`].
//!
//! Cells are typed ([`crate::output::sheet`]): `LastAccessed` is an Excel date-time in
//! UTC (whatever `--time-format` says), `SourceLine` a number, every other cell text —
//! never a formula, so nothing is prefixed with `'` and `--raw-cells` changes nothing.
//! Rows are streamed to the workbook's temporary sheet files batch by batch; a report
//! longer than a sheet continues on `Report (2)`...; a cell too long for Excel is cut
//! and its row flagged. Both are told in the run's messages ([`RowWriter::notes`]).

use std::io::{self, Write};
use std::path::Path;

use super::{lines, Column, Layout, RowWriter};
use crate::output::sheet::{self, Book, Cell, SheetStats, Sheets};
use crate::record::{Field, Item, OwnedRecord};

/// Fills `texts` (one per column) and returns the row's cells: LastAccessed as a time,
/// SourceLine as a number, the rest as text.
pub fn line_cells<'t>(
    layout: &Layout<'_>,
    row: &OwnedRecord,
    item: Option<&Item>,
    texts: &'t mut Vec<String>,
) -> Vec<Cell<'t>> {
    texts.resize(layout.columns.len(), String::new());
    for (&column, text) in layout.columns.iter().zip(texts.iter_mut()) {
        text.clear();
        if !matches!(
            column,
            Column::Field(Field::LastAccessed) | Column::SourceLine
        ) {
            layout.write_cell(column, &row.view(), item, text);
        }
    }
    layout
        .columns
        .iter()
        .zip(texts.iter())
        .map(|(&column, text)| match column {
            Column::Field(Field::LastAccessed) => Cell::Time(row.time),
            Column::SourceLine => Cell::Count(row.pos.line),
            _ => Cell::Text(text),
        })
        .collect()
}

/// The XLSX report writer.
pub struct Xlsx<'a> {
    layout: Layout<'a>,
    temp_dir: Option<&'a Path>,
    open: Option<(Book, Sheets)>,
    texts: Vec<String>,
    stats: Option<SheetStats>,
}

impl<'a> Xlsx<'a> {
    /// A writer of `layout`'s columns whose sheets spill to `temp_dir` (see [`Book::new`]).
    pub fn new(layout: Layout<'a>, temp_dir: Option<&'a Path>) -> Xlsx<'a> {
        Xlsx {
            layout,
            temp_dir,
            open: None,
            texts: Vec::new(),
            stats: None,
        }
    }
}

impl RowWriter for Xlsx<'_> {
    fn begin(&mut self, _out: &mut (dyn Write + Send)) -> io::Result<()> {
        let mut book = Book::new(self.temp_dir)?;
        let headers: Vec<&str> = self.layout.columns.iter().map(|c| c.name()).collect();
        let sheets = Sheets::new(&mut book, "Report", &headers, true)?;
        self.open = Some((book, sheets));
        Ok(())
    }

    fn rows(&mut self, _out: &mut (dyn Write + Send), rows: &[OwnedRecord]) -> io::Result<()> {
        let Some((book, sheets)) = &mut self.open else {
            return Err(io::Error::other("xlsx: rows before begin"));
        };
        for (row, item) in lines(rows) {
            let cells = line_cells(&self.layout, row, item, &mut self.texts);
            sheets.row(book, &cells)?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut (dyn Write + Send)) -> io::Result<u64> {
        let Some((mut book, sheets)) = self.open.take() else {
            return Err(io::Error::other("xlsx: finish before begin"));
        };
        self.stats = Some(sheets.finish(&mut book)?);
        book.save(out)?;
        Ok(0)
    }

    fn notes(&self) -> Vec<String> {
        self.stats
            .as_ref()
            .map(|s| sheet::limit_notes(std::slice::from_ref(s)))
            .unwrap_or_default()
    }
}
