//! Excel workbooks: what every workbook mbxaudit writes shares (`search --format xlsx`,
//! `summary` and `triage --format xlsx`, `report --xlsx`), on `rust_xlsxwriter`.
//!
//! A [`Book`] is a workbook with fixed document properties, so that the same inputs give
//! the same bytes: its creation time is set to 1980-01-01T00:00:00Z, the time the zip
//! container gives its entries, instead of the clock's (the run's time belongs in the
//! manifest). Every sheet is a table written row by row ([`Sheets`]): a bold header
//! frozen in place (the pane at A2), an autofilter over the data, column widths from the
//! widest value seen (capped), printed landscape with the header on every page, and its rows streamed to an unnamed temporary file (`rust_xlsxwriter`'s
//! constant-memory mode) so that memory does not grow with the rows.
//!
//! Cells are typed ([`Cell`]): text is written as text, never as a formula (a subject
//! starting with `=` is shown as written, so no `'` prefix is needed), times as Excel
//! date-times in UTC shown `yyyy-mm-dd hh:mm:ss`, counts as numbers.
//!
//! Excel's limits are handled, and counted for the run's messages ([`SheetStats`]): a
//! table longer than a sheet (1,048,575 rows below the header) continues on `Name (2)`,
//! `Name (3)`...; a text longer than a cell holds (32,767 UTF-16 units) is cut, and the
//! row says so in an extra column ([`CUT_COLUMN`]) when the table has one.

use std::io::{self, Write};
use std::path::Path;

use rust_xlsxwriter::{Color, DocProperties, ExcelDateTime, Format, Workbook, XlsxError};
use unicode_width::UnicodeWidthStr;

use crate::datetime::Timestamp;

/// Data rows a sheet holds below its header (Excel's 1,048,576 rows, less the header).
pub const MAX_DATA_ROWS: u32 = 1_048_575;
/// The longest text a cell holds, in UTF-16 code units (Excel's limit).
pub const MAX_CELL: usize = 32_767;
/// The extra column that names a row's cut cells.
pub const CUT_COLUMN: &str = "CellsCut";
/// The widest a column is made, in characters.
const MAX_WIDTH: usize = 60;

const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;
/// Excel's serial number of 1970-01-01 (days since 1899-12-30).
const UNIX_EPOCH_SERIAL: i64 = 25_569;
/// 1900-03-01 in days since 1970-01-01: Excel's serials are right from there on (its
/// calendar has a 29 February 1900); earlier instants are written as text.
const FIRST_EXCEL_DAY: i64 = -25_508;

/// A fill colour (and text colour) for a [`Cell::Coloured`] cell, as `0xRRGGBB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Colour {
    pub fill: u32,
    pub text: u32,
    pub bold: bool,
}

/// The value of one cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell<'a> {
    /// Nothing (also what an empty text becomes).
    Empty,
    /// Text, as text.
    Text(&'a str),
    /// Text on a coloured background.
    Coloured(&'a str, Colour),
    /// An instant, as a UTC date-time (`yyyy-mm-dd hh:mm:ss`).
    Time(Timestamp),
    /// A day, as days since 1970-01-01 (`yyyy-mm-dd`).
    Day(i64),
    /// An hour, as hours since 1970-01-01T00:00 (`yyyy-mm-dd hh:mm`).
    Hour(i64),
    /// A count.
    Count(u64),
    /// A share, as a fraction of 1 (shown `12.5%`).
    Share(f64),
}

/// The Excel serial number (days since 1899-12-30, fraction for the time of day) of an
/// instant, or `None` before 1900-03-01.
pub fn serial(t: Timestamp) -> Option<f64> {
    let days = t.0.div_euclid(NANOS_PER_DAY);
    if days < FIRST_EXCEL_DAY {
        return None;
    }
    let rest = t.0.rem_euclid(NANOS_PER_DAY);
    Some((days + UNIX_EPOCH_SERIAL) as f64 + rest as f64 / NANOS_PER_DAY as f64)
}

/// The longest prefix of `text` that a cell holds (at most [`MAX_CELL`] UTF-16 units,
/// cut on a character boundary); `None` when all of it fits.
pub fn cut(text: &str) -> Option<&str> {
    // A character takes at least as many bytes as UTF-16 units.
    if text.len() <= MAX_CELL {
        return None;
    }
    let mut units = 0;
    for (i, c) in text.char_indices() {
        units += c.len_utf16();
        if units > MAX_CELL {
            return Some(&text[..i]);
        }
    }
    None
}

fn xlsx_error(e: XlsxError) -> io::Error {
    match e {
        XlsxError::IoError(e) => e,
        e => io::Error::other(e),
    }
}

/// The formats cells are written with.
struct Formats {
    header: Format,
    time: Format,
    day: Format,
    hour: Format,
    share: Format,
    coloured: Vec<(Colour, Format)>,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new().set_bold(),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            day: Format::new().set_num_format("yyyy-mm-dd"),
            hour: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
            share: Format::new().set_num_format("0.0%"),
            coloured: Vec::new(),
        }
    }

    fn coloured(&mut self, c: Colour) -> &Format {
        let i = match self.coloured.iter().position(|(k, _)| *k == c) {
            Some(i) => i,
            None => {
                let mut f = Format::new()
                    .set_background_color(Color::RGB(c.fill))
                    .set_font_color(Color::RGB(c.text));
                if c.bold {
                    f = f.set_bold();
                }
                self.coloured.push((c, f));
                self.coloured.len() - 1
            }
        };
        &self.coloured[i].1
    }
}

