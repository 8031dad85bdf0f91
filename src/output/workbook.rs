//! The summary, the findings and the report as Excel workbooks: `summary --format xlsx`,
//! `triage --format xlsx` and `report --xlsx`. Each draws the models the other writers
//! draw (the summary's [`tables`], triage's [`Evaluation`], the pipeline's [`Outcome`])
//! into sheets of typed cells ([`crate::output::sheet`]): counts are numbers, shares
//! percentages, times UTC date-times, and the rest text, never formulas.
//!
//! - summary: `Summary` (records, span, inputs, rules, funnel), then one sheet per table
//!   (`Operations`, `Logon types`, `Top users`, `Top mailboxes`, `Top client IPs`,
//!   `Top client apps`, `Activity per day` or `per hour`);
//! - findings: `Findings` (one row per finding, the severity cell coloured) and
//!   `Evidence` (one row per evidence record: its finding, then the report's columns);
//! - report: `Overview`, `Findings`, `Evidence`, the summary's tables, `Inputs` (each
//!   input and its funnel) and `Timeline` (every row, with the findings it is evidence
//!   of).
//!
//! Each returns the run's messages about Excel's limits ([`sheet::limit_notes`]).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use super::findings::{evidence_cell, headline, Context};
use super::html::page::bucket;
use super::rows::xlsx::line_cells;
use super::rows::{Column, Format, Layout, TimeFormat, SCRIPT};
use super::sheet::{self, Book, Cell, Colour, SheetStats, Sheets};
use super::summary::tables::{self, Kind, Table};
use crate::datetime::{parse_time, DateOrder, ParsedTime, Timestamp};
use crate::pipeline::{FileStatus, Outcome};
use crate::summary::{Bucket, Summary};
use crate::triage::{Evaluation, Severity};
use crate::who::Key;

const NANOS_PER_HOUR: i64 = 3_600 * 1_000_000_000;

/// The columns of the Timeline and Evidence sheets after their own: the seed script's
/// 15, then where each row was read.
const ROW_COLUMNS: &[Column] = &{
    let mut all = [Column::SourceFile; SCRIPT.len() + 2];
    let mut i = 0;
    while i < SCRIPT.len() {
        all[i] = SCRIPT[i];
        i += 1;
    }
    all[SCRIPT.len() + 1] = Column::SourceLine;
    all
};

/// What the pipeline must keep of each row (as columns) for the Evidence and Timeline
/// sheets: every field their columns read, as read (rebuilt by
/// [`crate::pipeline::Table::record`]).
pub fn row_keys() -> Vec<Key> {
    Format::Xlsx
        .fields(ROW_COLUMNS, TimeFormat::Iso)
        .fields()
        .map(Key::AsRead)
        .collect()
}

/// The fill of a finding's severity cell.
pub fn severity_colour(s: Severity) -> Colour {
    let (fill, text) = match s {
        Severity::Critical => (0x7B_00_00, 0xFF_FF_FF),
        Severity::High => (0xC0_00_00, 0xFF_FF_FF),
        Severity::Medium => (0xFF_C0_00, 0x00_00_00),
        Severity::Low => (0xFF_F2_CC, 0x00_00_00),
    };
    Colour {
        fill,
        text,
        bold: true,
    }
}

/// A sheet's name for a summary table: its title without the parenthesis
/// (`Top users (3 distinct)` → `Top users`).
pub fn sheet_name(t: &Table) -> &str {
    t.title.split(" (").next().unwrap_or(&t.title)
}

/// An instant from the tables' ISO text.
fn instant(text: &str) -> Option<Timestamp> {
    match parse_time(text.as_bytes()) {
        Ok(ParsedTime::Utc(t)) => Some(t),
        _ => None,
    }
}

