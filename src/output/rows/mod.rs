//! The rows `search` writes: which columns, in which order, and in which format.
//!
//! Columns are a [`Column`] enum; a profile is a static slice of them ([`SCRIPT`] is the
//! seed script's 15, [`FULL`] every normalised field plus the row's provenance). A
//! [`Layout`] holds what every writer needs besides the rows (columns, time format, the
//! inputs' names for `SourceFile`), and [`lines`] walks the rows as they are written
//! (one line per message with `--expand-items`).
//!
//! Every format is a [`RowWriter`]: it is handed the rows in batches, in order, and
//! returns how many cells it neutralised for Excel. Formats whose lines stand alone
//! (CSV, JSON, JSON Lines, Timesketch) implement the simpler [`LineFormat`] and are
//! driven by [`Lines`], which formats a batch's lines on every thread and writes them in
//! order: same bytes at any thread count. One module per format: [`csv`], [`json`],
//! [`table`] (aligned for a terminal), [`timesketch`], [`xlsx`] (an Excel workbook) and
//! [`parquet`] (for SQL engines). To add a format: a module with
//! a [`LineFormat`] or [`RowWriter`], a [`Format`] variant, and its arm in
//! [`Format::writer`].

pub mod csv;
pub mod json;
pub mod parquet;
pub mod table;
pub mod timesketch;
pub mod xlsx;

use std::io::{self, Write};
use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;

use crate::output::cells::Line;
use crate::record::logon_type_name;
use crate::record::{Field, FieldSet, Item, OwnedRecord, RowScratch, RowSource, RowView};

/// One report column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// The seed script's Subject: the report's own Subject column, else the source items'
    /// subjects (left-trimmed), else ItemSubject.
    Subject,
    /// The seed script's CrossMailboxOp: `N/A` for SendAs, Create and Update, else
    /// CrossMailboxOperation.
    CrossMailboxOp,
    /// A normalised field as read (LogonType by name; LastAccessed per [`TimeFormat`]).
    Field(Field),
    /// The input the row was read from, as named on the command line.
    SourceFile,
    /// The row's first physical line in that input.
    SourceLine,
}

/// A column slice starting with the seed script's 15 columns, in its order
/// (`$LogParameters` with Subject first and CrossMailboxOp last), then `extra`: one list
/// for [`SCRIPT`] and [`FULL`].
macro_rules! script_columns_then {
    ($($extra:expr),* $(,)?) => {
        &[
        Column::Subject,
        Column::Field(Field::Operation),
        Column::Field(Field::LogonUserDisplayName),
        Column::Field(Field::LastAccessed),
        Column::Field(Field::DestFolderPathName),
        Column::Field(Field::FolderPathName),
        Column::Field(Field::ClientInfoString),
        Column::Field(Field::ClientIpAddress),
        Column::Field(Field::ClientMachineName),
        Column::Field(Field::ClientProcessName),
        Column::Field(Field::ClientVersion),
        Column::Field(Field::LogonType),
        Column::Field(Field::MailboxResolvedOwnerName),
        Column::Field(Field::OperationResult),
        Column::CrossMailboxOp,
        $($extra),*
        ]
    };
}

/// The seed script's report, column for column.
pub const SCRIPT: &[Column] = script_columns_then!();

/// The script's 15 columns, then every other normalised field in [`Field::ALL`] order but
/// the enrichment ones, then `extra`: one list for [`FULL`] and [`FULL_ENRICHED`].
macro_rules! full_columns_then {
    ($($extra:expr),* $(,)?) => {
        script_columns_then!(
            Column::Field(Field::LogonUserSid),
            Column::Field(Field::ClientIp),
            Column::Field(Field::MailboxOwnerUpn),
            Column::Field(Field::MailboxGuid),
            Column::Field(Field::CrossMailboxOperation),
            Column::Field(Field::ItemSubject),
            Column::Field(Field::SourceItemSubjectsList),
            Column::Field(Field::Identity),
            Column::Field(Field::RecordType),
            Column::Field(Field::Workload),
            Column::Field(Field::UserId),
            Column::Field(Field::InternetMessageId),
            Column::Field(Field::MailAccessType),
            Column::Field(Field::IsThrottled),
            $($extra),*
        )
    };
}

