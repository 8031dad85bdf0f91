//! Reads the inputs in parallel, applies the rules, and merges what is kept.
//!
//! Files are processed concurrently (rayon), and each file's chunks too. Every chunk
//! feeds a [`Collector`], which parses the time, applies the [`Filter`] and copies out the
//! rows it keeps. When a file is done, its day/month order is settled from the evidence
//! all its chunks saw, the rows whose culture dates were ambiguous get their final time,
//! and the date window is applied to them. Finally all files' rows are de-duplicated in
//! input order ([`dedup`]) and sorted by time (ties keep input order), so the report is
//! the same bytes whatever the thread count. Streams (standard input, pipes) are read
//! window by window in bounded memory (`stream`), with the same result as their bytes in
//! a file.
//!
//! What is kept of a row depends on the command ([`Keep`]): the fields `search` writes,
//! in compact blocks that go to temporary files beyond `--memory-limit` ([`rows`]), or
//! columns of values for summaries and triage ([`table`]).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

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
use crate::input::visit::UalKeys;
use crate::input::{self, load, Origin};
use crate::progress::Progress;
use crate::record::{Family, FieldSet, OwnedRecord};
use crate::who::Key;

mod collect;
mod dedup;
mod kept;
mod open;
mod record_type;
pub mod rows;
mod shapes;
mod stream;
pub mod table;

use collect::{absorb, Collector};
use kept::{FileData, FileKept, Sink};
use open::{csv_format, decode_warnings, json_format, open, Opening};
pub use rows::{Rows, Spilled};
pub use table::Table;
use table::{ColumnSpec, FileColumns};

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
    /// What is kept of each row that passes the rules.
    pub keep: Keep,
    /// How much memory the kept rows may take, and where they go beyond it.
    pub memory: Memory,
    /// Marks each kept row with the rules it matches, from the record as a JSON object
    /// (`triage --sigma`); `None` marks nothing.
    pub tagger: Option<std::sync::Arc<dyn Tagger>>,
    /// `--geoip`: fills ClientIPCountry, ClientIPASN and ClientIPASOrg of kept rows.
    pub geoip: Option<std::sync::Arc<crate::enrich::Enricher>>,
    /// `--ip-list`: fills ClientIPFlag of kept rows whose address or ASN it lists.
    pub ip_list: Option<std::sync::Arc<crate::enrich::IpList>>,
}

/// What is kept of each row that passes the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Rows to write (`search`): these fields (what the output reads), oldest first or
    /// newest first.
    Rows {
        fields: FieldSet,
        newest_first: bool,
    },
    /// Columns of these values (`triage`, `report`): a few bytes a row, in time order.
    Columns(Vec<Key>),
    /// Columns of these values only counted (`summary`): in input order, without the
    /// rows' places (see [`Table::pos`]).
    Counts(Vec<Key>),
}

impl Keep {
    /// Every field, oldest first: the rows as they were read.
    pub const ALL: Keep = Keep::Rows {
        fields: FieldSet::ALL,
        newest_first: false,
    };
}

/// How much memory the kept rows may take, and where they go beyond it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Memory {
    /// Bytes (`--memory-limit`).
    pub limit: u64,
    /// `--temp-dir`; `None`: the system's.
    pub temp_dir: Option<PathBuf>,
}

/// `--memory-limit` unless given: room for about three million rows of the script's
/// columns on a laptop.
pub const DEFAULT_MEMORY_LIMIT: u64 = 1 << 30;

impl Default for Memory {
    fn default() -> Memory {
        Memory {
            limit: DEFAULT_MEMORY_LIMIT,
            temp_dir: None,
        }
    }
}

