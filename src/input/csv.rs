//! CSV exports: `Search-MailboxAuditLog | Export-Csv` and the seed script's own reports;
//! also Unified Audit Log CSV exports, whose rows hand their `AuditData` cell to
//! [`super::ual`].
//!
//! The reader works on the whole decoded text at once, without copying it:
//!
//! 1. the header is read once into a [`Layout`]: which column holds which [`Field`],
//!    found by name (case-insensitive, any order, any subset);
//! 2. the body is cut into chunks at record boundaries. A newline ends a record only
//!    outside quotes, and "outside quotes" is decided by the parity of the quote bytes
//!    before it, which a cheap counting pass gives for every chunk start in parallel. The
//!    record boundaries are therefore the same at any thread count;
//! 3. each chunk is walked record by record on a rayon worker; a record's fields are
//!    located as byte spans in a reused buffer, and handed to a [`Visitor`] as a borrowed
//!    [`AuditRecord`]. Nothing is allocated for a record the visitor drops;
//! 4. a damaged export is read as far as it goes ([`damage`]): a record broken by a stray
//!    or cut quote costs its first line, and reading resumes on the next (in one pass from
//!    there, since the chunks were cut by the quote parity the stray quote broke).

use memchr::memchr2;
use rayon::prelude::*;
use xxhash_rust::xxh3::Xxh3;

use super::structural::{count_quotes_newlines, FieldSpan, PieceCounts, RecordSpan, Tokenizer};
use super::ual::{self, CsvColumns, UalError};
use crate::record::{AuditRecord, Escape, Field, FieldSet, RawField, FIELD_COUNT};
use damage::{ends_mid_utf8, resync_after, undoubled_quote, Damage};

mod damage;
pub mod reference;

/// Receives the records of one chunk, in order.
pub trait Visitor {
    /// A well-formed record starting at physical line `line`.
    fn record(&mut self, rec: &AuditRecord<'_>, key: &dyn DedupKey, line: u64);
    /// A record that could not be read; `reason` says why.
    fn malformed(&mut self, line: u64, reason: String);
    /// A record that was read, with a problem worth telling (e.g. a cut AuditData cell);
    /// called before [`Visitor::record`] for the same record.
    fn warn(&mut self, line: u64, message: String);
    /// A quick look at a Unified Audit Log record before it is parsed: its top-level
    /// fields (those of [`Visitor::glance_fields`]) and its subjects. Returns true when
    /// the visitor has counted the record as dropped, so it need not be parsed; false to
    /// have it parsed and passed to [`Visitor::record`].
    fn prefilter(&mut self, _glance: &ual::fast::Glance<'_>, _line: u64) -> bool {
        false
    }
    /// The fields [`Visitor::prefilter`] reads from its glance: the glance stops once it
    /// has them.
    fn glance_fields(&self) -> FieldSet {
        FieldSet::ALL
    }
    /// Adds `by` to every line number the visitor has kept so far. The reader numbers a
    /// chunk's lines from 1 when it cut the text without counting its lines first, and
    /// shifts them once the lines before the chunk are known. A visitor that keeps line
    /// numbers must implement it.
    fn shift_lines(&mut self, _by: u64) {}
    /// The fields [`Visitor::record`] reads to decide whether it keeps a record. A reader
    /// may pass a record holding only those; a record that is kept is then read whole
    /// through [`DedupKey::full_record`].
    fn record_fields(&self) -> FieldSet {
        FieldSet::ALL
    }
}

/// Computes, on demand, the de-duplication key of the record being visited.
pub trait DedupKey {
    /// A 128-bit hash of what identifies the event, and whether that is complete:
    /// `(hash of Identity, true)` when the export has one; else `(hash, false)` of every
    /// non-empty column but the session-specific ones and the time, which the caller
    /// mixes in once parsed (so the culture a time was written in does not matter).
    fn dedup_key(&self) -> (u128, bool);
    /// The whole record, when the one passed to [`Visitor::record`] holds only the
    /// fields of [`Visitor::record_fields`]; `None` when that one is already whole.
    fn full_record(&self) -> Option<AuditRecord<'_>> {
        None
    }
}

/// Columns (lower case) left out of a legacy record's dedup key, in CSV and JSON alike:
/// they differ between two exports of the same event (the session's RunspaceId and
/// computer; SourceItems/SourceFolders, a type name in CSV but real values in a deep JSON
/// dump), or are mixed in separately once parsed (the time).
pub(crate) const KEY_IGNORED: &[&[u8]] = &[
    b"runspaceid",
    b"pscomputername",
    b"psshowcomputername",
    b"lastaccessed",
    b"sourcefile",
    b"sourceline",
    b"sourceitems",
    b"sourcefolders",
];

/// What the header says about the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A mailbox audit export or a report of ours / the seed script's.
    MailboxAudit,
    /// A Unified Audit Log export (has an `AuditData` column).
    UnifiedAuditLog,
}

/// Why a header cannot be read as an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    /// No column mbxaudit knows: not an audit export at all. `line` is the header's.
    Unrecognised { columns: Vec<String>, line: u64 },
    /// An audit export that lacks a required column.
    MissingColumns { missing: Vec<&'static str> },
    /// The header itself cannot be parsed.
    Malformed(&'static str),
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderError::Unrecognised { columns, line } => {
                let mut shown = columns
                    .iter()
                    .take(8)
                    .map(|c| crate::diag::excerpt(c.as_bytes()))
                    .collect::<Vec<_>>()
                    .join(", ");
                if columns.len() > 8 {
                    shown.push_str(&format!(", ... ({} columns)", columns.len()));
                }
                write!(
                    f,
                    "not a mailbox audit export: its header (line {line}) has no Operation, \
                     LastAccessed or AuditData column (columns: {shown}); give exports of \
                     Search-MailboxAuditLog, Search-UnifiedAuditLog or a Purview audit search"
                )
            }
            HeaderError::MissingColumns { missing } => write!(
                f,
                "missing required column{} {}; export with `Search-MailboxAuditLog -ShowDetails | Export-Csv`, which writes them",
                if missing.len() > 1 { "s" } else { "" },
                missing.iter().map(|m| format!("'{m}'")).collect::<Vec<_>>().join(" and ")
            ),
            HeaderError::Malformed(why) => write!(f, "header: {why}"),
        }
    }
}