/// `--columns full`: the script's 15 columns first (so a full report reads like the
/// script's, widened), then every other normalised field in [`Field::ALL`] order but the
/// enrichment ones, then where the row came from. The fields `Subject` and
/// `CrossMailboxOp` are the derived columns of the same names, which fall back to the
/// field when a report is read back.
pub const FULL: &[Column] = full_columns_then!(Column::SourceFile, Column::SourceLine);

/// `--columns full` with `--geoip` or `--ip-list`: [`FULL`] with the enrichment columns
/// (ClientIPCountry, ClientIPASN, ClientIPASOrg, ClientIPFlag) before the provenance.
pub const FULL_ENRICHED: &[Column] = full_columns_then!(
    Column::Field(Field::ClientIpCountry),
    Column::Field(Field::ClientIpAsn),
    Column::Field(Field::ClientIpAsOrg),
    Column::Field(Field::ClientIpFlag),
    Column::SourceFile,
    Column::SourceLine,
);

/// `--columns`: which profile a report is written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Profile {
    /// The seed script's 15 columns.
    #[default]
    Script,
    /// Every normalised field, plus SourceFile and SourceLine (provenance).
    Full,
}

impl Profile {
    /// The columns; `enriched` when the run enriches client addresses.
    pub fn columns(self, enriched: bool) -> &'static [Column] {
        match (self, enriched) {
            (Profile::Script, _) => SCRIPT,
            (Profile::Full, false) => FULL,
            (Profile::Full, true) => FULL_ENRICHED,
        }
    }
}

