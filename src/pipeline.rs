//! Reads the inputs in parallel, applies the rules, and merges what is kept.
//!
//! Files are processed concurrently (rayon), and each file's chunks too. Every chunk
//! feeds a [`Collector`], which parses the time, applies the [`Filter`] and copies out the
//! rows it keeps. When a file is done, its day/month order is settled from the evidence
//! all its chunks saw, the rows whose culture dates were ambiguous get their final time,
//! and the date window is applied to them. Finally all files' rows are de-duplicated in
//! input order and sorted by time (ties keep input order), so the report is the same
//! bytes whatever the thread count. Streams (standard input, pipes) are read window by
//! window in bounded memory (`stream`), with the same result as their bytes in a file.

use std::collections::HashSet;

use anyhow::{bail, Result};
use encoding_rs::Encoding;
use rayon::prelude::*;

use crate::datetime::{DateOrder, Zone};
use crate::diag::DiagList;
use crate::filter::{Filter, Rule};
use crate::funnel::Counts;
use crate::input::csv;
use crate::input::decode::decode;
use crate::input::json;
use crate::input::{self, load, Origin};
use crate::progress::Progress;
use crate::record::OwnedRecord;

mod collect;
mod open;
mod record_type;
mod stream;

use collect::{absorb, Collector, TimeCell};
use open::{csv_format, decode_warnings, json_format, open, Opening};

/// What the pipeline needs to know, built once from the command line.
pub struct Settings {
    pub filter: Filter,
    pub zone: Zone,
    /// `--date-order`; `None` decides per file from the dates.
    pub date_order: Option<DateOrder>,
    /// `--encoding`; `None` detects.
    pub encoding: Option<&'static Encoding>,
    /// `--expand-items`: keep the messages each record touched, for one row per message.
    pub expand_items: bool,
    /// Drop Unified Audit Log rows from a quick look at their raw AuditData when the
    /// outcome is certain (always on; off only in tests that check it changes nothing).
    pub prefilter: bool,
    /// Read CSV exports with the slow sequential reference reader
    /// ([`csv::reference::scan`]), and JSON with [`json::scan_reference`], instead of the
    /// fast ones: for tests that check the fast paths against them; off everywhere else.
    pub reference: bool,
    /// Marks each kept row with the rules it matches, from the record as a JSON object
    /// (`triage --sigma`); `None` marks nothing.
    pub tagger: Option<std::sync::Arc<dyn Tagger>>,
    /// `--geoip`: fills ClientIPCountry, ClientIPASN and ClientIPASOrg of kept rows.
    pub geoip: Option<std::sync::Arc<crate::enrich::Enricher>>,
    /// `--ip-list`: fills ClientIPFlag of kept rows whose address or ASN it lists.
    pub ip_list: Option<std::sync::Arc<crate::enrich::IpList>>,
}

impl Settings {
    /// True when kept rows get the enrichment fields (`--geoip`, `--ip-list`).
    pub fn enriches(&self) -> bool {
        self.geoip.is_some() || self.ip_list.is_some()
    }
}

/// Decides, while a chunk is read (in parallel), which rules a kept record matches: the
/// pipeline knows nothing of the rules (Sigma rules, run by triage), only that a row
/// carries the numbers of those it matched ([`crate::record::OwnedRecord::tags`]).
pub trait Tagger: Send + Sync {
    /// The numbers of the rules `event` (one JSON object: a record's AuditData, or a
    /// legacy record's columns) matches, ascending; empty for none.
    fn tags(&self, event: &[u8]) -> Vec<u32>;
}

/// Kept MailItemsAccessed records by MailAccessType: Bind (messages opened) and Sync
/// (whole folders synchronised).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MailAccess {
    pub bind: u64,
    pub sync: u64,
}

impl MailAccess {
    pub fn add(&mut self, other: MailAccess) {
        self.bind += other.bind;
        self.sync += other.sync;
    }
}

/// How an input was read (or why not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileStatus {
    Read {
        format: String,
        encoding: String,
        /// The day/month order used for culture dates, and how it was chosen.
        date_order: Option<(DateOrder, &'static str)>,
    },
    /// Found while walking a directory and not an export: skipped, not an error.
    Skipped(String),
    /// Could not be read as an export: an error.
    Rejected(String),
}