/// The header of a CSV export, read once.
#[derive(Debug, Clone)]
pub struct Layout {
    pub delimiter: u8,
    pub kind: Kind,
    /// The header's column names, as written.
    pub columns: Vec<String>,
    /// For each field, the column holding it.
    field_column: [Option<u32>; FIELD_COUNT],
    identity_column: Option<usize>,
    /// Columns that make the dedup key, sorted by lower-cased name, with that name.
    key_columns: Vec<(usize, Vec<u8>)>,
    /// Unified Audit Log exports: the columns read from the CSV itself.
    ual: UalColumns,
    /// Byte offset of the first data record.
    pub body_start: usize,
    /// Physical line number (1-based) of the first data record.
    pub body_line: u64,
}

impl Layout {
    /// Reads the header record starting at `start` (physical line `line`).
    pub fn read(text: &[u8], start: usize, line: u64) -> Result<Layout, HeaderError> {
        let mut raw = Vec::new();
        // Where the header ends does not depend on the delimiter; its fields do.
        let mut tokens = Tokenizer::new(text, start, text.len(), line, b',');
        let Some(first) = tokens.next_record(&mut raw) else {
            return Err(HeaderError::Malformed("empty header line"));
        };
        let header = &text[first.start..first.end];
        if header.trim_ascii().is_empty() {
            return Err(HeaderError::Malformed("empty header line"));
        }
        if memchr::memchr_iter(b'\r', header).any(|i| header.get(i + 1) != Some(&b'\n')) {
            return Err(HeaderError::Malformed(
                "it holds carriage returns without line feeds (classic Mac line ends, or a \
                 damaged copy), so the header runs into the rows: convert the file's line \
                 ends to CRLF or LF and run again",
            ));
        }
        let delimiter = sniff_delimiter(header);
        let mut tokens = Tokenizer::new(text, start, text.len(), line, delimiter);
        tokens.next_record(&mut raw);
        let mut spans = Vec::new();
        fields_of(text, first, &raw, &mut spans).map_err(HeaderError::Malformed)?;
        let columns: Vec<String> = spans
            .iter()
            .map(|s| String::from_utf8_lossy(&s.field(header).unescaped()).into_owned())
            .collect();
        let mut after = Vec::new();
        let (body_start, body_line) = match tokens.next_record(&mut after) {
            Some(r) => (r.start, r.line),
            None => (text.len(), line + 1),
        };

        let mut field_column = [None; FIELD_COUNT];
        let mut has_audit_data = false;
        for (i, name) in columns.iter().enumerate() {
            if name.trim().eq_ignore_ascii_case("AuditData") {
                has_audit_data = true;
            }
            if let Some(f) = Field::from_header(name.as_bytes()) {
                let slot = &mut field_column[f as usize];
                if slot.is_none() {
                    *slot = u32::try_from(i).ok();
                }
            }
        }
        let kind = if has_audit_data {
            Kind::UnifiedAuditLog
        } else {
            let has = |f: Field| field_column[f as usize].is_some();
            let missing: Vec<&'static str> = [Field::Operation, Field::LastAccessed]
                .into_iter()
                .filter(|&f| !has(f))
                .map(Field::name)
                .collect();
            if missing.len() == 2 && !field_column.iter().any(Option::is_some) {
                return Err(HeaderError::Unrecognised { columns, line });
            }
            if !missing.is_empty() {
                return Err(HeaderError::MissingColumns { missing });
            }
            Kind::MailboxAudit
        };

        let ual = UalColumns::find(&columns);
        let identity_column = match kind {
            // A UAL record's Id is not unique (formats.md §C): rows without a readable
            // AuditData are keyed by all their columns.
            Kind::UnifiedAuditLog => None,
            Kind::MailboxAudit => field_column[Field::Identity as usize].map(|c| c as usize),
        };
        let mut key_columns: Vec<(usize, Vec<u8>)> = columns
            .iter()
            .enumerate()
            .map(|(i, n)| (i, n.trim().to_ascii_lowercase().into_bytes()))
            .filter(|(_, n)| !KEY_IGNORED.contains(&n.as_slice()))
            .filter(|(_, n)| {
                kind != Kind::UnifiedAuditLog
                    || !UAL_KEY_IGNORED.iter().any(|k| k.as_bytes() == n.as_slice())
            })
            .collect();
        key_columns.sort_by(|a, b| a.1.cmp(&b.1));

        Ok(Layout {
            delimiter,
            kind,
            columns,
            field_column,
            identity_column,
            key_columns,
            ual,
            body_start,
            body_line,
        })
    }

    /// True when the header has a column for `field`.
    pub fn has(&self, field: Field) -> bool {
        self.field_column[field as usize].is_some()
    }
}

/// UAL export columns that differ between two exports of the same record (search
/// sessions), or are mixed in separately (the time).
const UAL_KEY_IGNORED: &[&str] = &[
    "resultindex",
    "resultcount",
    "creationdate",
    "createddatetime",
];

/// The columns of a Unified Audit Log CSV export (formats.md §C) that mbxaudit reads:
/// `AuditData`, and those a row is reported from when its AuditData cannot be read.
/// Found by name, case-insensitively; the first name of each list that is present wins.
#[derive(Debug, Clone, Default)]
struct UalColumns {
    audit_data: Option<usize>,
    /// `CreationDate` (Search-UnifiedAuditLog, Purview classic), `createdDateTime` (Graph).
    time: Option<usize>,
    operation: Option<usize>,
    user: Option<usize>,
    /// `userPrincipalName` (Graph), when the user column is empty.
    user_upn: Option<usize>,
    record_type: Option<usize>,
    identity: Option<usize>,
    client_ip: Option<usize>,
    workload: Option<usize>,
}

impl UalColumns {
    fn find(columns: &[String]) -> UalColumns {
        let col = |names: &[&str]| {
            names.iter().find_map(|n| {
                columns
                    .iter()
                    .position(|c| c.trim().eq_ignore_ascii_case(n))
            })
        };
        UalColumns {
            audit_data: col(&["AuditData"]),
            time: col(&["CreationDate", "createdDateTime"]),
            operation: col(&["Operations", "Operation"]),
            user: col(&["UserIds", "UserId"]),
            user_upn: col(&["userPrincipalName"]),
            record_type: col(&["RecordType", "auditLogRecordType"]),
            identity: col(&["RecordId", "Identity", "id"]),
            client_ip: col(&["clientIp"]),
            workload: col(&["service"]),
        }
    }
}