/// A workbook being written; see the module documentation.
pub struct Book {
    workbook: Workbook,
    /// Sheets added so far (the next one's index).
    sheet_count: usize,
    formats: Formats,
    /// Data rows per sheet: [`MAX_DATA_ROWS`] (less in unit tests).
    rows_per_sheet: u32,
}

impl Book {
    /// A new workbook whose sheets spill their rows to unnamed temporary files in
    /// `temp_dir` (beside the output, so that a memory-backed `/tmp` does not hold them),
    /// or in the system's temporary directory.
    pub fn new(temp_dir: Option<&Path>) -> io::Result<Book> {
        let mut workbook = Workbook::new();
        if let Some(dir) = temp_dir {
            workbook.set_tempdir(dir).map_err(xlsx_error)?;
        }
        let created = ExcelDateTime::from_ymd(1980, 1, 1).map_err(xlsx_error)?;
        workbook.set_properties(&DocProperties::new().set_creation_datetime(&created));
        Ok(Book {
            workbook,
            sheet_count: 0,
            formats: Formats::new(),
            rows_per_sheet: MAX_DATA_ROWS,
        })
    }

    /// Writes the workbook to `out` (a zip stream: no seeking).
    pub fn save(mut self, out: &mut (dyn Write + Send)) -> io::Result<()> {
        self.workbook.save_to_writer(out).map_err(xlsx_error)
    }

    /// Sets the data rows per sheet (tests of the continuation sheets).
    #[cfg(test)]
    pub fn set_rows_per_sheet(&mut self, n: u32) {
        self.rows_per_sheet = n.max(1);
    }

    /// Adds a sheet named `name` with `headers` in bold, frozen; returns its index.
    fn add_sheet(&mut self, name: &str, headers: &[String]) -> io::Result<usize> {
        let index = self.sheet_count;
        let ws = self
            .workbook
            .add_worksheet_with_constant_memory()
            .map_err(xlsx_error)?;
        ws.set_name(name).map_err(xlsx_error)?;
        ws.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        // Printed: landscape, the header on every page.
        ws.set_landscape();
        ws.set_repeat_rows(0, 0).map_err(xlsx_error)?;
        for (col, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, col as u16, h.as_str(), &self.formats.header)
                .map_err(xlsx_error)?;
        }
        self.sheet_count += 1;
        Ok(index)
    }
}

/// What writing one table did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SheetStats {
    /// The sheets it fills, in order (`Report`, `Report (2)`...).
    pub sheets: Vec<String>,
    /// Data rows written.
    pub rows: u64,
    /// Cells cut at [`MAX_CELL`].
    pub cut: u64,
}

/// One table written row by row over as many sheets as it needs.
pub struct Sheets {
    name: String,
    headers: Vec<String>,
    /// Whether the last column is [`CUT_COLUMN`].
    flag_cuts: bool,
    /// The sheets' indices in the workbook.
    indices: Vec<usize>,
    /// Data rows in the current sheet.
    in_sheet: u32,
    widths: Vec<usize>,
    stats: SheetStats,
    /// Scratch: the cut cells of the current row.
    cuts: String,
}