/// A format's writer: the rows arrive in batches, in order.
pub trait RowWriter {
    /// Writes what comes before the rows (a header, a BOM, `[`).
    fn begin(&mut self, out: &mut (dyn Write + Send)) -> io::Result<()>;
    /// Writes one batch of rows (one or more lines each, see [`lines`]).
    fn rows(&mut self, out: &mut (dyn Write + Send), rows: &[OwnedRecord]) -> io::Result<()>;
    /// Writes one batch of rows each read in place where the writer reads it (the line
    /// formats' [`Lines`]); by default, the batch rebuilt (in parallel) and handed to
    /// [`RowWriter::rows`].
    fn row_views(&mut self, out: &mut (dyn Write + Send), rows: &dyn RowSource) -> io::Result<()> {
        let built: Vec<OwnedRecord> = (0..rows.len())
            .into_par_iter()
            .map_init(RowScratch::default, |scratch, i| {
                rows.row(i, scratch).to_owned_record()
            })
            .collect();
        self.rows(out, &built)
    }
    /// Writes what comes after the rows; returns how many cells were neutralised.
    fn finish(&mut self, out: &mut (dyn Write + Send)) -> io::Result<u64>;
    /// After [`RowWriter::finish`]: what the user must be told about the rows written
    /// (a limit of the format met: rows moved to another sheet, cells cut), one warning
    /// each.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A format whose lines stand alone: each is formatted from its row alone, so lines are
/// formatted in parallel ([`Lines`]).
pub trait LineFormat: Sync {
    /// What comes before the first line.
    fn header(&self, out: &mut Vec<u8>) -> io::Result<()>;
    /// Appends line number `index` (from 0) to `out`. `buffers` are scratch space: a CSV
    /// line (Excel-safe as [`LineFormat::excel_safe`] says) and a cell.
    fn line(
        &self,
        index: u64,
        row: &RowView<'_>,
        item: Option<&Item>,
        buffers: &mut (Line, String),
        out: &mut Vec<u8>,
    ) -> io::Result<()>;
    /// What comes after the last of `lines` lines.
    fn footer(&self, _lines: u64, _out: &mut Vec<u8>) -> io::Result<()> {
        Ok(())
    }
    /// Whether cells are neutralised for Excel.
    fn excel_safe(&self) -> bool {
        false
    }
}

/// Records formatted by one worker at a time.
const PIECE: usize = 1024;

/// Drives a [`LineFormat`]: each batch is cut into pieces, formatted on every thread, and
/// written in order.
pub struct Lines<F> {
    format: F,
    /// Lines written so far.
    lines: u64,
    neutralised: u64,
}

impl<F: LineFormat> Lines<F> {
    pub fn new(format: F) -> Lines<F> {
        Lines {
            format,
            lines: 0,
            neutralised: 0,
        }
    }
}

impl<F: LineFormat> Lines<F> {
    /// Formats `count` rows in pieces on every thread and writes them in order: `lines`
    /// counts a piece's lines, `piece` formats its rows (the piece's first line given).
    fn write_pieces(
        &mut self,
        out: &mut (dyn Write + Send),
        count: usize,
        lines: impl Fn(Range<usize>) -> u64 + Sync,
        piece: impl Fn(&F, Range<usize>, u64, &mut (Line, String), &mut Vec<u8>) -> io::Result<()>
            + Sync,
    ) -> io::Result<()> {
        let Lines {
            format,
            lines: written,
            neutralised: total_neutralised,
        } = self;
        // At most a few pieces per thread are held formatted at once.
        let window = PIECE * 4 * rayon::current_num_threads().max(1);
        for group in (0..count).step_by(window) {
            let ranges: Vec<Range<usize>> = (group..(group + window).min(count))
                .step_by(PIECE)
                .map(|start| start..(start + PIECE).min(count))
                .collect();
            // Each piece's first line: its lines counted on every thread, then summed.
            let counts: Vec<u64> = ranges.par_iter().map(|r| lines(r.clone())).collect();
            let mut first = *written;
            let pieces: Vec<(Range<usize>, u64)> = ranges
                .into_iter()
                .zip(counts)
                .map(|(range, n)| {
                    let at = first;
                    first += n;
                    (range, at)
                })
                .collect();
            let format = &*format;
            let formatted: Vec<io::Result<(Vec<u8>, u64)>> = pieces
                .into_par_iter()
                .map(|(range, at)| {
                    let mut buffers = (Line::new(format.excel_safe()), String::with_capacity(256));
                    let mut buf = Vec::with_capacity(range.len() * 256);
                    piece(format, range, at, &mut buffers, &mut buf)?;
                    Ok((buf, buffers.0.neutralised))
                })
                .collect();
            for piece in formatted {
                let (buf, neutralised) = piece?;
                out.write_all(&buf)?;
                *total_neutralised += neutralised;
            }
            *written = first;
        }
        Ok(())
    }
}

impl<F: LineFormat> RowWriter for Lines<F> {
    fn begin(&mut self, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let mut buf = Vec::new();
        self.format.header(&mut buf)?;
        out.write_all(&buf)
    }

    fn rows(&mut self, out: &mut (dyn Write + Send), rows: &[OwnedRecord]) -> io::Result<()> {
        self.write_pieces(
            out,
            rows.len(),
            |piece| lines(&rows[piece]).count() as u64,
            |format, piece, first, buffers, buf| {
                for (i, (row, item)) in lines(&rows[piece]).enumerate() {
                    format.line(first + i as u64, &row.view(), item, buffers, buf)?;
                }
                Ok(())
            },
        )
    }