/// The delimiter is the candidate seen most often outside quotes in the header:
/// `;` for `Export-Csv -UseCulture` in many European locales, tab for some tools.
fn sniff_delimiter(header: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut in_quotes = false;
    for &b in header {
        match b {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => counts[0] += 1,
            b';' if !in_quotes => counts[1] += 1,
            b'\t' if !in_quotes => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    candidates[best]
}

/// A field's position inside its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
    escaped: bool,
}

impl Span {
    fn field<'a>(&self, record: &'a [u8]) -> RawField<'a> {
        let bytes = record
            .get(self.start as usize..self.end as usize)
            .unwrap_or_default();
        RawField::new(
            bytes,
            if self.escaped {
                Escape::CsvQuotes
            } else {
                Escape::None
            },
        )
    }
}

/// Turns the raw field spans of `record` into content spans relative to it: a quoted
/// field's content lies between its quotes (`""` pairs resolved later, on demand).
fn fields_of(
    text: &[u8],
    record: RecordSpan,
    raw: &[FieldSpan],
    out: &mut Vec<Span>,
) -> Result<(), &'static str> {
    out.clear();
    if record.end - record.start > u32::MAX as usize {
        return Err("record longer than 4 GiB");
    }
    let rel = |at: usize| (at - record.start) as u32;
    for f in raw {
        let bytes = &text[f.start..f.end];
        if bytes.first() == Some(&b'"') {
            if bytes.len() < 2 || bytes.last() != Some(&b'"') {
                return Err(if memchr::memchr(b'"', &bytes[1..]).is_some() {
                    "text after a closing quote"
                } else {
                    "unterminated quoted field"
                });
            }
            out.push(Span {
                start: rel(f.start + 1),
                end: rel(f.end - 1),
                escaped: true,
            });
        } else {
            out.push(Span {
                start: rel(f.start),
                end: rel(f.end),
                escaped: false,
            });
        }
    }
    Ok(())
}

/// A slice of the body holding whole records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Chunk {
    start: usize,
    end: usize,
    line: u64,
}

/// Target size of a chunk handed to one worker.
const CHUNK_BYTES: usize = 4 << 20;

/// Cuts `text[start..]` into chunks of about `target` bytes at record boundaries.
fn plan_chunks(text: &[u8], start: usize, line: u64, target: usize) -> Vec<Chunk> {
    let len = text.len();
    if len.saturating_sub(start) <= target {
        return vec![Chunk {
            start,
            end: len,
            line,
        }];
    }
    let cuts: Vec<usize> = (start..len).step_by(target).collect();
    // Quote and newline counts of each piece [cut_k, cut_k+1).
    let counts: Vec<PieceCounts> = cuts
        .par_iter()
        .enumerate()
        .map(|(k, &s)| {
            let e = cuts.get(k + 1).copied().unwrap_or(len);
            count_quotes_newlines(&text[s..e])
        })
        .collect();
    // Quote parity and line number at each cut.
    let mut at_cut = Vec::with_capacity(cuts.len());
    let (mut parity, mut lines) = (false, line);
    for c in &counts {
        at_cut.push((parity, lines));
        parity ^= c.quotes % 2 == 1;
        lines += c.newlines;
    }
    // The first record start at or after each cut.
    let starts: Vec<Option<(usize, u64)>> = cuts
        .par_iter()
        .zip(at_cut.par_iter())
        .enumerate()
        .map(|(k, (&cut, &(mut in_quotes, mut l)))| {
            if k == 0 {
                return Some((cut, l));
            }
            let end = cuts.get(k + 1).copied().unwrap_or(len);
            let mut pos = cut;
            while let Some(i) = memchr2(b'"', b'\n', &text[pos..end]) {
                let at = pos + i;
                if text[at] == b'"' {
                    in_quotes = !in_quotes;
                } else {
                    l += 1;
                    if !in_quotes {
                        return Some((at + 1, l));
                    }
                }
                pos = at + 1;
            }
            None
        })
        .collect();
    let starts: Vec<(usize, u64)> = starts.into_iter().flatten().collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, &(s, l))| Chunk {
            start: s,
            end: starts.get(k + 1).map_or(len, |n| n.0),
            line: l,
        })
        .filter(|c| c.start < c.end)
        .collect()
}

/// A field's value as it lies in the text: a quoted field's inside, marked for undoubling
/// (the same value `fields_of` gives).
fn raw_field(text: &[u8], f: FieldSpan) -> RawField<'_> {
    match &text[f.start..f.end] {
        [b'"', inside @ .., b'"'] => RawField::new(inside, Escape::CsvQuotes),
        bytes => RawField::new(bytes, Escape::None),
    }
}

/// Whether every quoted field of a record ends with its closing quote: what `fields_of`
/// checks, without building its spans.
fn quoting_is_sound(text: &[u8], raw: &[FieldSpan]) -> bool {
    raw.iter().all(|f| {
        f.end == f.start
            || text[f.start] != b'"'
            || (f.end - f.start >= 2 && text[f.end - 1] == b'"')
    })
}

/// How far past a cut [`plan_speculative`] looks for a record start.
const SPECULATION_REACH: usize = 1 << 20;

/// Cuts the body into chunks of about `target` bytes like [`plan_chunks`], without its
/// counting pass over the whole text: each cut moves to the first line start after it
/// where two sound records of the header's field count begin. That is a guess (a line
/// inside a quoted field could look so), which [`scan_speculative`] checks. Chunks after
/// the first number their lines from 1. `None` when the body is one chunk, or when some
/// cut finds no such line start within [`SPECULATION_REACH`].
fn plan_speculative(text: &[u8], layout: &Layout, target: usize) -> Option<Vec<Chunk>> {
    let (start, len) = (layout.body_start, text.len());
    if len.saturating_sub(start) <= target {
        return None;
    }
    let cuts: Vec<usize> = (start..len).step_by(target).collect();
    let starts: Vec<Option<usize>> = cuts
        .par_iter()
        .enumerate()
        .map(|(k, &cut)| match k {
            0 => Some(cut),
            _ => record_start_after(text, cut, layout),
        })
        .collect();
    let mut chunks: Vec<Chunk> = Vec::with_capacity(starts.len());
    for at in starts {
        let at = at?;
        if at >= len {
            continue; // the chunk before runs to the end
        }
        match chunks.last_mut() {
            Some(prev) if at <= prev.start => continue, // a long record spans the cut
            Some(prev) => prev.end = at,
            None => {}
        }
        let line = if chunks.is_empty() {
            layout.body_line
        } else {
            1
        };
        chunks.push(Chunk {
            start: at,
            end: len,
            line,
        });
    }
    Some(chunks)
}

