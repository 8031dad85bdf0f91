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
use xxhash_rust::xxh3::Xxh3;

use crate::datetime::{parse_time, DateOrder, ParsedTime, Timestamp, Zone};
use crate::diag::{excerpt, DiagList};
use crate::filter::{Family, Filter, Rule, RULE_COUNT};
use crate::funnel::Counts;
use crate::input::csv::{self, DedupKey, Visitor};
use crate::input::decode::decode;
use crate::input::json;
use crate::input::ual::fast::Glance;
use crate::input::{self, load, Origin};
use crate::progress::Progress;
use crate::record::{AuditRecord, Escape, Field, FieldSet, OwnedRecord, RawField, SourcePos};

mod open;
mod stream;

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
    /// ([`csv::reference::scan`]) instead of the fast one: for tests that check the fast
    /// path against it; off everywhere else.
    pub reference: bool,
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
pub struct FileReport {
    pub origin: Origin,
    pub size: u64,
    pub status: FileStatus,
    pub counts: Counts,
    pub malformed: DiagList,
    /// Row-level warnings (invalid UTF-8 replaced, DST fold...).
    pub row_warnings: DiagList,
    /// File-level warnings, already worded.
    pub warnings: Vec<String>,
    /// Kept MailItemsAccessed records by MailAccessType: `[Bind, Sync]`.
    pub mail_access: [u64; 2],
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
    pub files: Vec<FileReport>,
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
    let results: Vec<Result<(FileReport, Vec<KeptRow>)>> = origins
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
) -> Result<(FileReport, Vec<KeptRow>)> {
    match load(origin) {
        Ok(bytes) => process_bytes(index, origin, &bytes, settings, progress),
        Err(e) => Ok((
            FileReport::new(origin, FileStatus::Rejected(format!("{e:#}"))),
            Vec::new(),
        )),
    }
}

impl FileReport {
    fn new(origin: &Origin, status: FileStatus) -> FileReport {
        FileReport {
            origin: origin.clone(),
            size: 0,
            status,
            counts: Counts::default(),
            malformed: DiagList::default(),
            row_warnings: DiagList::default(),
            warnings: Vec::new(),
            mail_access: [0; 2],
            sha256: None,
        }
    }
}

/// Reads one input's bytes. Public so that property tests can feed it arbitrary bytes.
pub fn read_bytes(
    origin: &Origin,
    bytes: &[u8],
    settings: &Settings,
) -> Result<(FileReport, Vec<OwnedRecord>)> {
    let (report, kept) = process_bytes(0, origin, bytes, settings, &Progress::hidden())?;
    Ok((report, kept.into_iter().map(|k| k.record).collect()))
}