/// A table's cell, typed by its column's kind (text when it does not parse).
fn typed<'a>(text: &'a str, kind: Kind) -> Cell<'a> {
    let parsed = match kind {
        Kind::Text => None,
        Kind::Count => text.parse().ok().map(Cell::Count),
        Kind::Share => text
            .strip_suffix('%')
            .and_then(|p| p.parse::<f64>().ok())
            .map(|p| Cell::Share(p / 100.0)),
        Kind::Time => instant(text).map(Cell::Time),
        Kind::Day => instant(&format!("{text}T00:00:00Z"))
            .map(|t| Cell::Day(t.0.div_euclid(24 * NANOS_PER_HOUR))),
        Kind::Hour => instant(&format!("{}:00Z", text.replacen(' ', "T", 1)))
            .map(|t| Cell::Hour(t.0.div_euclid(NANOS_PER_HOUR))),
    };
    parsed.unwrap_or(Cell::Text(text))
}

/// One summary table as one sheet (totals lines left out, as in CSV: a sheet holds data
/// rows only, for the filter).
fn table_sheet(book: &mut Book, t: &Table) -> io::Result<SheetStats> {
    let headers: Vec<&str> = t.headers.iter().map(String::as_str).collect();
    let rows = t.rows.iter().map(|row| {
        row.iter()
            .enumerate()
            .map(|(i, text)| typed(text, t.kinds.get(i).copied().unwrap_or(Kind::Text)))
            .collect()
    });
    sheet::table(book, sheet_name(t), &headers, rows)
}

/// The summary's tables (with `top` rows) and its activity per `by`, one sheet each.
fn summary_tables(
    book: &mut Book,
    s: &Summary,
    top: usize,
    by: Bucket,
) -> io::Result<Vec<SheetStats>> {
    let mut all = tables::tables(s, top);
    all.push(tables::activity_table(&tables::activity(s, by)));
    all.iter().map(|t| table_sheet(book, t)).collect()
}

/// Rows of an `Item` / `Value` sheet.
type Items<'a> = Vec<Vec<Cell<'a>>>;

fn item<'a>(name: &'a str, value: Cell<'a>) -> Vec<Cell<'a>> {
    vec![Cell::Text(name), value]
}

/// `summary --format xlsx`.
pub fn summary(
    out: &mut (dyn Write + Send),
    s: &Summary,
    top: usize,
    by: Bucket,
    temp_dir: Option<&Path>,
) -> io::Result<Vec<String>> {
    let mut book = Book::new(temp_dir)?;
    let f = &s.funnel;
    let mut items: Items<'_> = vec![item("Records", Cell::Count(s.records))];
    if let Some((first, last)) = s.span() {
        items.push(item("First event (UTC)", Cell::Time(first)));
        items.push(item("Last event (UTC)", Cell::Time(last)));
    }
    items.extend(s.inputs.iter().map(|i| item("Input", Cell::Text(i))));
    items.extend(s.filters.iter().map(|r| item("Rule", Cell::Text(r))));
    let dropped: Vec<(String, u64)> = f
        .dropped
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(rule, &n)| (format!("Dropped by rule {rule}"), n))
        .chain(
            f.skipped_workloads
                .iter()
                .map(|(w, &n)| (format!("Skipped workload {w}"), n)),
        )
        .collect();
    items.push(item("Rows read", Cell::Count(f.read)));
    items.push(item("Malformed rows", Cell::Count(f.malformed)));
    items.extend(dropped.iter().map(|(k, n)| item(k, Cell::Count(*n))));
    items.push(item("Duplicates", Cell::Count(f.duplicates)));
    let mut stats = vec![sheet::table(
        &mut book,
        "Summary",
        &["Item", "Value"],
        items,
    )?];
    stats.extend(summary_tables(&mut book, s, top, by)?);
    book.save(out)?;
    Ok(sheet::limit_notes(&stats))
}

const FINDING_HEADERS: [&str; 11] = [
    "#", "Severity", "Rule", "Title", "Why", "First", "Last", "Actor", "Mailbox", "Records",
    "Evidence",
];