/// The first line start after `cut` where two sound records of the header's field count
/// begin (see [`plan_speculative`]), or the end of the text when none does before it.
fn record_start_after(text: &[u8], cut: usize, layout: &Layout) -> Option<usize> {
    let reach = text.len().min(cut.saturating_add(SPECULATION_REACH));
    let expected = layout.columns.len();
    let mut from = cut;
    while let Some(i) = memchr::memchr(b'\n', &text[from..reach]) {
        let at = from + i + 1;
        let mut tokens = Tokenizer::new(text, at, text.len(), 1, layout.delimiter);
        let fits = (0..2).all(|_| {
            tokens
                .next_record_sparse(&[], &mut [])
                .is_some_and(|r| r.sound && r.fields == expected)
        });
        if fits {
            return Some(at);
        }
        from = at;
    }
    // Near the end of the text the record before the cut may simply be the last ones:
    // the chunk before takes the rest.
    (reach == text.len()).then_some(text.len())
}

/// The dedup key of a CSV row (see [`DedupKey::dedup_key`]), from its unescaped values:
/// the Identity when the export has a non-empty one, else every non-empty key column by
/// lower-cased name, in [`Layout`]'s name order.
#[derive(Default)]
struct RowKey(Xxh3);

impl RowKey {
    /// The key of a row whose Identity is `value`, unless that is blank.
    fn identity(value: &[u8]) -> Option<(u128, bool)> {
        let value = value.trim_ascii();
        if value.is_empty() {
            return None;
        }
        let mut h = Xxh3::new();
        h.update(b"identity\0");
        h.update(value);
        Some((h.digest128(), true))
    }

    /// Adds a key column (`name` lower-cased) unless its value is empty.
    fn column(&mut self, name: &[u8], value: &[u8]) {
        if value.is_empty() {
            return;
        }
        self.0.update(name);
        self.0.update(b"\0");
        self.0.update(&(value.len() as u64).to_le_bytes());
        self.0.update(value);
    }

    fn finish(self) -> (u128, bool) {
        (self.0.digest128(), false)
    }
}

/// A mailbox audit record's key and whole record, computed only for records kept.
struct CsvKey<'r> {
    text: &'r [u8],
    raw: KeyFields<'r>,
    layout: &'r Layout,
    /// The record passed with this key holds only the visitor's decisive fields.
    partial: bool,
}

/// The raw spans of a record's fields: found already, or found when first asked for.
enum KeyFields<'r> {
    Read(&'r [FieldSpan]),
    Later {
        span: RecordSpan,
        delimiter: u8,
        read: std::cell::OnceCell<Vec<FieldSpan>>,
    },
}

impl CsvKey<'_> {
    fn column(&self, col: usize) -> Option<RawField<'_>> {
        let raw: &[FieldSpan] = match &self.raw {
            KeyFields::Read(raw) => raw,
            KeyFields::Later {
                span,
                delimiter,
                read,
            } => read.get_or_init(|| {
                let mut raw = Vec::new();
                Tokenizer::new(self.text, span.start, span.end, span.line, *delimiter)
                    .next_record(&mut raw);
                raw
            }),
        };
        raw.get(col).map(|&f| raw_field(self.text, f))
    }
}

impl DedupKey for CsvKey<'_> {
    fn dedup_key(&self) -> (u128, bool) {
        let mut scratch = Vec::new();
        let identity = self.layout.identity_column.and_then(|c| self.column(c));
        if let Some(key) = identity.and_then(|v| RowKey::identity(v.unescaped_in(&mut scratch))) {
            return key;
        }
        let mut key = RowKey::default();
        for (col, name) in &self.layout.key_columns {
            if let Some(value) = self.column(*col) {
                key.column(name, value.unescaped_in(&mut scratch));
            }
        }
        key.finish()
    }

    fn full_record(&self) -> Option<AuditRecord<'_>> {
        if !self.partial {
            return None;
        }
        let mut rec = AuditRecord::default();
        for field in Field::ALL {
            if let Some(col) = self.layout.field_column[field as usize] {
                if let Some(value) = self.column(col as usize) {
                    rec.set(field, value);
                }
            }
        }
        Some(rec)
    }
}

/// Reads every record of the body, in parallel chunks; returns one visitor per chunk,
/// in input order. `done(n)` is called as each chunk of `n` bytes is finished.
pub fn scan<V, F>(
    text: &[u8],
    layout: &Layout,
    make_visitor: F,
    done: &(dyn Fn(usize) + Sync),
) -> Vec<V>
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    scan_with_chunk_size(text, layout, make_visitor, done, CHUNK_BYTES)
}

fn scan_with_chunk_size<V, F>(
    text: &[u8],
    layout: &Layout,
    make_visitor: F,
    done: &(dyn Fn(usize) + Sync),
    target: usize,
) -> Vec<V>
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    let mut visitors = match plan_speculative(text, layout, target) {
        Some(chunks) => scan_speculative(text, layout, &chunks, &make_visitor, done),
        None => None,
    }
    .unwrap_or_else(|| {
        let body = (layout.body_start, layout.body_line);
        scan_planned(text, layout, body, &make_visitor, done, target, true).0
    });
    if text[layout.body_start.min(text.len())..]
        .trim_ascii()
        .is_empty()
    {
        // Blank lines only, in one chunk or (over 4 MiB of them) several.
        let Some(first) = visitors.first_mut() else {
            return visitors;
        };
        first.warn(
            layout.body_line.saturating_sub(1).max(1),
            "the header is not followed by any record: the export holds no events (an empty \
             search result, or a file cut after its first line); check the search that made it"
                .into(),
        );
    }
    visitors
}