impl Sheets {
    /// Starts a table named `name` (its first sheet's name) with these column headers;
    /// `flag_cuts` adds the [`CUT_COLUMN`] column.
    pub fn new(
        book: &mut Book,
        name: &str,
        headers: &[&str],
        flag_cuts: bool,
    ) -> io::Result<Sheets> {
        let mut headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
        if flag_cuts {
            headers.push(CUT_COLUMN.to_string());
        }
        let index = book.add_sheet(name, &headers)?;
        // Room for the filter button beside the header.
        let widths = headers.iter().map(|h| h.width() + 3).collect();
        Ok(Sheets {
            name: name.to_string(),
            headers,
            flag_cuts,
            indices: vec![index],
            in_sheet: 0,
            widths,
            stats: SheetStats {
                sheets: vec![name.to_string()],
                ..SheetStats::default()
            },
            cuts: String::new(),
        })
    }

    /// Writes one row (cells beyond the headers are ignored).
    pub fn row(&mut self, book: &mut Book, cells: &[Cell<'_>]) -> io::Result<()> {
        if self.in_sheet >= book.rows_per_sheet {
            let name = format!("{} ({})", self.name, self.indices.len() + 1);
            let index = book.add_sheet(&name, &self.headers)?;
            self.indices.push(index);
            self.stats.sheets.push(name);
            self.in_sheet = 0;
        }
        self.in_sheet += 1;
        self.stats.rows += 1;
        let row = self.in_sheet;
        let Some(&index) = self.indices.last() else {
            return Ok(());
        };
        let data_columns = self.headers.len() - usize::from(self.flag_cuts);
        self.cuts.clear();
        let Book {
            workbook, formats, ..
        } = book;
        let ws = workbook.worksheet_from_index(index).map_err(xlsx_error)?;
        for (col, cell) in cells.iter().take(data_columns).enumerate() {
            let c = col as u16;
            let width = match *cell {
                Cell::Empty | Cell::Text("") | Cell::Coloured("", _) => 0,
                Cell::Text(text) | Cell::Coloured(text, _) => {
                    let written = match cut(text) {
                        Some(kept) => {
                            self.stats.cut += 1;
                            if !self.cuts.is_empty() {
                                self.cuts.push_str("; ");
                            }
                            self.cuts.push_str(&format!(
                                "{}: {} characters, cut to {}",
                                self.headers[col],
                                text.chars().count(),
                                kept.chars().count()
                            ));
                            kept
                        }
                        None => text,
                    };
                    match *cell {
                        Cell::Coloured(_, colour) => {
                            ws.write_string_with_format(row, c, written, formats.coloured(colour))
                        }
                        _ => ws.write_string(row, c, written),
                    }
                    .map_err(xlsx_error)?;
                    text_width(written)
                }
                Cell::Time(t) => match serial(t) {
                    Some(s) => {
                        ws.write_number_with_format(row, c, s, &formats.time)
                            .map_err(xlsx_error)?;
                        19
                    }
                    None => {
                        let iso = t.to_iso();
                        ws.write_string(row, c, iso.as_str()).map_err(xlsx_error)?;
                        iso.len()
                    }
                },
                Cell::Day(d) => {
                    let s = (d + UNIX_EPOCH_SERIAL) as f64;
                    ws.write_number_with_format(row, c, s, &formats.day)
                        .map_err(xlsx_error)?;
                    10
                }
                Cell::Hour(h) => {
                    let s = h.div_euclid(24) + UNIX_EPOCH_SERIAL;
                    let s = s as f64 + h.rem_euclid(24) as f64 / 24.0;
                    ws.write_number_with_format(row, c, s, &formats.hour)
                        .map_err(xlsx_error)?;
                    16
                }
                Cell::Count(n) => {
                    ws.write_number(row, c, n as f64).map_err(xlsx_error)?;
                    n.to_string().len()
                }
                Cell::Share(f) => {
                    ws.write_number_with_format(row, c, f, &formats.share)
                        .map_err(xlsx_error)?;
                    6
                }
            };
            if let Some(w) = self.widths.get_mut(col) {
                *w = (*w).max(width.min(MAX_WIDTH));
            }
        }
        if !self.cuts.is_empty() {
            ws.write_string(row, data_columns as u16, self.cuts.as_str())
                .map_err(xlsx_error)?;
            if let Some(w) = self.widths.last_mut() {
                *w = (*w).max(text_width(&self.cuts).min(MAX_WIDTH));
            }
        }
        Ok(())
    }

    /// Sets the widths and the autofilter of every sheet of the table.
    pub fn finish(self, book: &mut Book) -> io::Result<SheetStats> {
        let last_col = self.headers.len().saturating_sub(1) as u16;
        let count = self.indices.len();
        for (i, &index) in self.indices.iter().enumerate() {
            let ws = book
                .workbook
                .worksheet_from_index(index)
                .map_err(xlsx_error)?;
            // Every sheet but the last is full.
            let rows = if i + 1 < count {
                book.rows_per_sheet
            } else {
                self.in_sheet
            };
            ws.autofilter(0, 0, rows, last_col).map_err(xlsx_error)?;
            for (col, &w) in self.widths.iter().enumerate() {
                ws.set_column_width(col as u16, (w.min(MAX_WIDTH) + 1) as f64)
                    .map_err(xlsx_error)?;
            }
        }
        Ok(self.stats)
    }
}

/// The width of `text` in a sheet's columns (characters, wide ones counted twice), up to
/// just over [`MAX_WIDTH`].
fn text_width(text: &str) -> usize {
    let head = match text.char_indices().nth(MAX_WIDTH + 1) {
        Some((i, _)) => &text[..i],
        None => text,
    };
    head.width()
}

/// A whole table in one call: `headers`, then `rows`.
pub fn table<'a>(
    book: &mut Book,
    name: &str,
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<Cell<'a>>>,
) -> io::Result<SheetStats> {
    let mut sheets = Sheets::new(book, name, headers, false)?;
    for row in rows {
        sheets.row(book, &row)?;
    }
    sheets.finish(book)
}