/// What happened to one input.
#[derive(Debug)]
pub struct FileOutcome {
    pub origin: Origin,
    pub size: u64,
    pub status: FileStatus,
    pub counts: Counts,
    pub malformed: DiagList,
    /// Row-level warnings (invalid UTF-8 replaced, DST fold...).
    pub row_warnings: DiagList,
    /// File-level warnings, already worded.
    pub warnings: Vec<String>,
    /// Kept MailItemsAccessed records by MailAccessType.
    pub mail_access: MailAccess,
    /// SHA-256 (hex) of the bytes read, for an input hashed as the scan read it: a stream
    /// (standard input, a pipe), with `hash_streams`.
    pub sha256: Option<String>,
}

/// A kept row and its de-duplication key.
struct KeptRow {
    record: OwnedRecord,
    key: u128,
}

/// The outcome of a whole search, before writing.
pub struct Outcome {
    pub files: Vec<FileOutcome>,
    /// Kept rows, de-duplicated, sorted by time.
    pub rows: Vec<OwnedRecord>,
    pub totals: Counts,
}

/// Runs the search over `origins`. Streams (standard input, pipes) are read in bounded
/// memory.
pub fn run(origins: &[Origin], settings: &Settings, progress: &Progress) -> Result<Outcome> {
    run_hashing(origins, settings, progress, false)
}

/// [`run`], hashing the streams as they are read when `hash_streams` (for the manifest:
/// they cannot be read twice).
pub fn run_hashing(
    origins: &[Origin],
    settings: &Settings,
    progress: &Progress,
    hash_streams: bool,
) -> Result<Outcome> {
    let results: Vec<Result<(FileOutcome, Vec<KeptRow>)>> = origins
        .par_iter()
        .enumerate()
        .map(|(i, origin)| {
            if input::stream::is_stream(origin) && !settings.reference {
                stream::process_stream(i, origin, settings, progress, hash_streams)
            } else {
                process_file(i, origin, settings, progress)
            }
        })
        .collect();
    let mut files = Vec::with_capacity(results.len());
    let mut kept_per_file = Vec::with_capacity(results.len());
    let mut fatal = Vec::new();
    for r in results {
        match r {
            Ok((report, kept)) => {
                files.push(report);
                kept_per_file.push(kept);
            }
            Err(e) => fatal.push(format!("{e:#}")),
        }
    }
    if !fatal.is_empty() {
        bail!("{}", fatal.join("\nerror: "));
    }

    // De-duplicate in input order: the first export that holds an event keeps it.
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for (report, kept) in files.iter_mut().zip(kept_per_file) {
        for row in kept {
            if seen.insert(row.key) {
                rows.push(row.record);
            } else {
                report.counts.duplicates += 1;
            }
        }
    }
    rows.sort_by_key(|r| r.time); // stable: ties stay in input order

    let mut totals = Counts::default();
    for f in &files {
        totals.add(&f.counts);
    }
    debug_assert!(totals.adds_up());
    Ok(Outcome {
        files,
        rows,
        totals,
    })
}

fn process_file(
    index: usize,
    origin: &Origin,
    settings: &Settings,
    progress: &Progress,
) -> Result<(FileOutcome, Vec<KeptRow>)> {
    match load(origin) {
        Ok(bytes) => {
            let read = process_bytes(index, origin, &bytes, settings, progress);
            // A file cut short or rewritten while mapped: what was read is not the file.
            if let Some(why) = bytes.changed() {
                bail!("'{}' {why}", origin.display());
            }
            read
        }
        Err(e) => Ok((
            FileOutcome::new(origin, FileStatus::Rejected(format!("{e:#}"))),
            Vec::new(),
        )),
    }
}

impl FileOutcome {
    /// An entry of a walked directory that is not read (see [`crate::input::expand`]).
    pub fn passed_over(origin: Origin, why: String) -> FileOutcome {
        FileOutcome::new(&origin, FileStatus::Skipped(why))
    }

    fn new(origin: &Origin, status: FileStatus) -> FileOutcome {
        FileOutcome {
            origin: origin.clone(),
            size: 0,
            status,
            counts: Counts::default(),
            malformed: DiagList::default(),
            row_warnings: DiagList::default(),
            warnings: Vec::new(),
            mail_access: MailAccess::default(),
            sha256: None,
        }
    }
}