/// Reads the chunks of a speculative plan in parallel and checks the plan: every chunk but
/// the last must end outside quotes, and none may have lost the quote parity (damage,
/// whose messages name lines of the whole file). Then, by induction from the first chunk,
/// every cut was a record boundary, and the chunks' lines are shifted to the file's.
/// `None` when the check fails: the caller reads the file again with a counted plan.
fn scan_speculative<V, F>(
    text: &[u8],
    layout: &Layout,
    chunks: &[Chunk],
    make_visitor: &F,
    done: &(dyn Fn(usize) + Sync),
) -> Option<Vec<V>>
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    let results: Vec<(V, Scanned)> = chunks
        .par_iter()
        .map(|chunk| {
            let mut visitor = make_visitor();
            let end = scan_chunk(text, *chunk, layout, &mut visitor);
            done(chunk.end - chunk.start);
            (visitor, end)
        })
        .collect();
    let last = results.len().checked_sub(1)?;
    let sound = results
        .iter()
        .enumerate()
        .all(|(k, (_, end))| end.resume.is_none() && (k == last || !end.in_quotes));
    if !sound {
        return None;
    }
    let mut first_line = layout.body_line;
    let mut visitors = Vec::with_capacity(results.len());
    for (k, (mut visitor, end)) in results.into_iter().enumerate() {
        if k > 0 {
            visitor.shift_lines(first_line - 1);
        }
        // The chunk's lines run from its first (1 for all but the first chunk).
        first_line += end.next_line - chunks[k].line;
        visitors.push(visitor);
    }
    Some(visitors)
}

/// Reads the records of `text[start..]` (starting on line `line`) in parallel chunks of
/// a counted plan ([`plan_chunks`]); returns the visitors in order. When a record lost
/// the quote parity (see `resync_after`) the later chunks, which assumed the parity of the
/// whole text, are dropped: with `to_end` the rest of the text is then read in one pass
/// (so the records are those of a single pass over the whole body, whatever the chunk
/// size or thread count); without, where reading resumes is returned instead.
fn scan_planned<V, F>(
    text: &[u8],
    layout: &Layout,
    (start, line): (usize, u64),
    make_visitor: &F,
    done: &(dyn Fn(usize) + Sync),
    target: usize,
    to_end: bool,
) -> (Vec<V>, Option<Chunk>)
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    let chunks = plan_chunks(text, start, line, target);
    let results: Vec<(V, Option<Chunk>)> = chunks
        .par_iter()
        .map(|chunk| {
            let mut visitor = make_visitor();
            let rest = scan_chunk(text, *chunk, layout, &mut visitor).resume;
            done(chunk.end - chunk.start);
            (visitor, rest)
        })
        .collect();
    let mut visitors = Vec::with_capacity(results.len());
    for (mut visitor, rest) in results {
        let Some(mut rest) = rest else {
            visitors.push(visitor);
            continue;
        };
        if !to_end {
            visitors.push(visitor);
            return (visitors, Some(rest));
        }
        while let Some(next) = scan_chunk(text, rest, layout, &mut visitor).resume {
            rest = next;
        }
        visitors.push(visitor);
        break;
    }
    (visitors, None)
}

/// How reading a chunk ended.
struct Scanned {
    /// Where to go on when a record broke the quote parity: reading then stopped, and
    /// resumes there (to the end of the text).
    resume: Option<Chunk>,
    /// The chunk ended inside quotes.
    in_quotes: bool,
    /// The line after the chunk's last record.
    next_line: u64,
}

/// How a chunk read to its end ended.
fn scanned(tokens: &Tokenizer<'_>) -> Scanned {
    Scanned {
        resume: None,
        in_quotes: tokens.ended_in_quotes(),
        next_line: tokens.next_line(),
    }
}

/// Reads the records of `chunk`.
fn scan_chunk<V: Visitor>(text: &[u8], chunk: Chunk, layout: &Layout, visitor: &mut V) -> Scanned {
    let expected = layout.columns.len();
    let mut spans = Vec::with_capacity(expected);
    let mut raw = Vec::with_capacity(expected);
    let mut audit_data = Vec::new(); // a UAL row's AuditData, unescaped; reused

    // The columns of the fields the visitor decides by (the rest is read for kept rows),
    // in column order.
    let wanted = visitor.record_fields();
    let mut decisive: Vec<(Field, usize)> = Field::ALL
        .into_iter()
        .filter(|&f| wanted.contains(f))
        .filter_map(|f| layout.field_column[f as usize].map(|c| (f, c as usize)))
        .collect();
    decisive.sort_by_key(|&(_, col)| col);

    let mut tokens = Tokenizer::new(text, chunk.start, chunk.end, chunk.line, layout.delimiter);
    let mut whole =
        |span: RecordSpan, raw: &[FieldSpan], next_line: u64, has_nul: bool, visitor: &mut V| {
            read_whole(
                text,
                layout,
                span,
                raw,
                next_line,
                has_nul,
                &decisive,
                &mut spans,
                &mut audit_data,
                visitor,
            )
        };
    if layout.kind == Kind::UnifiedAuditLog {
        while let Some(span) = tokens.next_record(&mut raw) {
            let nul = tokens.record_has_nul();
            if let Some(rest) = whole(span, &raw, tokens.next_line(), nul, visitor) {
                return Scanned {
                    resume: Some(rest),
                    in_quotes: false,
                    next_line: rest.line,
                };
            }
        }
        return scanned(&tokens);
    }
    // Mailbox audit exports: most records are one line of sound fields, of which only
    // the decisive ones are located; the others are read whole.
    let columns: Vec<usize> = decisive.iter().map(|&(_, col)| col).collect();
    let mut found = vec![None; columns.len()];
    while let Some(sparse) = tokens.next_record_sparse(&columns, &mut found) {
        let span = sparse.span;
        if span.start == span.end {
            continue; // a blank line is no record
        }
        if sparse.sound && sparse.fields == expected && tokens.next_line() == span.line + 1 {
            let mut rec = AuditRecord::default();
            for (&(field, _), f) in decisive.iter().zip(&found) {
                if let Some(f) = f {
                    rec.set(field, raw_field(text, *f));
                }
            }
            let key = CsvKey {
                text,
                raw: KeyFields::Later {
                    span,
                    delimiter: layout.delimiter,
                    read: std::cell::OnceCell::new(),
                },
                layout,
                partial: true,
            };
            visitor.record(&rec, &key, span.line);
            continue;
        }
        let mut again = Tokenizer::new(text, span.start, span.end, span.line, layout.delimiter);
        again.next_record(&mut raw);
        let nul = again.record_has_nul();
        if let Some(rest) = whole(span, &raw, tokens.next_line(), nul, visitor) {
            return Scanned {
                resume: Some(rest),
                in_quotes: false,
                next_line: rest.line,
            };
        }
    }
    scanned(&tokens)
}