/// The run's messages about Excel's limits, for the tables of one workbook.
pub fn limit_notes(stats: &[SheetStats]) -> Vec<String> {
    let mut notes = Vec::new();
    for s in stats.iter().filter(|s| s.sheets.len() > 1) {
        notes.push(format!(
            "{} rows in '{}', more than one Excel sheet holds ({MAX_DATA_ROWS} below the \
             header): they continue on {}.",
            s.rows,
            s.sheets[0],
            s.sheets[1..]
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let cut: u64 = stats.iter().map(|s| s.cut).sum();
    if cut > 0 {
        notes.push(format!(
            "{cut} cell{} longer than Excel's {MAX_CELL} characters cut to fit; the rows \
             name them in column {CUT_COLUMN} (csv, jsonl and parquet keep them whole).",
            if cut == 1 { "" } else { "s" }
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_match_excel() {
        assert_eq!(serial(Timestamp(0)), Some(25_569.0));
        // 2017-04-10T12:00:00Z is serial 42835.5.
        let noon = Timestamp((17_266 * 86_400 + 43_200) * 1_000_000_000);
        assert_eq!(serial(noon), Some(42_835.5));
        // 1900-03-01 is serial 61; the day before is not representable.
        let first = Timestamp(FIRST_EXCEL_DAY * NANOS_PER_DAY);
        assert_eq!(serial(first), Some(61.0));
        assert_eq!(serial(Timestamp(first.0 - 1)), None);
    }

    #[test]
    fn cut_counts_utf16_units_on_char_boundaries() {
        assert_eq!(cut("short"), None);
        let exact = "a".repeat(MAX_CELL);
        assert_eq!(cut(&exact), None);
        let over = "a".repeat(MAX_CELL + 1);
        assert_eq!(cut(&over).map(str::len), Some(MAX_CELL));
        // '😀' is two UTF-16 units: 16,383 fit (32,766 units), the next would not.
        let emoji = "😀".repeat(16_384);
        let kept = cut(&emoji).expect("cut");
        assert_eq!(kept.chars().count(), 16_383);
        // 'é' is one unit in two bytes: 32,767 of them fit, in 65,534 bytes.
        let accents = "é".repeat(MAX_CELL);
        assert_eq!(cut(&accents), None);
    }

    #[test]
    fn long_tables_continue_on_numbered_sheets() {
        let mut book = Book::new(None).expect("book");
        book.set_rows_per_sheet(2);
        let mut sheets = Sheets::new(&mut book, "Report", &["A"], true).expect("sheets");
        for _ in 0..5 {
            sheets.row(&mut book, &[Cell::Text("x")]).expect("row");
        }
        let long = "y".repeat(MAX_CELL + 10);
        sheets.row(&mut book, &[Cell::Text(&long)]).expect("row");
        let stats = sheets.finish(&mut book).expect("finish");
        assert_eq!(stats.sheets, ["Report", "Report (2)", "Report (3)"]);
        assert_eq!((stats.rows, stats.cut), (6, 1));
        let notes = limit_notes(&[stats]);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("'Report (2)', 'Report (3)'"), "{notes:?}");
        let mut out = Vec::new();
        book.save(&mut out).expect("save");
        assert!(out.starts_with(b"PK"));
    }
}