    fn row_views(&mut self, out: &mut (dyn Write + Send), rows: &dyn RowSource) -> io::Result<()> {
        // Each row read where its lines are formatted.
        self.write_pieces(
            out,
            rows.len(),
            |piece| piece.map(|at| rows.lines(at) as u64).sum(),
            |format, piece, first, buffers, buf| {
                let mut scratch = RowScratch::default();
                let mut index = first;
                for at in piece {
                    let row = rows.row(at, &mut scratch);
                    for item in row_lines(&row) {
                        format.line(index, &row, item, buffers, buf)?;
                        index += 1;
                    }
                }
                Ok(())
            },
        )
    }

    fn finish(&mut self, out: &mut (dyn Write + Send)) -> io::Result<u64> {
        let mut buf = Vec::new();
        self.format.footer(self.lines, &mut buf)?;
        out.write_all(&buf)?;
        Ok(self.neutralised)
    }
}

/// What every writer is told besides the rows.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    pub layout: Layout<'a>,
    /// Write the UTF-8 byte-order mark (CSV files yes, standard output no).
    pub bom: bool,
    /// Neutralise cells that Excel would run as formulas (CSV, Timesketch).
    pub excel_safe: bool,
    /// Where a writer may keep unnamed temporary files (XLSX sheets): the report's
    /// directory; `None`: the system's temporary directory.
    pub temp_dir: Option<&'a Path>,
}

/// Writes the kept rows with `writer`, batch by batch, in order (merging what went to
/// disk); returns how many cells were neutralised.
pub fn write_rows(
    writer: &mut dyn RowWriter,
    out: &mut (dyn Write + Send),
    rows: &crate::pipeline::Rows,
) -> io::Result<u64> {
    writer.begin(out)?;
    rows.for_each_view(|batch| writer.row_views(out, batch))?;
    writer.finish(out)
}

/// Writes all of `rows` with `writer`; returns how many cells were neutralised.
pub fn write_all(
    writer: &mut dyn RowWriter,
    out: &mut (dyn Write + Send),
    rows: &[OwnedRecord],
) -> io::Result<u64> {
    writer.begin(out)?;
    writer.rows(out, rows)?;
    writer.finish(out)
}

/// `search --format`: how the rows are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// The script's CSV (UTF-8 with BOM, CRLF, every field quoted, Excel-safe cells).
    #[default]
    Csv,
    /// JSON Lines: one object per row, keys = column names.
    Jsonl,
    /// One JSON array of objects, keys = column names.
    Json,
    /// Aligned columns for a terminal (long cells cut, control characters escaped).
    Table,
    /// Timesketch's CSV: message, datetime, timestamp_desc, timestamp, then the columns.
    Timesketch,
    /// An Excel workbook: header frozen, autofilter, LastAccessed as a date-time (UTC).
    Xlsx,
    /// Parquet for SQL engines: LastAccessed a UTC timestamp, SourceLine an integer.
    Parquet,
}