/// Reads one input's bytes. Public so that property tests can feed it arbitrary bytes.
pub fn read_bytes(
    origin: &Origin,
    bytes: &[u8],
    settings: &Settings,
) -> Result<(FileOutcome, Vec<OwnedRecord>)> {
    let (report, kept) = process_bytes(0, origin, bytes, settings, &Progress::hidden())?;
    Ok((report, kept.into_iter().map(|k| k.record).collect()))
}

fn process_bytes(
    index: usize,
    origin: &Origin,
    bytes: &[u8],
    settings: &Settings,
    progress: &Progress,
) -> Result<(FileOutcome, Vec<KeptRow>)> {
    let mut report = FileOutcome::new(origin, FileStatus::Skipped(String::new()));
    report.size = bytes.len() as u64;
    // A large UTF-16 JSON dump: read in pieces, each transcoded as it is read.
    let utf16 = json::utf16_document(bytes, settings.encoding).filter(|_| !settings.reference);
    if let Some(doc) = utf16 {
        let ctx = FileContext::new(settings, index, true);
        let done = |n: usize| progress.advance(n as u64);
        let (chunks, replaced) = doc.scan(|| Collector::new(&ctx), &done);
        report.warnings = decode_warnings(&doc.name, replaced, doc.odd_byte, doc.overridden);
        progress.advance(report.size - doc.body_len() as u64); // the byte order mark
        let kept = settle(&ctx, chunks, &mut report)?;
        let format = json_format(json::Layout::Document).into();
        finish_status(&mut report, format, doc.name);
        return Ok((report, kept));
    }
    let decoded = decode(bytes, settings.encoding);
    report.warnings = decode_warnings(
        &decoded.encoding,
        decoded.replaced,
        decoded.odd_byte,
        decoded.overridden,
    );
    let text = &*decoded.text;
    let scale = |n: usize| (n as u128 * bytes.len() as u128 / text.len().max(1) as u128) as u64;

    match open(&mut report, text, &decoded.encoding, settings) {
        Opening::Done => {
            progress.advance(report.size);
            Ok((report, Vec::new()))
        }
        Opening::Json => {
            let ctx = FileContext::new(settings, index, true);
            let chunks = if settings.reference {
                let mut visitor = Collector::new(&ctx);
                json::scan_reference(text, &mut visitor);
                progress.advance(scale(text.len()));
                vec![visitor]
            } else {
                json::scan(text, || Collector::new(&ctx), &|n| {
                    progress.advance(scale(n))
                })
            };
            let kept = settle(&ctx, chunks, &mut report)?;
            let format = json_format(json::sniff_layout(text));
            finish_status(&mut report, format.into(), decoded.encoding);
            Ok((report, kept))
        }
        Opening::Csv {
            layout,
            check_logon,
        } => {
            let ctx = FileContext::new(settings, index, check_logon);
            let chunks = if settings.reference {
                let mut visitor = Collector::new(&ctx);
                csv::reference::scan(text, &layout, &mut visitor);
                progress.advance(scale(text.len().saturating_sub(layout.body_start)));
                vec![visitor]
            } else {
                csv::scan(text, &layout, || Collector::new(&ctx), &|n| {
                    progress.advance(scale(n))
                })
            };
            progress.advance(scale(layout.body_start));
            let kept = settle(&ctx, chunks, &mut report)?;
            finish_status(&mut report, csv_format(&layout), decoded.encoding);
            Ok((report, kept))
        }
    }
}

/// Fills in how a read file was read, and flags a row count that is a cmdlet's cap.
fn finish_status(report: &mut FileOutcome, format_name: String, encoding_name: String) {
    if let FileStatus::Read {
        format, encoding, ..
    } = &mut report.status
    {
        *format = format_name;
        *encoding = encoding_name;
    }
    let n = report.counts.read;
    if [5_000, 50_000, 250_000].contains(&n) {
        report.warnings.push(format!(
            "holds exactly {n} records, a result cap of the export cmdlets \
             (Search-UnifiedAuditLog pages of 5,000 and 50,000 a session; Search-MailboxAuditLog \
             -ResultSize 50,000 in the seed script, 250,000 at most): the export was probably \
             cut. Export again in smaller date windows"
        ));
    }
}