/// The Findings sheet, then the Evidence sheet.
fn findings_sheets(
    book: &mut Book,
    ev: &Evaluation,
    ctx: &Context<'_>,
) -> io::Result<Vec<SheetStats>> {
    let mut sheets = Sheets::new(book, "Findings", &FINDING_HEADERS, false)?;
    for (i, f) in ev.findings.iter().enumerate() {
        let evidence = evidence_cell(f, ctx);
        sheets.row(
            book,
            &[
                Cell::Count(i as u64 + 1),
                Cell::Coloured(f.severity.name(), severity_colour(f.severity)),
                Cell::Text(&f.rule),
                Cell::Text(&f.title),
                Cell::Text(&f.why),
                Cell::Time(f.first),
                Cell::Time(f.last),
                Cell::Text(&f.actor),
                Cell::Text(&f.mailbox),
                Cell::Count(f.rows.len() as u64),
                Cell::Text(&evidence),
            ],
        )?;
    }
    let mut stats = vec![sheets.finish(book)?];

    let layout = Layout {
        sources: ctx.sources,
        ..Layout::of(SCRIPT)
    };
    let mut headers = vec!["Finding", "Severity", "Rule", "Source"];
    headers.extend(SCRIPT.iter().map(|c| c.name()));
    let mut sheets = Sheets::new(book, "Evidence", &headers, true)?;
    let mut texts = Vec::new();
    for (i, f) in ev.findings.iter().enumerate() {
        for &r in &f.rows {
            let Some(row) = ctx.rows.record(r as usize) else {
                continue;
            };
            let place = ctx.place(r);
            let mut cells = vec![
                Cell::Count(i as u64 + 1),
                Cell::Coloured(f.severity.name(), severity_colour(f.severity)),
                Cell::Text(&f.rule),
                Cell::Text(&place),
            ];
            cells.extend(line_cells(&layout, &row, None, &mut texts));
            sheets.row(book, &cells)?;
        }
    }
    stats.push(sheets.finish(book)?);
    Ok(stats)
}

/// `triage --format xlsx`.
pub fn findings(
    out: &mut (dyn Write + Send),
    ev: &Evaluation,
    ctx: &Context<'_>,
    temp_dir: Option<&Path>,
) -> io::Result<Vec<String>> {
    let mut book = Book::new(temp_dir)?;
    let stats = findings_sheets(&mut book, ev, ctx)?;
    book.save(out)?;
    Ok(sheet::limit_notes(&stats))
}

/// What `report --xlsx` shows (the HTML page's models).
pub struct Report<'a> {
    pub title: &'a str,
    pub outcome: &'a Outcome,
    pub summary: &'a Summary,
    pub evaluation: &'a Evaluation,
    pub ctx: Context<'a>,
    /// Activity buckets (`None`: hours for up to 14 days, else days, as the page).
    pub by: Option<Bucket>,
    pub top: usize,
}

/// The Overview sheet.
fn overview(book: &mut Book, r: &Report<'_>) -> io::Result<SheetStats> {
    let s = r.summary;
    let distinct = |m: &BTreeMap<String, u64>| m.keys().filter(|k| !k.is_empty()).count() as u64;
    let found = headline(&r.evaluation.findings);
    let mut items: Items<'_> = vec![
        item("Title", Cell::Text(r.title)),
        item("Records in the timeline", Cell::Count(s.records)),
    ];
    if let Some((first, last)) = s.span() {
        items.push(item("First event (UTC)", Cell::Time(first)));
        items.push(item("Last event (UTC)", Cell::Time(last)));
    }
    items.extend([
        item("Findings", Cell::Text(&found)),
        item("Mailboxes", Cell::Count(distinct(&s.mailboxes))),
        item("Users", Cell::Count(distinct(&s.users))),
        item("Client IPs", Cell::Count(distinct(&s.client_ips))),
        item("Inputs", Cell::Count(r.outcome.files.len() as u64)),
    ]);
    items.extend(r.ctx.scope.iter().map(|l| item("Rule", Cell::Text(l))));
    items.extend(
        r.evaluation
            .notes
            .iter()
            .map(|n| item("Note", Cell::Text(n))),
    );
    sheet::table(book, "Overview", &["Item", "Value"], items)
}