fn process_bytes(
    index: usize,
    origin: &Origin,
    bytes: &[u8],
    settings: &Settings,
    progress: &Progress,
) -> Result<(FileReport, Vec<KeptRow>)> {
    let mut report = FileReport::new(origin, FileStatus::Skipped(String::new()));
    report.size = bytes.len() as u64;
    let decoded = decode(bytes, settings.encoding);
    report.warnings = decode_warnings(&decoded.encoding, decoded.replaced, decoded.odd_byte);
    let text = &*decoded.text;
    let scale = |n: usize| (n as u128 * bytes.len() as u128 / text.len().max(1) as u128) as u64;

    match open(&mut report, text, &decoded.encoding, settings) {
        Opening::Done => {
            progress.advance(report.size);
            Ok((report, Vec::new()))
        }
        Opening::Json => {
            let ctx = FileContext::new(settings, index, true);
            let chunks = json::scan(text, || Collector::new(&ctx), &|n| {
                progress.advance(scale(n))
            });
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
fn finish_status(report: &mut FileReport, format_name: String, encoding_name: String) {
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

/// A row's time: known, or one of two readings until the file's day/month order is known.
#[derive(Clone, Copy, Debug)]
enum TimeCell {
    Known(Timestamp),
    Undecided { mdy: Timestamp, dmy: Timestamp },
}

struct PendingRow {
    record: OwnedRecord,
    key: (u128, bool),
    time: TimeCell,
}

/// The first value proving an order, for the message if the file contradicts itself.
#[derive(Clone, Debug)]
struct Proof {
    line: u64,
    text: String,
}

/// Records of a left-out family with the same workload and record type, as written.
struct Skipped {
    workload: OwnedField,
    record_type: OwnedField,
    records: u64,
}

/// A field's raw bytes and escaping, kept.
struct OwnedField {
    bytes: Vec<u8>,
    escape: Escape,
}

impl OwnedField {
    fn of(f: RawField<'_>) -> OwnedField {
        OwnedField {
            bytes: f.bytes.to_vec(),
            escape: f.escape,
        }
    }

    fn is(&self, f: RawField<'_>) -> bool {
        self.escape == f.escape && self.bytes == f.bytes
    }

    /// The value, unescaped and trimmed.
    fn text(&self) -> String {
        let value = RawField::new(&self.bytes, self.escape).unescaped();
        String::from_utf8_lossy(&value).trim().to_string()
    }
}

/// Collects one chunk's rows and counts.
struct Collector<'c> {
    ctx: &'c FileContext<'c>,
    counts: Counts,
    /// Rows dropped by a later rule whose date is in the window under one order only:
    /// `[rule][0]` in the window only as month-first, `[rule][1]` only as day-first.
    undecided_drops: [[u64; 2]; RULE_COUNT],
    kept: Vec<PendingRow>,
    proof: [Option<Proof>; 2],
    /// Culture dates that prove neither order.
    unproven: u64,
    malformed: DiagList,
    warnings: DiagList,
    /// Kept MailItemsAccessed records: `[Bind, Sync]`.
    mail_access: [u64; 2],
    scratch: Vec<u8>,
    /// Records of left-out families, by raw workload and record type.
    skipped: Vec<Skipped>,
    /// What [`Visitor::prefilter`] reads (see [`Visitor::glance_fields`]).
    glance_fields: FieldSet,
    /// What [`Visitor::record`] reads before it keeps a record.
    record_fields: FieldSet,
    /// `--subject` matches an empty subject (then no glance can rule a record out by it).
    empty_subject_matches: bool,
    subject_scratch: (Vec<u8>, Vec<u8>),
}

impl<'c> Collector<'c> {
    fn new(ctx: &'c FileContext<'c>) -> Self {
        Collector {
            ctx,
            counts: Counts::default(),
            undecided_drops: [[0; 2]; RULE_COUNT],
            kept: Vec::new(),
            proof: [None, None],
            unproven: 0,
            malformed: DiagList::default(),
            warnings: DiagList::default(),
            mail_access: [0; 2],
            scratch: Vec::new(),
            skipped: Vec::new(),
            glance_fields: ctx
                .settings
                .filter
                .fields_before_subject(ctx.check_logon)
                .with_all(&[Field::LastAccessed, Field::RecordType, Field::Workload]),
            record_fields: ctx
                .settings
                .filter
                .fields_before_subject(ctx.check_logon)
                .with_all(&[
                    // the family, the throttling warning, the time
                    Field::RecordType,
                    Field::Workload,
                    Field::IsThrottled,
                    Field::MailboxOwnerUpn,
                    Field::LastAccessed,
                    // the subject rule (`AuditRecord::subject`)
                    Field::Subject,
                    Field::SourceItemSubjectsList,
                    Field::ItemSubject,
                ]),
            empty_subject_matches: ctx
                .settings
                .filter
                .subject
                .as_ref()
                .is_some_and(|s| s.is_match(b"")),
            subject_scratch: (Vec::new(), Vec::new()),
        }
    }

    fn wall_to_utc(
        &mut self,
        wall: crate::datetime::WallClock,
        zone: Zone,
        line: u64,
    ) -> Option<Timestamp> {
        match zone.to_utc(wall) {
            Ok((ts, fold)) => {
                if fold {
                    self.warnings.push(line, || {
                        format!("local time occurs twice in {zone} (DST change); read as the earlier instant")
                    });
                }
                Some(ts)
            }
            Err(_) => None,
        }
    }

    /// Counts a record already counted as read as malformed, and keeps its reason.
    fn count_malformed(&mut self, line: u64, reason: String) {
        self.counts.malformed += 1;
        self.malformed.push(line, || reason);
    }

    /// Counts a record of a family `--record-types` leaves out, by workload. Counted by
    /// the raw workload and record type (no allocation but for a new pair); named when the
    /// chunk's counts are merged ([`Collector::name_skipped`]).
    fn skip_family(&mut self, rec: &AuditRecord<'_>) {
        self.counts.dropped[Rule::RecordType as usize] += 1;
        let (workload, record_type) = (rec.get(Field::Workload), rec.get(Field::RecordType));
        let seen = self
            .skipped
            .iter_mut()
            .find(|s| s.workload.is(workload) && s.record_type.is(record_type));
        match seen {
            Some(s) => s.records += 1,
            None => self.skipped.push(Skipped {
                workload: OwnedField::of(workload),
                record_type: OwnedField::of(record_type),
                records: 1,
            }),
        }
    }

    /// Adds the skipped records counted by [`Collector::skip_family`] to the counts, by
    /// name. Exchange's own skipped records (admin cmdlets...) are named by record type, so
    /// the funnel does not read as if mailbox records were skipped.
    fn name_skipped(&mut self) {
        for skipped in self.skipped.drain(..) {
            let n = skipped.records;
            let (workload, record_type) = (skipped.workload.text(), skipped.record_type.text());
            let name = match (workload.as_str(), record_type.as_str()) {
                ("", "") => "unknown".to_string(),
                ("", t) => format!("RecordType {}", record_type_name(t)),
                (w, t) if w.eq_ignore_ascii_case("Exchange") && !t.is_empty() => {
                    format!("Exchange {}", record_type_name(t))
                }
                (w, _) => w.to_string(),
            };
            *self.counts.skipped_workloads.entry(name).or_default() += n;
        }
    }

    /// Reads the LastAccessed field; `Err` is the reason the row is malformed.
    fn time_of(&mut self, field: RawField<'_>, zone: Zone, line: u64) -> Result<TimeCell, String> {
        let raw = field.bytes;
        // Messages show the value as the user wrote it (a CSV cell's `""` undone).
        let shown = || excerpt(&field.unescaped());
        let parsed = parse_time(raw).map_err(|e| format!("LastAccessed '{}': {e}", shown()))?;
        match parsed {
            ParsedTime::Utc(ts) => Ok(TimeCell::Known(ts)),
            ParsedTime::Local(wall) => self
                .wall_to_utc(wall, zone, line)
                .map(TimeCell::Known)
                .ok_or_else(|| {
                    format!(
                        "LastAccessed '{}': time does not exist in {zone} (DST gap)",
                        shown()
                    )
                }),
            ParsedTime::Culture { .. } => {
                match parsed.evidence() {
                    Some(order) => {
                        let slot = &mut self.proof[order as usize];
                        if slot.is_none() {
                            *slot = Some(Proof {
                                line,
                                text: shown(),
                            });
                        }
                    }
                    None => self.unproven += 1,
                }
                let read = |this: &mut Self, order: DateOrder| {
                    parsed
                        .wall_clock(order)
                        .and_then(|w| this.wall_to_utc(w, zone, line))
                };
                if let Some(order) = self.ctx.settings.date_order {
                    return read(self, order).map(TimeCell::Known).ok_or_else(|| {
                        format!(
                            "LastAccessed '{}': not a valid date when read as {} (--date-order)",
                            shown(),
                            order_name(order)
                        )
                    });
                }
                match (read(self, DateOrder::Mdy), read(self, DateOrder::Dmy)) {
                    (Some(mdy), Some(dmy)) if mdy != dmy => Ok(TimeCell::Undecided { mdy, dmy }),
                    (Some(t), _) | (None, Some(t)) => Ok(TimeCell::Known(t)),
                    (None, None) => Err(format!(
                        "LastAccessed '{}': not a valid date as month/day or day/month",
                        shown()
                    )),
                }
            }
        }
    }
}

/// Names the record types that Exchange exports most often skip (numbers in Purview).
fn record_type_name(t: &str) -> &str {
    match t {
        "1" => "ExchangeAdmin",
        "4" => "SharePoint",
        "6" => "SharePointFileOperation",
        "8" => "AzureActiveDirectory",
        "15" => "AzureActiveDirectoryStsLogon",
        "18" => "SecurityComplianceCenterEOPCmdlet",
        "28" => "ThreatIntelligence",
        other => other,
    }
}

fn order_name(order: DateOrder) -> &'static str {
    match order {
        DateOrder::Mdy => "month/day/year",
        DateOrder::Dmy => "day/month/year",
    }
}

impl Visitor for Collector<'_> {
    fn record(&mut self, rec: &AuditRecord<'_>, key: &dyn DedupKey, line: u64) {
        self.counts.read += 1;
        let settings = self.ctx.settings;
        let family = Family::of(rec.get(Field::RecordType).bytes);
        if !settings.filter.record_types.keeps(family) {
            self.skip_family(rec);
            return;
        }
        if rec.get(Field::IsThrottled).eq_ignore_ascii_case(b"True") {
            let mailbox = excerpt(&rec.get(Field::MailboxOwnerUpn).unescaped());
            let at = excerpt(rec.get(Field::LastAccessed).bytes);
            self.warnings.push(line, || {
                format!(
                    "MailItemsAccessed logging was throttled for mailbox {mailbox} at {at} \
                     (IsThrottled): Exchange stops recording after 1,000 events in 24 hours, so \
                     the absence of later records proves nothing"
                )
            });
        }
        let zone = if rec.time_is_utc {
            Zone::Fixed(0)
        } else {
            settings.zone
        };
        let time = match self.time_of(rec.get(Field::LastAccessed), zone, line) {
            Ok(t) => t,
            Err(why) => {
                self.count_malformed(line, why); // already counted as read above
                return;
            }
        };
        let filter = &settings.filter;
        let window = filter.window;
        // None: in the window under one order only.
        let in_window = match time {
            TimeCell::Known(t) => Some(window.contains(t)),
            TimeCell::Undecided { mdy, dmy } => {
                let (a, b) = (window.contains(mdy), window.contains(dmy));
                (a == b).then_some(a)
            }
        };
        if in_window == Some(false) {
            self.counts.dropped[Rule::DateWindow as usize] += 1;
            return;
        }
        let check_logon = self.ctx.check_logon && family == Family::Mailbox;
        if let Some(rule) = filter.first_failing(rec, check_logon, &mut self.scratch) {
            match (in_window, time) {
                (None, TimeCell::Undecided { mdy, .. }) => {
                    let only = usize::from(!window.contains(mdy));
                    self.undecided_drops[rule as usize][only] += 1;
                }
                _ => self.counts.dropped[rule as usize] += 1,
            }
            return;
        }
        // Kept: from here on the whole record is read.
        let whole = key.full_record();
        let rec = whole.as_ref().unwrap_or(rec);
        if rec
            .get(Field::Operation)
            .eq_ignore_ascii_case(b"MailItemsAccessed")
        {
            let access = rec.get(Field::MailAccessType);
            if access.eq_ignore_ascii_case(b"Bind") {
                self.mail_access[0] += 1;
            } else if access.eq_ignore_ascii_case(b"Sync") {
                self.mail_access[1] += 1;
            }
        }
        let provisional = match time {
            TimeCell::Known(t) => t,
            TimeCell::Undecided { mdy, .. } => mdy,
        };
        let pos = SourcePos {
            file: self.ctx.file,
            line,
        };
        let (record, lossy) = rec.to_owned_record(provisional, pos, self.ctx.settings.expand_items);
        if lossy {
            self.warnings.push(line, || {
                "invalid UTF-8 replaced with U+FFFD (row kept)".into()
            });
        }
        self.kept.push(PendingRow {
            record,
            key: key.dedup_key(),
            time,
        });
    }

    fn malformed(&mut self, line: u64, reason: String) {
        self.counts.read += 1;
        self.count_malformed(line, reason);
    }

    fn warn(&mut self, line: u64, message: String) {
        self.warnings.push(line, || message);
    }

    fn glance_fields(&self) -> FieldSet {
        self.glance_fields
    }

    fn shift_lines(&mut self, by: u64) {
        for row in &mut self.kept {
            row.record.pos.line += by;
        }
        for diag in self
            .malformed
            .first
            .iter_mut()
            .chain(&mut self.warnings.first)
        {
            diag.line += by;
        }
        for proof in self.proof.iter_mut().flatten() {
            proof.line += by;
        }
    }

    fn record_fields(&self) -> FieldSet {
        self.record_fields
    }

    fn prefilter(&mut self, glance: &Glance<'_>, _line: u64) -> bool {
        let rec = &glance.record;
        let filter = &self.ctx.settings.filter;
        let family = Family::of(rec.get(Field::RecordType).bytes);
        let rule_change = rec
            .get(Field::Operation)
            .eq_ignore_ascii_case(b"UpdateInboxRules");
        if !self.ctx.settings.prefilter || family == Family::Admin || rule_change {
            return false; // its subject is built from the cmdlet's or the rule's parameters
        }
        if !filter.record_types.keeps(family) {
            self.counts.read += 1;
            self.skip_family(rec);
            return true;
        }
        let time = match parse_time(rec.get(Field::LastAccessed).bytes) {
            Ok(ParsedTime::Utc(t)) => t,
            Ok(ParsedTime::Local(wall)) => match Zone::Fixed(0).to_utc(wall) {
                Ok((t, _)) => t,
                Err(_) => return false,
            },
            _ => return false, // culture dates and errors: the full path reports them
        };
        let check_logon = self.ctx.check_logon && family == Family::Mailbox;
        let rule = if !filter.window.contains(time) {
            Rule::DateWindow
        } else if let Some(rule) =
            filter.first_failing_before_subject(rec, check_logon, &mut self.scratch)
        {
            rule
        } else if let Some(subject) = filter
            .subject
            .as_ref()
            .filter(|_| !self.empty_subject_matches)
        {
            // The full path matches each item's subject, and the lead one with its
            // leading spaces trimmed (see `AuditRecord::subject`).
            let trimmed = |s: &[u8]| {
                let n = s.iter().take_while(|&&b| b == b' ').count();
                subject.is_match(&s[n..])
            };
            let (a, b) = &mut self.subject_scratch;
            match glance.any_subject(a, b, |s| subject.is_match(s) || trimmed(s)) {
                Some(false) => Rule::Subject,
                _ => return false,
            }
        } else {
            return false;
        };
        self.counts.read += 1;
        self.counts.dropped[rule as usize] += 1;
        true
    }
}

/// Adds to `into` the rows, counts and messages of `later`, a collector of the records
/// that follow its own in the same input.
fn absorb(into: &mut Collector<'_>, mut later: Collector<'_>) {
    into.name_skipped();
    later.name_skipped();
    into.counts.add(&later.counts);
    for (a, b) in into.undecided_drops.iter_mut().zip(later.undecided_drops) {
        a[0] += b[0];
        a[1] += b[1];
    }
    for (slot, p) in into.proof.iter_mut().zip(later.proof) {
        if slot.is_none() {
            *slot = p;
        }
    }
    into.unproven += later.unproven;
    into.mail_access[0] += later.mail_access[0];
    into.mail_access[1] += later.mail_access[1];
    into.malformed.extend(later.malformed);
    into.warnings.extend(later.warnings);
    into.kept.extend(later.kept);
}

/// Merges a file's chunks, settles its day/month order and finishes its rows.
fn settle(
    ctx: &FileContext<'_>,
    chunks: Vec<Collector<'_>>,
    report: &mut FileReport,
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
    report.mail_access[0] += mail_access[0];
    report.mail_access[1] += mail_access[1];
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
        let key = if row.key.1 {
            row.key.0
        } else {
            let mut h = Xxh3::new();
            h.update(&row.key.0.to_le_bytes());
            h.update(&time.0.to_le_bytes());
            h.digest128()
        };
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