impl Format {
    /// The extension of the default report file name.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Json => "json",
            Format::Table => "txt",
            Format::Timesketch => "timesketch.csv",
            Format::Xlsx => "xlsx",
            Format::Parquet => "parquet",
        }
    }

    /// The fields this format reads from a row, given its columns and time format: what
    /// the pipeline keeps of each row (a format that reads more than its columns adds its
    /// own here).
    pub fn fields(self, columns: &[Column], time: TimeFormat) -> FieldSet {
        let mut set = FieldSet::EMPTY;
        for &c in columns {
            set = match c {
                Column::Subject => set.with_all(&[
                    Field::Subject,
                    Field::SourceItemSubjectsList,
                    Field::ItemSubject,
                ]),
                Column::CrossMailboxOp => set.with_all(&[
                    Field::CrossMailboxOp,
                    Field::Operation,
                    Field::CrossMailboxOperation,
                ]),
                // Written from the row's time (binary formats: always, typed).
                Column::Field(Field::LastAccessed)
                    if time == TimeFormat::Iso || self.is_binary() =>
                {
                    set
                }
                Column::Field(f) => set.with(f),
                Column::SourceFile | Column::SourceLine => set,
            };
        }
        match self {
            // The message and timestamp_desc (see `timesketch`).
            Format::Timesketch => {
                let mut set = set.with(Field::RecordType);
                for key in [
                    crate::who::Key::Operation,
                    crate::who::Key::Actor,
                    crate::who::Key::Mailbox,
                    crate::who::Key::ClientIp,
                    crate::who::Key::Subject,
                ] {
                    set = set.with_all(key.fields());
                }
                set
            }
            Format::Csv
            | Format::Jsonl
            | Format::Json
            | Format::Table
            | Format::Xlsx
            | Format::Parquet => set,
        }
    }

    /// Whether the format is binary (not for a terminal; no byte-order mark, no
    /// Excel-safe prefixes: its cells are typed).
    pub fn is_binary(self) -> bool {
        matches!(self, Format::Xlsx | Format::Parquet)
    }

    /// This format's writer.
    pub fn writer<'a>(self, opts: Options<'a>) -> Box<dyn RowWriter + 'a> {
        match self {
            Format::Csv => Box::new(Lines::new(csv::Csv { opts })),
            Format::Jsonl => Box::new(Lines::new(json::Json {
                layout: opts.layout,
                shape: json::Shape::Lines,
            })),
            Format::Json => Box::new(Lines::new(json::Json {
                layout: opts.layout,
                shape: json::Shape::Array,
            })),
            Format::Table => Box::new(table::Table::new(opts.layout)),
            Format::Timesketch => Box::new(Lines::new(timesketch::Timesketch { opts })),
            Format::Xlsx => Box::new(xlsx::Xlsx::new(opts.layout, opts.temp_dir)),
            Format::Parquet => Box::new(parquet::Parquet::new(opts.layout)),
        }
    }
}

/// How the LastAccessed column is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TimeFormat {
    /// ISO 8601 in UTC, e.g. 2017-04-10T15:22:11Z.
    #[default]
    Iso,
    /// The text as it stood in the export.
    Original,
}

impl Column {
    pub fn name(self) -> &'static str {
        match self {
            Column::Subject => "Subject",
            Column::CrossMailboxOp => "CrossMailboxOp",
            Column::Field(f) => f.name(),
            Column::SourceFile => "SourceFile",
            Column::SourceLine => "SourceLine",
        }
    }
}

/// What every writer needs besides the rows.
#[derive(Clone, Copy, Debug)]
pub struct Layout<'a> {
    pub columns: &'a [Column],
    pub time: TimeFormat,
    /// The inputs' display names, indexed by [`crate::record::SourcePos::file`].
    pub sources: &'a [String],
}

impl Layout<'_> {
    /// A layout of `columns` with ISO times and no input names (SourceFile empty).
    pub fn of(columns: &[Column]) -> Layout<'_> {
        Layout {
            columns,
            time: TimeFormat::Iso,
            sources: &[],
        }
    }

    /// Appends every column's value for `row` (and `item`) to `line` as CSV cells, the
    /// Excel-safe rule applied; `cell` is scratch space.
    pub fn csv_cells(
        &self,
        row: &RowView<'_>,
        item: Option<&Item>,
        line: &mut Line,
        cell: &mut String,
    ) {
        for &c in self.columns {
            line.cell(self.cell(c, row, item, cell));
        }
    }

    /// Appends `column`'s value for `row` to `out`. With `item` (one message of an
    /// expanded record), Subject, FolderPathName and InternetMessageId are the item's; an
    /// item without a subject (MailItemsAccessed often logs none) shows its Internet
    /// Message-ID as Subject.
    pub fn write_cell(
        &self,
        column: Column,
        row: &RowView<'_>,
        item: Option<&Item>,
        out: &mut String,
    ) {
        if let Some(item) = item {
            match column {
                Column::Subject if !item.subject.is_empty() => return out.push_str(&item.subject),
                Column::Subject => return out.push_str(&item.internet_message_id),
                Column::Field(Field::FolderPathName) if !item.folder.is_empty() => {
                    return out.push_str(&item.folder)
                }
                Column::Field(Field::InternetMessageId) if !item.internet_message_id.is_empty() => {
                    return out.push_str(&item.internet_message_id)
                }
                _ => {}
            }
        }
        match column {
            Column::Subject => out.push_str(row.subject()),
            Column::CrossMailboxOp => out.push_str(row.cross_mailbox_op()),
            Column::Field(Field::LastAccessed) if self.time == TimeFormat::Iso => {
                row.time.write_iso(out)
            }
            Column::Field(Field::LogonType) => {
                let raw = row.get(Field::LogonType);
                out.push_str(std::str::from_utf8(logon_type_name(raw.as_bytes())).unwrap_or(raw));
            }
            Column::Field(f) => out.push_str(row.get(f)),
            Column::SourceFile => {
                let name = usize::try_from(row.pos.file)
                    .ok()
                    .and_then(|i| self.sources.get(i));
                out.push_str(name.map_or("", String::as_str));
            }
            Column::SourceLine => {
                use std::fmt::Write as _;
                let _ = write!(out, "{}", row.pos.line);
            }
        }
    }
}