const INPUT_HEADERS: [&str; 8] = [
    "Input",
    "Read as",
    "Rows read",
    "Malformed",
    "Dropped by rules",
    "Duplicates",
    "Kept",
    "Notes",
];

/// The Inputs sheet: each input, how it was read, and its funnel.
fn inputs(book: &mut Book, outcome: &Outcome) -> io::Result<SheetStats> {
    let mut sheets = Sheets::new(book, "Inputs", &INPUT_HEADERS, false)?;
    for f in &outcome.files {
        let c = &f.counts;
        let mut notes: Vec<String> = Vec::new();
        let read_as = match &f.status {
            FileStatus::Read {
                format,
                encoding,
                date_order,
            } => {
                if let Some((o, how)) = date_order {
                    let order = match o {
                        DateOrder::Mdy => "month/day/year",
                        DateOrder::Dmy => "day/month/year",
                    };
                    notes.push(format!("dates {order} ({how})"));
                }
                format!("{format}, {encoding}")
            }
            FileStatus::Skipped(why) => format!("skipped: {why}"),
            FileStatus::Rejected(why) => format!("error: {why}"),
        };
        notes.extend(f.warnings.iter().cloned());
        if f.row_warnings.total > 0 {
            notes.push(format!("{} row warnings", f.row_warnings.total));
        }
        let name = f.origin.display();
        let notes = notes.join("; ");
        sheets.row(
            book,
            &[
                Cell::Text(&name),
                Cell::Text(&read_as),
                Cell::Count(c.read),
                Cell::Count(c.malformed),
                Cell::Count(c.dropped.iter().sum()),
                Cell::Count(c.duplicates),
                Cell::Count(c.written()),
                Cell::Text(&notes),
            ],
        )?;
    }
    sheets.finish(book)
}

/// The Timeline sheet: every row, oldest first, with the findings it is evidence of.
fn timeline(book: &mut Book, r: &Report<'_>) -> io::Result<SheetStats> {
    let mut of_row: BTreeMap<u32, String> = BTreeMap::new();
    for (i, f) in r.evaluation.findings.iter().enumerate() {
        for &row in &f.rows {
            let list = of_row.entry(row).or_default();
            if !list.is_empty() {
                list.push_str(", ");
            }
            list.push_str(&(i + 1).to_string());
        }
    }
    let layout = Layout {
        sources: r.ctx.sources,
        ..Layout::of(ROW_COLUMNS)
    };
    let mut headers = vec!["Findings"];
    headers.extend(ROW_COLUMNS.iter().map(|c| c.name()));
    let mut sheets = Sheets::new(book, "Timeline", &headers, true)?;
    let mut texts = Vec::new();
    for i in 0..r.ctx.rows.len() {
        let Some(row) = r.ctx.rows.record(i) else {
            continue;
        };
        let findings = u32::try_from(i)
            .ok()
            .and_then(|i| of_row.get(&i))
            .map_or("", String::as_str);
        let mut cells = vec![Cell::Text(findings)];
        cells.extend(line_cells(&layout, &row, None, &mut texts));
        sheets.row(book, &cells)?;
    }
    sheets.finish(book)
}

/// `report --xlsx`.
pub fn report(
    out: &mut (dyn Write + Send),
    r: &Report<'_>,
    temp_dir: Option<&Path>,
) -> io::Result<Vec<String>> {
    let mut book = Book::new(temp_dir)?;
    let mut stats = vec![overview(&mut book, r)?];
    stats.extend(findings_sheets(&mut book, r.evaluation, &r.ctx)?);
    stats.extend(summary_tables(
        &mut book,
        r.summary,
        r.top,
        bucket(r.summary, r.by),
    )?);
    stats.push(inputs(&mut book, r.outcome)?);
    stats.push(timeline(&mut book, r)?);
    book.save(out)?;
    Ok(sheet::limit_notes(&stats))
}