/// Reads one record whole, its fields' raw spans in `raw`: checks its structure (reports
/// it malformed, or returns where to resume when it broke the quote parity), warns about
/// NUL bytes (`has_nul`: the record holds some) and a cut end, and passes it to the
/// visitor. `next_line` is the line the record after it starts on.
#[allow(clippy::too_many_arguments)]
fn read_whole<V: Visitor>(
    text: &[u8],
    layout: &Layout,
    span: RecordSpan,
    raw: &[FieldSpan],
    next_line: u64,
    has_nul: bool,
    decisive: &[(Field, usize)],
    spans: &mut Vec<Span>,
    audit_data: &mut Vec<u8>,
    visitor: &mut V,
) -> Option<Chunk> {
    let expected = layout.columns.len();
    let record_line = span.line;
    let record = &text[span.start..span.end];
    if record.is_empty() {
        return None; // a blank line is no record
    }
    let nuls = if has_nul {
        memchr::memchr_iter(0, record).count()
    } else {
        0
    };
    // A record over several lines (known from the tokenizer's line count, or looked
    // for in the last record) has its quoted fields checked for undoubled quotes: two
    // stray quotes can pair up across a line break and join rows into one.
    let multi_line = next_line > record_line + 1
        || (next_line == record_line && memchr::memchr(b'\n', record).is_some());
    // Most records are one line of sound fields: their spans are not built.
    let ual = layout.kind == Kind::UnifiedAuditLog;
    let structure = if !ual && !multi_line && quoting_is_sound(text, raw) {
        if raw.len() < expected {
            Err(format!(
                "expected {expected} fields as in the header, found {}",
                raw.len()
            ))
        } else {
            Ok(())
        }
    } else {
        match fields_of(text, span, raw, spans) {
            Err(why) => Err(why.to_string()),
            Ok(()) if spans.len() < expected => Err(format!(
                "expected {expected} fields as in the header, found {}",
                spans.len()
            )),
            Ok(()) if multi_line && line_break_field_has_undoubled_quote(record, spans) => {
                Err("a quote inside a quoted field is not doubled".into())
            }
            Ok(()) => Ok(()),
        }
    };
    if let Err(why) = structure {
        let mut damage = Damage::of(text, span, nuls);
        if let Some(rest) = resync_after(text, span) {
            // Running to the end of the file is what a lost parity does: not a cut.
            damage.truncated = false;
            visitor.malformed(
                record_line,
                format!(
                    "{why}; this record runs over {} lines, so a quote in it is probably \
                     stray or cut: its first line is counted as malformed, and reading \
                     resumes on line {}{damage}",
                    rest.lines, rest.chunk.line
                ),
            );
            return Some(rest.chunk);
        }
        visitor.malformed(record_line, format!("{why}{damage}"));
        return None;
    }
    if raw.len() != expected {
        let damage = Damage::of(text, span, nuls);
        visitor.malformed(
            record_line,
            format!(
                "expected {expected} fields as in the header, found {}{damage}",
                raw.len()
            ),
        );
        return None;
    }
    if nuls > 0 {
        visitor.warn(
            record_line,
            format!(
                "{nuls} NUL byte{} in this row (a zero-filled or damaged region of the \
                 file, as a crash or a bad copy leaves): the row is read as it is; check \
                 it against another copy of the export",
                if nuls == 1 { "" } else { "s" }
            ),
        );
    }
    if ends_mid_utf8(text, span) {
        visitor.warn(
            record_line,
            "the file ends in the middle of a UTF-8 character, so it was probably cut \
             short: this last row may be incomplete; copy or export the file again"
                .into(),
        );
    }
    if layout.kind == Kind::UnifiedAuditLog {
        ual_row(record, spans, layout, record_line, visitor, audit_data);
        return None;
    }
    let mut rec = AuditRecord::default();
    for &(field, col) in decisive {
        rec.set(field, raw_field(text, raw[col]));
    }
    let key = CsvKey {
        text,
        raw: KeyFields::Read(raw),
        layout,
        partial: true,
    };
    visitor.record(&rec, &key, record_line);
    None
}

/// Whether a field holding a line break also holds a quote that is not doubled: the sign
/// of two stray quotes pairing up across lines and joining rows. Only those fields are
/// looked at (the joined region always holds the line break), which keeps the check off
/// the ~55 fields of every multi-line record.
fn line_break_field_has_undoubled_quote(record: &[u8], spans: &[Span]) -> bool {
    memchr::memchr_iter(b'\n', record).any(|at| {
        let at = at as u32;
        let i = spans.partition_point(|s| s.end <= at);
        spans
            .get(i)
            .is_some_and(|s| s.start <= at && undoubled_quote(record, s))
    })
}