/// The defaults' rules only (every record type a search keeps by default, no window,
/// no subject), times without an offset in UTC, every field kept, the quick look on:
/// where tests and library callers start.
impl Default for Settings {
    fn default() -> Settings {
        Settings {
            filter: Filter::default(),
            zone: Zone::Fixed(0),
            date_order: None,
            encoding: None,
            expand_items: false,
            prefilter: true,
            reference: false,
            keep: Keep::ALL,
            memory: Memory::default(),
            tagger: None,
            geoip: None,
            ip_list: None,
        }
    }
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

/// The rows written, de-duplicated, in order: as [`Keep`] asked.
pub enum KeptRows {
    Rows(Rows),
    Table(Table),
}

/// The outcome of a whole search, before writing.
pub struct Outcome {
    pub files: Vec<FileOutcome>,
    /// Kept rows, de-duplicated, sorted by time.
    pub rows: KeptRows,
    pub totals: Counts,
    /// The cross-shape rule was skipped: its signatures outgrew this many bytes.
    pub shapes_skipped: Option<usize>,
}

impl Outcome {
    /// Rows written (records; see [`Outcome::lines`]).
    pub fn written(&self) -> u64 {
        match &self.rows {
            KeptRows::Rows(r) => r.count,
            KeptRows::Table(t) => t.len() as u64,
        }
    }

    /// Report lines: one per record, or per message with `--expand-items`.
    pub fn lines(&self) -> u64 {
        match &self.rows {
            KeptRows::Rows(r) => r.lines,
            KeptRows::Table(t) => (0..t.len()).map(|i| u64::from(t.items(i).max(1))).sum(),
        }
    }

    /// Every row written, materialised in order (rows kept as [`Keep::Rows`]).
    pub fn rows(&self) -> std::io::Result<Vec<OwnedRecord>> {
        match &self.rows {
            KeptRows::Rows(r) => r.collect(),
            KeptRows::Table(_) => Ok(Vec::new()),
        }
    }

    /// The rows as columns (rows kept as [`Keep::Columns`]).
    pub fn table(&self) -> Option<&Table> {
        match &self.rows {
            KeptRows::Table(t) => Some(t),
            KeptRows::Rows(_) => None,
        }
    }