impl Layout<'_> {
    /// `column`'s value for `row` (see [`Layout::write_cell`]): borrowed from the row
    /// where it is a field as read, else written into `scratch`. Saves a copy of every
    /// plain field (and of a 50 MB one).
    pub fn cell<'r>(
        &self,
        column: Column,
        row: &'r RowView<'_>,
        item: Option<&'r Item>,
        scratch: &'r mut String,
    ) -> &'r str {
        let direct = match (column, item) {
            (
                Column::Subject | Column::Field(Field::FolderPathName | Field::InternetMessageId),
                Some(_),
            ) => None,
            (Column::Subject, None) => Some(row.subject()),
            (Column::CrossMailboxOp, _) => Some(row.cross_mailbox_op()),
            (Column::Field(Field::LastAccessed), _) if self.time == TimeFormat::Iso => None,
            (Column::Field(Field::LogonType), _) => None,
            (Column::Field(f), _) => Some(row.get(f)),
            (Column::SourceFile | Column::SourceLine, _) => None,
        };
        match direct {
            Some(text) => text,
            None => {
                scratch.clear();
                self.write_cell(column, row, item, scratch);
                scratch
            }
        }
    }
}

/// The report's lines in order: one per record, or one per message of a record that
/// carries items (`--expand-items`).
pub fn lines(rows: &[OwnedRecord]) -> impl Iterator<Item = (&OwnedRecord, Option<&Item>)> {
    rows.iter()
        .flat_map(|row| (0..row.items.len().max(1)).map(move |i| (row, row.items.get(i))))
}

/// The lines of one row (see [`lines`]): its messages, or `None` for a row without any.
fn row_lines<'r>(row: &RowView<'r>) -> impl Iterator<Item = Option<&'r Item>> {
    let items = row.items;
    (0..items.len().max(1)).map(move |i| items.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_profile_has_every_field_once() {
        let mut seen = std::collections::HashSet::new();
        for c in FULL_ENRICHED {
            assert!(seen.insert(c.name()), "{} twice", c.name());
        }
        for f in Field::ALL {
            assert!(seen.contains(f.name()), "{} missing", f.name());
        }
        assert_eq!(FULL_ENRICHED.len(), Field::ALL.len() + 2);
        assert_eq!(
            FULL.len(),
            Field::ALL.len() + 2 - crate::record::ENRICHMENT.len()
        );
        for profile in [FULL, FULL_ENRICHED] {
            assert_eq!(&profile[..SCRIPT.len()], SCRIPT, "script columns first");
            assert_eq!(
                profile[profile.len() - 2..],
                [Column::SourceFile, Column::SourceLine]
            );
        }
        assert!(FULL_ENRICHED.starts_with(&FULL[..FULL.len() - 2]));
    }
}