/// One row of a Unified Audit Log export: its AuditData cell is the record. A cell that
/// is not a readable JSON object (cut by Excel or by the export) does not cost the row: it
/// is warned about, and the record is built from what the cell holds before the cut and
/// from the CSV's own columns (time, operation, user, record type, id, client IP).
fn ual_row<V: Visitor>(
    record: &[u8],
    spans: &[Span],
    layout: &Layout,
    line: u64,
    visitor: &mut V,
    scratch: &mut Vec<u8>,
) {
    let cols = &layout.ual;
    let cell = |c: Option<usize>| {
        c.and_then(|c| spans.get(c))
            .map_or(RawField::EMPTY, |s| s.field(record))
    };
    let raw = cell(cols.audit_data);
    if let Some(g) = ual::fast::glance(raw.bytes, visitor.glance_fields()) {
        if visitor.prefilter(&g, line) {
            return;
        }
    }
    let json = raw.unescaped_in(scratch);
    let why = match ual::visit(json, line, visitor) {
        Ok(()) => return,
        Err(e) => e,
    };
    let message = match why {
        _ if json.trim_ascii().is_empty() => {
            "AuditData is empty: row reported from its CSV columns".to_string()
        }
        UalError::Cut => format!(
            "AuditData is not valid JSON (cut at {} characters?): row reported from its CSV \
             columns and the AuditData fields before the cut",
            ual::char_count(json)
        ),
        UalError::Invalid(e) => format!(
            "AuditData cannot be read as a JSON object ({e}): row reported from its CSV \
             columns and the AuditData fields before the error"
        ),
    };
    visitor.warn(line, message);
    let mut user = cell(cols.user);
    if user.bytes.trim_ascii().is_empty() {
        user = cell(cols.user_upn);
    }
    let columns = CsvColumns {
        time: cell(cols.time),
        operation: cell(cols.operation),
        user,
        record_type: cell(cols.record_type),
        identity: cell(cols.identity),
        client_ip: cell(cols.client_ip),
        workload: cell(cols.workload),
    };
    // The key hashes the columns as `CsvKey` reads them: raw spans of `record`, quotes
    // included (a rare path: rows whose AuditData cannot be read).
    let raw: Vec<FieldSpan> = spans
        .iter()
        .map(|s| {
            let quotes = usize::from(s.escaped);
            FieldSpan {
                start: s.start as usize - quotes,
                end: s.end as usize + quotes,
            }
        })
        .collect();
    let key = CsvKey {
        text: record,
        raw: KeyFields::Read(&raw),
        layout,
        partial: false,
    };
    ual::visit_unreadable(json, line, visitor, &columns, &key);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        rows: Vec<(u64, Vec<String>)>,
        bad: Vec<(u64, String)>,
    }

    impl Visitor for Collect {
        fn record(&mut self, rec: &AuditRecord<'_>, _key: &dyn DedupKey, line: u64) {
            let fields = [Field::Operation, Field::LastAccessed, Field::ItemSubject]
                .iter()
                .map(|&f| String::from_utf8_lossy(&rec.get(f).unescaped()).into_owned())
                .collect();
            self.rows.push((line, fields));
        }
        fn malformed(&mut self, line: u64, reason: String) {
            self.bad.push((line, reason));
        }
        fn warn(&mut self, _line: u64, _message: String) {}
        fn shift_lines(&mut self, by: u64) {
            self.rows.iter_mut().for_each(|r| r.0 += by);
            self.bad.iter_mut().for_each(|b| b.0 += by);
        }
    }

    fn read_all(text: &[u8], target: usize) -> Collect {
        let layout = Layout::read(text, 0, 1).unwrap();
        let parts = scan_with_chunk_size(text, &layout, Collect::default, &|_| {}, target);
        let mut all = Collect::default();
        for p in parts {
            all.rows.extend(p.rows);
            all.bad.extend(p.bad);
        }
        all
    }

    const SAMPLE: &[u8] = b"\"Operation\",\"LastAccessed\",\"ItemSubject\"\r\n\
\"SoftDelete\",\"4/10/2017 3:22:11 PM\",\"He said \"\"hi\"\"\"\r\n\
\"Move\",\"4/11/2017 3:22:11 PM\",\"two\r\nlines, and \"\"more\"\"\"\r\n\
\r\n\
\"Update\",\"4/12/2017 3:22:11 PM\",\"x\",\"extra\"\r\n\
Create,4/13/2017 3:22:11 PM,plain";

    /// Rows and malformed rows of `text` read with a counted plan only.
    fn read_counted(text: &[u8], target: usize) -> Collect {
        let layout = Layout::read(text, 0, 1).unwrap();
        let body = (layout.body_start, layout.body_line);
        let (parts, _) = scan_planned(
            text,
            &layout,
            body,
            &Collect::default,
            &|_| {},
            target,
            true,
        );
        let mut all = Collect::default();
        for p in parts {
            all.rows.extend(p.rows);
            all.bad.extend(p.bad);
        }
        all
    }

    #[test]
    fn speculative_cuts_read_what_counted_cuts_read() {
        let mut text = b"Operation,LastAccessed,ItemSubject\r\n".to_vec();
        for i in 0..300 {
            let row = match i % 4 {
                0 => format!(
                    "Move,4/{}/2017 1:00:00 PM,\"two\r\nlines {i}\"\r\n",
                    i % 28 + 1
                ),
                1 => format!("\"Create\",\"4/1/2017\",\"a, \"\"quoted\"\" {i}\"\r\n"),
                2 => format!("Update,4/2/2017,x{i}\r\n"),
                _ => "Copy,4/3/2017,\"\r\n\r\n\"\r\n".to_string(),
            };
            text.extend_from_slice(row.as_bytes());
        }
        let layout = Layout::read(&text, 0, 1).unwrap();
        for target in [40, 64, 100, 333, 1000, 5000] {
            let plan = plan_speculative(&text, &layout, target).expect("a plan");
            assert!(
                plan.len() > text.len() / target / 2,
                "{target}: {}",
                plan.len()
            );
            let visitors = scan_speculative(&text, &layout, &plan, &Collect::default, &|_| {});
            assert!(visitors.is_some(), "{target}: the guess was right");
            let got = read_all(&text, target);
            let want = read_counted(&text, target);
            assert_eq!(got.rows, want.rows, "{target}");
            assert_eq!(got.bad, want.bad, "{target}");
            assert_eq!(got.rows.len(), 300);
        }
    }

    #[test]
    fn a_wrong_guess_is_caught_and_read_again() {
        // A quoted field whose lines look like records: a cut inside it is taken for a
        // record start, which the check at the end of the previous chunk refutes.
        let mut text = b"Operation,LastAccessed,ItemSubject\n".to_vec();
        text.extend_from_slice(b"Move,4/1/2017,\"notes:\n");
        for i in 0..200 {
            text.extend_from_slice(format!("Fake,4/{}/2017,row\n", i % 28 + 1).as_bytes());
        }
        text.extend_from_slice(b"end\"\nCopy,4/2/2017,last\n");
        let layout = Layout::read(&text, 0, 1).unwrap();
        let target = text.len() / 3;
        let plan = plan_speculative(&text, &layout, target).expect("a plan");
        assert!(plan.len() > 1);
        let visitors = scan_speculative(&text, &layout, &plan, &Collect::default, &|_| {});
        assert!(visitors.is_none(), "the wrong guess must be caught");
        let got = read_all(&text, target);
        assert_eq!(got.rows, read_counted(&text, target).rows);
        assert_eq!(got.rows.len(), 2);
        assert_eq!(got.rows[1].0, 204);
    }

    #[test]
    fn reads_quoted_multiline_and_counts_lines() {
        let all = read_all(SAMPLE, 1 << 20);
        assert_eq!(all.rows.len(), 3);
        assert_eq!(all.rows[0].0, 2);
        assert_eq!(all.rows[0].1[2], "He said \"hi\"");
        assert_eq!(all.rows[1].0, 3);
        assert_eq!(all.rows[1].1[2], "two\r\nlines, and \"more\"");
        assert_eq!(
            all.bad,
            vec![(6, "expected 3 fields as in the header, found 4".into())]
        );
        assert_eq!(all.rows[2].0, 7);
        assert_eq!(
            all.rows[2].1,
            vec!["Create", "4/13/2017 3:22:11 PM", "plain"]
        );
    }

    #[test]
    fn same_records_at_any_chunk_size() {
        let mut text = SAMPLE.to_vec();
        text.extend_from_slice(b"\n");
        for i in 0..50 {
            text.extend_from_slice(
                format!("\"Op{i}\",\"4/1/2017\",\"a \"\"q\"\"\r\nb\"\r\n").as_bytes(),
            );
        }
        let reference = read_all(&text, 1 << 20);
        for target in [1, 2, 3, 7, 16, 64, 100] {
            let got = read_all(&text, target);
            assert_eq!(got.rows, reference.rows, "target {target}");
            assert_eq!(got.bad, reference.bad, "target {target}");
        }
    }

    #[test]
    fn semicolon_delimiter_and_case_insensitive_header() {
        let text = b"\"operation\";\"LASTACCESSED\";\"itemsubject\"\n\"Move\";\"10.04.2017 15:22:11\";\"a;b, c\"\n";
        let all = read_all(text, 1 << 20);
        assert_eq!(all.rows[0].1, vec!["Move", "10.04.2017 15:22:11", "a;b, c"]);
    }

    #[test]
    fn header_errors() {
        let e = Layout::read(b"name,age\nbob,3\n", 0, 1).unwrap_err();
        assert!(matches!(e, HeaderError::Unrecognised { .. }));
        let e = Layout::read(b"Operation,ItemSubject\n", 0, 1).unwrap_err();
        assert_eq!(
            e,
            HeaderError::MissingColumns {
                missing: vec!["LastAccessed"]
            }
        );
        let l = Layout::read(b"CreationDate,UserIds,Operations,AuditData\n", 0, 1).unwrap();
        assert_eq!(l.kind, Kind::UnifiedAuditLog);
    }

    #[test]
    fn unterminated_quote_is_malformed_and_reading_resumes() {
        let all = read_all(b"Operation,LastAccessed\n\"Move,4/1/2017\nx,y\n", 1 << 20);
        assert_eq!(all.rows, vec![(3, vec!["x".into(), "y".into(), "".into()])]);
        assert_eq!(all.bad.len(), 1);
        assert_eq!(all.bad[0].0, 2);
        assert!(
            all.bad[0].1.contains("reading resumes on line 3"),
            "{:?}",
            all.bad
        );
    }

    /// A fully quoted export (as Export-Csv writes) with a stray quote: without the
    /// resynchronisation every later line break would read as quoted.
    fn stray_quote_export(rows: usize, stray_at: &[usize]) -> Vec<u8> {
        let mut text = b"\"Operation\",\"LastAccessed\",\"ItemSubject\"\r\n".to_vec();
        for i in 0..rows {
            let subject = if stray_at.contains(&i) {
                format!("cut \"{i}")
            } else if i % 7 == 0 {
                format!("two\r\nlines {i}")
            } else {
                format!("s{i}")
            };
            text.extend_from_slice(format!("\"Move\",\"4/1/2017\",\"{subject}\"\r\n").as_bytes());
        }
        text
    }

    #[test]
    fn stray_quotes_cost_one_line_each_at_any_chunk_size() {
        let text = stray_quote_export(200, &[20, 21, 150]);
        let reference = read_all(&text, 1 << 20);
        // Each stray quote costs its own row; the rows after it are read.
        assert_eq!(reference.rows.len(), 197, "{:?}", reference.bad);
        assert_eq!(reference.bad.len(), 3, "{:?}", reference.bad);
        assert!(reference.rows.iter().any(|r| r.1[2] == "s199"));
        for target in [1, 5, 64, 100, 333, 4096] {
            let got = read_all(&text, target);
            assert_eq!(got.rows, reference.rows, "target {target}");
            assert_eq!(got.bad, reference.bad, "target {target}");
        }
    }

    #[test]
    fn truncated_last_row_says_so() {
        let all = read_all(
            b"Operation,LastAccessed,ItemSubject\nMove,4/1/2017,a\nMove,4/2",
            1 << 20,
        );
        assert_eq!(all.rows.len(), 1);
        assert!(
            all.bad[0].1.contains("file ends inside this row"),
            "{:?}",
            all.bad
        );
        let all = read_all(b"Operation,LastAccessed\r\n\"Move\",\"4/1/20", 1 << 20);
        assert!(all.bad[0]
            .1
            .starts_with("unterminated quoted field; the file ends inside"));
    }

    #[test]
    fn extra_carriage_returns_end_a_line_and_bare_ones_are_named() {
        let all = read_all(
            b"Operation,LastAccessed\r\r\n\"Move\",\"4/1/2017\"\r\r\nA,B\r\n",
            1 << 20,
        );
        assert_eq!(all.rows.len(), 2, "{:?}", all.bad);
        let all = read_all(
            b"Operation,LastAccessed\nMove,4/1/2017\rCopy,4/2/2017\n",
            1 << 20,
        );
        assert!(
            all.bad[0].1.contains("carriage returns without line feeds"),
            "{:?}",
            all.bad
        );
        let e = Layout::read(b"Operation,LastAccessed\rMove,1\r", 0, 1).unwrap_err();
        assert!(
            e.to_string()
                .contains("carriage returns without line feeds"),
            "{e}"
        );
    }
}

// Reading an export that arrives in windows (standard input, pipes).
pub mod stream;