struct FileContext<'s> {
    settings: &'s Settings,
    file: u32,
    check_logon: bool,
}

impl<'s> FileContext<'s> {
    fn new(settings: &'s Settings, index: usize, check_logon: bool) -> Self {
        FileContext {
            settings,
            file: u32::try_from(index).unwrap_or(u32::MAX),
            check_logon,
        }
    }
}

/// Merges a file's chunks, settles its day/month order and finishes its rows.
fn settle(
    ctx: &FileContext<'_>,
    chunks: Vec<Collector<'_>>,
    report: &mut FileOutcome,
) -> Result<Vec<KeptRow>> {
    let mut chunks = chunks.into_iter();
    let mut all = chunks.next().unwrap_or_else(|| Collector::new(ctx));
    for c in chunks {
        absorb(&mut all, c);
    }
    all.name_skipped();
    let Collector {
        mut counts,
        undecided_drops,
        proof,
        unproven,
        malformed,
        warnings,
        mail_access,
        kept: pending,
        ..
    } = all;
    report.mail_access.add(mail_access);
    report.malformed.extend(malformed);
    report.row_warnings.extend(warnings);
    let [mdy_proof, dmy_proof] = proof;
    let order = match (ctx.settings.date_order, &mdy_proof, &dmy_proof) {
        (Some(o), _, _) => Some((o, "--date-order")),
        (None, Some(m), Some(d)) => {
            report.status = FileStatus::Rejected(format!(
                "dates are written both month-first (line {}: '{}') and day-first (line {}: '{}'), \
                 so no order can be trusted and none of its {} rows are reported. Re-run this file \
                 with --date-order mdy or --date-order dmy (dates invalid in that order are then \
                 reported as malformed)",
                m.line, m.text, d.line, d.text, counts.read
            ));
            // Its rows were read: they are counted, as malformed (reported) or as rows of
            // a rejected file, so that the funnel still adds up to every row read.
            report.counts = Counts {
                read: counts.read,
                malformed: counts.malformed,
                rejected: counts.read.saturating_sub(counts.malformed),
                ..Counts::default()
            };
            return Ok(Vec::new());
        }
        (None, Some(_), None) => Some((DateOrder::Mdy, "proved by the dates")),
        (None, None, Some(_)) => Some((DateOrder::Dmy, "proved by the dates")),
        (None, None, None) if unproven > 0 => {
            report.warnings.push(format!(
                "day/month order cannot be proved from its {unproven} dates (no day above 12); \
                 read as month-first (en-US). If the export was made with a day-first culture, \
                 re-run with --date-order dmy"
            ));
            Some((DateOrder::Mdy, "assumed (no proof)"))
        }
        (None, None, None) => None,
    };
    let chosen = order.map_or(DateOrder::Mdy, |o| o.0);
    for (rule, [only_mdy, only_dmy]) in undecided_drops.iter().enumerate() {
        let (in_window, outside) = match chosen {
            DateOrder::Mdy => (*only_mdy, *only_dmy),
            DateOrder::Dmy => (*only_dmy, *only_mdy),
        };
        counts.dropped[rule] += in_window;
        counts.dropped[Rule::DateWindow as usize] += outside;
    }
    let window = ctx.settings.filter.window;
    let mut kept = Vec::with_capacity(pending.len());
    for mut row in pending {
        let time = match row.time {
            TimeCell::Known(t) => t,
            TimeCell::Undecided { mdy, dmy } => match chosen {
                DateOrder::Mdy => mdy,
                DateOrder::Dmy => dmy,
            },
        };
        if !window.contains(time) {
            counts.dropped[Rule::DateWindow as usize] += 1;
            continue;
        }
        row.record.time = time;
        let key = row.key.with_time(time);
        kept.push(KeptRow {
            record: row.record,
            key,
        });
    }
    counts.matched = kept.len() as u64;
    report.counts = counts;
    report.status = FileStatus::Read {
        format: String::new(),
        encoding: String::new(),
        date_order: order,
    };
    Ok(kept)
}