    /// What was written to temporary files, if anything.
    pub fn spilled(&self) -> Option<Spilled> {
        match &self.rows {
            KeptRows::Rows(r) => r.spilled(),
            KeptRows::Table(_) => None,
        }
    }
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
    // A Unified Audit Log record's key from its AuditData's text spares hashing every
    // value; it is exact unless some Id comes with two texts, which the de-duplication
    // tells: the inputs are then read again with content keys. A CSV export holds the
    // AuditData as the service wrote it, one event alike wherever it appears, so CSV
    // files of one header take text keys, unless the run keeps the records of other
    // services: Azure AD sign-ins share one Id between events (four pairs in one public
    // export), and each such run would be read twice. JSON exports (often written by a
    // tool that parsed the AuditData), inputs of several formats (which may write one
    // event two ways) and a stream (which cannot be read again) take content keys from
    // the start.
    let one_header = !origins.iter().any(input::stream::is_stream) && shapes::one_header(origins);
    let keys = if one_header && !settings.filter.record_types.keeps(Family::Other) {
        UalKeys::Text
    } else {
        UalKeys::Content
    };
    // One export never holds one event in two shapes: a single input is not compared,
    // nor are files of one header.
    let signatures = origins.len() > 1 && !one_header;
    let run = |keys| run_keyed(origins, settings, progress, hash_streams, keys, signatures);
    if let Some(outcome) = run(keys)? {
        return Ok(outcome);
    }
    progress.restart();
    run(UalKeys::Content)?
        .ok_or_else(|| anyhow::anyhow!("content keys were judged inexact (a bug)"))
}

/// [`run_hashing`] with Unified Audit Log keys made as `keys` says; `None` when they
/// are [`UalKeys::Text`] and some `Id` came with two AuditData texts. `signatures`: rows
/// are signed for the cross-shape de-duplication.
fn run_keyed(
    origins: &[Origin],
    settings: &Settings,
    progress: &Progress,
    hash_streams: bool,
    keys: UalKeys,
    signatures: bool,
) -> Result<Option<Outcome>> {
    let (store, spec) = sinks(settings, signatures);
    let sink = match &spec {
        Some(spec) => Sink::Columns(spec),
        None => Sink::Rows(&store),
    };
    let results: Vec<Result<(FileOutcome, Option<FileKept>)>> = origins
        .par_iter()
        .enumerate()
        .map(|(i, origin)| {
            if input::stream::is_stream(origin) && !settings.reference {
                stream::process_stream(i, origin, settings, sink, progress, hash_streams)
            } else {
                let reading = Reading {
                    settings,
                    sink,
                    ual_keys: keys,
                };
                process_file(i, origin, reading, progress)
            }
        })
        .collect();
    let mut files = Vec::with_capacity(results.len());
    let mut kept = Vec::with_capacity(results.len());
    let mut fatal = Vec::new();
    for r in results {
        match r {
            Ok((report, k)) => {
                files.push(report);
                kept.extend(k);
            }
            Err(e) => fatal.push(format!("{e:#}")),
        }
    }
    if let Some(e) = store.take_error() {
        fatal.push(spill_error(&store, &e));
    }
    if !fatal.is_empty() {
        bail!("{}", fatal.join("\nerror: "));
    }
    if !dedup::fits(&kept) {
        bail!("more than 4 billion rows kept in one run: split the inputs");
    }

    // De-duplicate in input order: the first export that holds an event keeps it.
    let Some(duplicates) = dedup::mark(&mut kept, keys == UalKeys::Text) else {
        return Ok(None);
    };
    // Then the same event in exports of different column sets (issue 15), unless their
    // signatures outgrew their share of the memory.
    // One budget, shared by the store and the columns' spec (see `sinks`).
    let shapes_skipped = store
        .signatures
        .as_deref()
        .filter(|b| b.over())
        .map(|b| b.limit());
    let other_shapes = if shapes_skipped.is_some() {
        for k in &mut kept {
            k.signatures = None;
        }
        vec![0; kept.len()]
    } else {
        dedup::mark_shapes(&mut kept)
    };
    for ((k, dups), shaped) in kept.iter().zip(duplicates).zip(other_shapes) {
        let counts = &mut files[k.file as usize].counts;
        counts.duplicates = dups + shaped;
        counts.other_shapes = shaped;
    }
    let mut totals = Counts::default();
    for f in &files {
        totals.add(&f.counts);
    }
    debug_assert!(totals.adds_up());
    let rows = match spec {
        Some(spec) => KeptRows::Table(table_of(&spec, kept, origins.len())),
        None => KeptRows::Rows(rows_of(store, kept, origins.len(), totals.written())),
    };
    Ok(Some(Outcome {
        files,
        rows,
        totals,
        shapes_skipped,
    }))
}

/// The store for rows (used when they are kept as rows) and the columns' spec (when they
/// are kept as columns); rows are signed for the cross-shape de-duplication when
/// `signatures`.
fn sinks(settings: &Settings, signatures: bool) -> (rows::Store, Option<ColumnSpec>) {
    let signatures =
        signatures.then(|| std::sync::Arc::new(shapes::Budget::new(settings.memory.limit)));
    let (fields, newest_first, spec) = match &settings.keep {
        Keep::Rows {
            fields,
            newest_first,
        } => (*fields, *newest_first, None),
        Keep::Columns(keys) | Keep::Counts(keys) => (
            FieldSet::EMPTY,
            false,
            Some(ColumnSpec {
                signatures: signatures.clone(),
                counted: matches!(settings.keep, Keep::Counts(_)),
                ..ColumnSpec::new(keys, settings.expand_items, settings.tagger.is_some())
            }),
        ),
    };
    let shape = rows::Shape {
        fields,
        with_items: settings.expand_items,
        with_tags: settings.tagger.is_some(),
        newest_first,
    };
    let mut store = rows::Store::new(
        settings.memory.limit,
        settings.memory.temp_dir.clone(),
        shape,
    );
    store.signatures = signatures;
    (store, spec)
}

fn spill_error(store: &rows::Store, e: &std::io::Error) -> String {
    format!(
        "cannot write the rows that exceed --memory-limit ({}) to a temporary file in '{}': \
         {e}. Give a directory with free space with --temp-dir, or a larger --memory-limit",
        rows::spill::size_name(store.spilled().limit),
        store.spill.dir().display()
    )
}

/// Per file (by input index), which of its rows are excluded, as bits.
fn excluded_bits(kept: &[FileKept], files: usize) -> Vec<Vec<u64>> {
    let mut bits = vec![Vec::new(); files];
    for k in kept {
        bits[k.file as usize] = dedup::bits(&k.excluded, k.rows);
    }
    bits
}

/// Report lines: one per row written, or one per message of each (items kept).
fn lines_of(kept: &[FileKept], with_items: bool, written: u64) -> u64 {
    if !with_items {
        return written;
    }
    kept.iter()
        .map(|k| {
            let mut excluded = k.excluded.iter().copied().peekable();
            k.items
                .iter()
                .enumerate()
                .filter(|(o, _)| excluded.next_if_eq(&(*o as u64)).is_none())
                .map(|(_, &n)| u64::from(n.max(1)))
                .sum::<u64>()
        })
        .sum()
}

fn rows_of(store: rows::Store, kept: Vec<FileKept>, files: usize, written: u64) -> Rows {
    let excluded = excluded_bits(&kept, files);
    let lines = lines_of(&kept, store.shape.with_items, written);
    let mut blocks = Vec::new();
    for k in kept {
        if let FileData::Rows(slots) = k.data {
            blocks.extend(slots.into_iter().map(|s| (k.file, s)));
        }
    }
    Rows {
        store,
        blocks,
        excluded,
        count: written,
        lines,
    }
}

fn table_of(spec: &ColumnSpec, kept: Vec<FileKept>, files: usize) -> Table {
    let excluded = excluded_bits(&kept, files);
    let tests: Vec<Box<dyn Fn(u64) -> bool + Sync + '_>> = kept
        .iter()
        .map(|k| {
            let bits = &excluded[k.file as usize];
            Box::new(move |o: u64| {
                bits.get((o / 64) as usize)
                    .is_none_or(|w| w & (1 << (o % 64)) == 0)
            }) as Box<dyn Fn(u64) -> bool + Sync>
        })
        .collect();
    let mut parts = Vec::with_capacity(kept.len());
    let mut items = Vec::with_capacity(kept.len());
    let mut chunks = Vec::with_capacity(kept.len());
    for k in kept {
        items.push((k.file, k.items));
        chunks.push(match k.data {
            FileData::Columns(c) => c,
            FileData::Rows(_) => Vec::new(),
        });
    }
    for (i, c) in chunks.into_iter().enumerate() {
        parts.push(FileColumns {
            file: items[i].0,
            chunks: c,
            written: &*tests[i],
            items: &items[i].1,
        });
    }
    Table::build(spec, parts)
}

/// Inputs at least this large are unmapped on a thread of their own ([`process_file`]).
const UNMAP_APART: usize = 64 << 20;

fn process_file(
    index: usize,
    origin: &Origin,
    reading: Reading<'_>,
    progress: &Progress,
) -> Result<(FileOutcome, Option<FileKept>)> {
    match load(origin) {
        Ok(bytes) => {
            let release = |r: std::ops::Range<usize>| bytes.release(r);
            let read = process_bytes(index, origin, &bytes, reading, progress, &release);
            // A file cut short or rewritten while mapped: what was read is not the file.
            if let Some(why) = bytes.changed() {
                bail!("'{}' {why}", origin.display());
            }
            // Unmapping a large file whose pages were not released as it was read (one
            // transcoded whole first: Latin-1, UTF-16 CSV or JSON Lines; a UTF-16 JSON
            // document releases each piece) took the kernel ~20 ms per 250 MB, on this
            // thread while the others waited for its rows (measured before the per-chunk
            // release): it is done on a thread of its own (or here, if none can start).
            if bytes.len() >= UNMAP_APART {
                let _ = std::thread::Builder::new().spawn(move || drop(bytes));
            }
            read
        }
        Err(e) => Ok((
            FileOutcome::new(origin, FileStatus::Rejected(format!("{e:#}"))),
            None,
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

/// Reads one input's bytes; its kept rows in input order (every field, nothing written
/// to disk). Public so that property tests can feed it arbitrary bytes.
pub fn read_bytes(
    origin: &Origin,
    bytes: &[u8],
    settings: &Settings,
) -> Result<(FileOutcome, Vec<OwnedRecord>)> {
    let fields = match settings.keep {
        Keep::Rows { fields, .. } => fields,
        Keep::Columns(_) | Keep::Counts(_) => FieldSet::ALL,
    };
    let shape = rows::Shape {
        fields,
        with_items: settings.expand_items,
        with_tags: settings.tagger.is_some(),
        newest_first: false,
    };
    let store = rows::Store::new(u64::MAX, None, shape);
    let (report, kept) = process_bytes(
        0,
        origin,
        bytes,
        Reading {
            settings,
            sink: Sink::Rows(&store),
            ual_keys: UalKeys::Content,
        },
        &Progress::hidden(),
        &|_| {},
    )?;
    let rows = match kept {
        Some(k) => kept::in_input_order(&store, &k)?,
        None => Vec::new(),
    };
    Ok((report, rows))
}

/// Reads one input's bytes; `release(range)` is told each range of them the readers are
/// done with.
fn process_bytes(
    index: usize,
    origin: &Origin,
    bytes: &[u8],
    reading: Reading<'_>,
    progress: &Progress,
    release: &(dyn Fn(std::ops::Range<usize>) + Sync),
) -> Result<(FileOutcome, Option<FileKept>)> {
    let settings = reading.settings;
    let mut report = FileOutcome::new(origin, FileStatus::Skipped(String::new()));
    report.size = bytes.len() as u64;
    // A large UTF-16 JSON dump: read in pieces, each transcoded as it is read.
    let utf16 = json::utf16_document(bytes, settings.encoding).filter(|_| !settings.reference);
    if let Some(doc) = utf16 {
        let ctx = FileContext::new(reading, index, true);
        // Each piece read: progress, and its pages released (they were transcoded).
        let done = |r: std::ops::Range<usize>| {
            progress.advance(r.len() as u64);
            release(r);
        };
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
    // Each part the readers finish: progress, and, where the text is the input's bytes
    // themselves (UTF-8), its pages released (`release`: [`input::Bytes::release`]).
    let done = |r: std::ops::Range<usize>| {
        progress.advance(scale(r.len()));
        if let Some(at) = decoded.at {
            release(at + r.start..at + r.end);
        }
    };

    match open(&mut report, text, &decoded.encoding, settings) {
        Opening::Done => {
            progress.advance(report.size);
            Ok((report, None))
        }
        Opening::Json => {
            let ctx = FileContext::new(reading, index, true);
            let chunks = if settings.reference {
                let mut visitor = Collector::new(&ctx);
                json::scan_reference(text, &mut visitor);
                progress.advance(scale(text.len()));
                input::visit::Visitor::chunk_done(&mut visitor);
                vec![visitor]
            } else {
                json::scan(text, || Collector::new(&ctx), &done)
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
            let ctx = FileContext::new(reading, index, check_logon);
            let chunks = if settings.reference {
                let mut visitor = Collector::new(&ctx);
                csv::reference::scan(text, &layout, &mut visitor);
                input::visit::Visitor::chunk_done(&mut visitor);
                progress.advance(scale(text.len().saturating_sub(layout.body_start)));
                vec![visitor]
            } else {
                csv::scan(text, &layout, || Collector::new(&ctx), &done)
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

/// What every input of a run is read with.
#[derive(Clone, Copy)]
struct Reading<'s> {
    settings: &'s Settings,
    /// Where the kept rows go.
    sink: Sink<'s>,
    /// How Unified Audit Log records are keyed.
    ual_keys: UalKeys,
}

struct FileContext<'s> {
    settings: &'s Settings,
    sink: Sink<'s>,
    file: u32,
    check_logon: bool,
    /// How Unified Audit Log records are keyed in this run.
    ual_keys: UalKeys,
    /// Whether a chunk of the file has seen a date proving month-first, day-first.
    proofs: [AtomicBool; 2],
}

impl<'s> FileContext<'s> {
    fn new(reading: Reading<'s>, index: usize, check_logon: bool) -> Self {
        FileContext {
            settings: reading.settings,
            sink: reading.sink,
            file: u32::try_from(index).unwrap_or(u32::MAX),
            check_logon,
            ual_keys: reading.ual_keys,
            proofs: [AtomicBool::new(false), AtomicBool::new(false)],
        }
    }

    /// A date of the file proves `order`.
    fn saw(&self, order: DateOrder) {
        self.proofs[order as usize].store(true, Ordering::Relaxed);
    }

    /// The file's day/month order if it can no longer change: given, or proved by its
    /// dates so far and not contradicted (a contradiction rejects the whole file).
    fn known_order(&self) -> Option<DateOrder> {
        if let Some(o) = self.settings.date_order {
            return Some(o);
        }
        let seen = |o: DateOrder| self.proofs[o as usize].load(Ordering::Relaxed);
        match (seen(DateOrder::Mdy), seen(DateOrder::Dmy)) {
            (true, false) => Some(DateOrder::Mdy),
            (false, true) => Some(DateOrder::Dmy),
            _ => None,
        }
    }
}

/// Merges a file's chunks, settles its day/month order and finishes its rows.
fn settle(
    ctx: &FileContext<'_>,
    chunks: Vec<Collector<'_>>,
    report: &mut FileOutcome,
) -> Result<Option<FileKept>> {
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
        mut kept,
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
            return Ok(None);
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
    // Rows still waiting for the order (those kept before any chunk proved it).
    let outside = kept.decide(chosen, ctx.settings.filter.window)?;
    counts.dropped[Rule::DateWindow as usize] += outside;
    let kept = kept.finish(ctx.file);
    counts.matched = kept.rows - kept.excluded.len() as u64;
    report.counts = counts;
    report.status = FileStatus::Read {
        format: String::new(),
        encoding: String::new(),
        date_order: order,
    };
    Ok(Some(kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ual(names: &[&str]) -> Vec<Origin> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/ual");
        names.iter().map(|n| Origin::Named(dir.join(n))).collect()
    }

    /// What a run wrote and counted.
    fn written(o: &Outcome) -> (Vec<OwnedRecord>, Vec<Counts>) {
        let rows = o.rows().expect("rows in memory");
        (rows, o.files.iter().map(|f| f.counts.clone()).collect())
    }

    /// Keys from the AuditData's text decide as content keys do, or say they cannot: an
    /// `Id` with two texts (`purview_classic.csv` re-serialises two records of
    /// `sua_mailbox.csv` and holds another with one of their Ids but other content).
    #[test]
    fn text_keys_decide_as_content_keys_or_ask_for_them() {
        let every = [
            "sua_mailbox.csv",
            "sua_mailbox.jsonl",
            "purview_classic.csv",
            "graph_13col.csv",
            "exchangeitemgroup.csv",
            "mailitemsaccessed_throttled.csv",
            "attachmentaccess.jsonl",
        ];
        let sets: Vec<(Vec<&str>, bool)> = vec![
            (vec!["sua_mailbox.csv"], true),
            (vec!["sua_mailbox.csv", "sua_mailbox.csv"], true),
            (
                vec!["exchangeitemgroup.csv", "mailitemsaccessed_throttled.csv"],
                true,
            ),
            (vec!["purview_classic.csv"], false),
            (vec!["sua_mailbox.csv", "purview_classic.csv"], false),
            (vec!["sua_mailbox.csv", "sua_mailbox.jsonl"], false),
            (every.to_vec(), false),
        ];
        let s = Settings::default();
        let progress = Progress::hidden();
        for (names, exact) in sets {
            let origins = ual(&names);
            // Signed as `run_hashing` signs them, so that its outcome compares too.
            let signed = origins.len() > 1 && !shapes::one_header(&origins);
            let run = |keys| run_keyed(&origins, &s, &progress, false, keys, signed);
            let content = run(UalKeys::Content).unwrap().expect("content keys decide");
            let text = run(UalKeys::Text).unwrap();
            assert_eq!(text.is_some(), exact, "{names:?}");
            if let Some(text) = text {
                assert_eq!(written(&text), written(&content), "{names:?}");
            }
            // And the run itself: the same as content keys, whichever it used.
            let chosen = run_hashing(&origins, &s, &progress, false).unwrap();
            assert_eq!(written(&chosen), written(&content), "{names:?}");
        }
        // Twice the same export: its second copy is all duplicates, by text keys.
        let origins = ual(&["sua_mailbox.csv", "sua_mailbox.csv"]);
        let twice = run_keyed(&origins, &s, &progress, false, UalKeys::Text, false);
        let twice = twice.unwrap().expect("one text per Id");
        assert!(twice.files[1].counts.duplicates > 0);
        assert_eq!(
            twice.files[1].counts.duplicates,
            twice.files[0].counts.written()
        );
    }
}
