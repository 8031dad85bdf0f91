//! CSV exports: `Search-MailboxAuditLog | Export-Csv` and the seed script's own reports;
//! also Unified Audit Log CSV exports, whose rows hand their `AuditData` cell to
//! [`super::ual`].
//!
//! The reader works on the whole decoded text at once, without copying it:
//!
//! 1. the header is read once into a [`Layout`] ([`layout`]): which column holds which
//!    [`Field`], found by name (case-insensitive, any order, any subset);
//! 2. the body is cut into chunks at record boundaries ([`plan`]). A newline ends a record
//!    only outside quotes, that is after an even number of quote bytes. Each cut is moved
//!    to the first line start where two well-formed records begin, a guess checked once
//!    the chunks are read (each must end outside quotes); when the check fails, the file
//!    is cut again from the quote counts of a pass over it. The record boundaries are
//!    therefore those of one sequential pass, at any thread count;
//! 3. each chunk is walked record by record on a rayon worker. Only the fields the
//!    [`Visitor`] decides by are located; the rest of a one-line record is checked from
//!    bitmasks (its field count, its quoted fields closed), and a record that fails a
//!    check, spans lines or holds NUL bytes is read whole. The record is handed over as a
//!    borrowed [`AuditRecord`]; nothing is allocated for a record the visitor drops, and a
//!    kept one is read whole through [`DedupKey::full_record`];
//! 4. a damaged export is read as far as it goes ([`damage`]): a record broken by a stray
//!    or cut quote costs its first line, and reading resumes on the next (in one pass from
//!    there, since the chunks were cut by the quote parity the stray quote broke);
//! 5. [`reference`] reads the same body the slow, obvious way (the `csv` crate, one record
//!    at a time): the tests check the fast path against it.

use std::ops::Range;

use rayon::prelude::*;
use xxhash_rust::xxh3::Xxh3;

use super::structural::{FieldSpan, RecordSpan, Tokenizer};
use super::ual::{self, CsvColumns, UalError};
use super::visit::{columns_json, EventKey, OnDemand, Visitor};
use crate::record::{AuditRecord, Escape, Family, Field, RawField};
use damage::{ends_mid_utf8, resync_after, undoubled_quote, Damage};

mod damage;
mod layout;
mod plan;
pub mod reference;

pub use layout::{HeaderError, Kind, Layout};
use plan::{plan_chunks, plan_speculative, Chunk, CHUNK_BYTES};

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

/// The event key of a CSV row (see [`OnDemand::event_key`]), from its unescaped values:
/// the Identity when the export has a non-empty one, else every non-empty key column by
/// lower-cased name, in [`Layout`]'s name order.
#[derive(Default)]
struct RowKey(Xxh3);

impl RowKey {
    /// The key of a row whose Identity is `value`, unless that is blank.
    fn identity(value: &[u8]) -> Option<EventKey> {
        let value = value.trim_ascii();
        if value.is_empty() {
            return None;
        }
        let mut h = Xxh3::new();
        h.update(b"identity\0");
        h.update(value);
        Some(EventKey::Whole(h.digest128()))
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

    fn finish(self) -> EventKey {
        EventKey::Columns(self.0.digest128())
    }
}

/// A mailbox audit record's key and whole record, computed only for records kept.
struct CsvKey<'r> {
    text: &'r [u8],
    raw: KeyFields<'r>,
    layout: &'r Layout,
    /// The record passed with this key holds only the visitor's decisive fields.
    partial: bool,
    /// The record's Identity, when located already.
    identity: Option<RawField<'r>>,
}

/// The raw spans of a record's fields: found already, or found when first asked for.
enum KeyFields<'r> {
    Read(&'r [FieldSpan]),
    Later {
        span: RecordSpan,
        delimiter: u8,
        read: std::cell::OnceCell<Vec<FieldSpan>>,
        /// What the located fields vouch for.
        vouch: Vouch,
    },
}

/// What a record passed with its fields located ([`KeyFields::Later`]) vouches for.
#[derive(Clone, Copy)]
enum Vouch {
    /// Only [`Visitor::decision_fields`] were located: a kept record is read whole.
    Nothing,
    /// Every field of [`Visitor::record_fields`] was located, and the tokenizer saw that
    /// every byte of the record is ASCII (so UTF-8).
    Ascii,
    /// Every field was located; the record's bytes are checked for UTF-8 when asked.
    CheckBytes,
}

impl CsvKey<'_> {
    fn column(&self, col: usize) -> Option<RawField<'_>> {
        let raw: &[FieldSpan] = match &self.raw {
            KeyFields::Read(raw) => raw,
            KeyFields::Later {
                span,
                delimiter,
                read,
                ..
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

impl OnDemand for CsvKey<'_> {
    fn event_key(&self) -> EventKey {
        let mut scratch = Vec::new();
        let identity = self
            .identity
            .or_else(|| self.layout.identity_column.and_then(|c| self.column(c)));
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

    fn utf8_checked(&self) -> bool {
        // A record passed with its fields located (not read whole): valid UTF-8 if its
        // bytes are, checked at once rather than field by field. With only the deciding
        // fields located, a kept record is read whole all the same.
        match &self.raw {
            KeyFields::Later {
                vouch: Vouch::Nothing,
                ..
            } => false,
            KeyFields::Later {
                vouch: Vouch::Ascii,
                ..
            } => true,
            KeyFields::Later {
                span,
                vouch: Vouch::CheckBytes,
                ..
            } => self
                .text
                .get(span.start..span.end)
                .is_some_and(|r| simdutf8::basic::from_utf8(r).is_ok()),
            KeyFields::Read(_) => false,
        }
    }

    fn event_json(&self, out: &mut Vec<u8>) -> bool {
        let mut scratch = Vec::new();
        let cells = self.layout.columns.iter().enumerate().map(|(col, name)| {
            let value = self
                .column(col)
                .map_or(&[][..], |v| v.unescaped_in(&mut scratch));
            (name.as_str(), String::from_utf8_lossy(value).into_owned())
        });
        columns_json(cells, out);
        true
    }

    fn columns(&self, each: &mut dyn FnMut(&[u8], &[u8])) -> bool {
        let mut scratch = Vec::new();
        for (col, name) in self.layout.columns.iter().enumerate() {
            let value = self
                .column(col)
                .map_or(&[][..], |v| v.unescaped_in(&mut scratch));
            each(name.as_bytes(), value);
        }
        true
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
/// in input order. `done(range)` is called as each chunk of `text[range]` is finished
/// (for progress, and to release the chunk's pages).
pub fn scan<V, F>(
    text: &[u8],
    layout: &Layout,
    make_visitor: F,
    done: &(dyn Fn(Range<usize>) + Sync),
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
    done: &(dyn Fn(Range<usize>) + Sync),
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
    done: &(dyn Fn(Range<usize>) + Sync),
) -> Option<Vec<V>>
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    let results: Vec<(V, Scanned)> = chunks
        .par_iter()
        .with_max_len(1)
        .map(|chunk| {
            let mut visitor = make_visitor();
            let end = scan_chunk(text, *chunk, layout, &mut visitor);
            visitor.chunk_done();
            done(chunk.start..chunk.end);
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
    done: &(dyn Fn(Range<usize>) + Sync),
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
        .with_max_len(1)
        .map(|chunk| {
            let mut visitor = make_visitor();
            let rest = scan_chunk(text, *chunk, layout, &mut visitor).resume;
            if rest.is_none() {
                visitor.chunk_done();
            }
            done(chunk.start..chunk.end);
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
            visitor.chunk_done();
            visitors.push(visitor);
            return (visitors, Some(rest));
        }
        while let Some(next) = scan_chunk(text, rest, layout, &mut visitor).resume {
            rest = next;
        }
        visitor.chunk_done();
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
    // the fields the visitor asks for are located (every one it reads of a kept record,
    // or, while it keeps few, only those it decides by); the others are read whole.
    let all = Located::new(decisive.iter().copied());
    let deciding = visitor.decision_fields();
    let few = Located::new(
        decisive
            .iter()
            .copied()
            .filter(|&(f, _)| deciding.contains(f)),
    );
    let mut found = vec![None; decisive.len()];
    loop {
        let every = visitor.locates_all();
        let located = if every { &all } else { &few };
        let found = &mut found[..located.columns.len()];
        let Some(sparse) = tokens.next_record_sparse(&located.columns, found) else {
            break;
        };
        let span = sparse.span;
        if span.start == span.end {
            continue; // a blank line is no record
        }
        if sparse.sound && sparse.fields == expected && tokens.next_line() == span.line + 1 {
            let mut rec = AuditRecord::default();
            for (&field, f) in located.fields.iter().zip(found.iter()) {
                if let Some(f) = f {
                    rec.set(field, raw_field(text, *f));
                }
            }
            let identity = layout
                .identity_column
                .filter(|_| located.identity)
                .map(|_| rec.get(Field::Identity));
            let key = CsvKey {
                text,
                raw: KeyFields::Later {
                    span,
                    delimiter: layout.delimiter,
                    read: std::cell::OnceCell::new(),
                    vouch: match (every, sparse.ascii) {
                        (false, _) => Vouch::Nothing,
                        (true, true) => Vouch::Ascii,
                        (true, false) => Vouch::CheckBytes,
                    },
                },
                layout,
                partial: true,
                identity,
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

/// The fields a sparse walk locates, in column order, and their columns.
struct Located {
    fields: Vec<Field>,
    columns: Vec<usize>,
    /// `Identity` is among them.
    identity: bool,
}

impl Located {
    fn new(fields: impl Iterator<Item = (Field, usize)>) -> Located {
        let (fields, columns): (Vec<Field>, Vec<usize>) = fields.unzip();
        Located {
            identity: fields.contains(&Field::Identity),
            fields,
            columns,
        }
    }
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
        identity: None,
    };
    visitor.record(&rec, &key, record_line);
    None
}

/// Whether a field holding a line break also holds a quote that is not doubled: the sign
/// of two stray quotes pairing up across lines and joining rows. Only those fields are
/// looked at (the joined region always holds the line break), which keeps the check off
/// the ~55 fields of every multi-line record.
fn line_break_field_has_undoubled_quote(record: &[u8], spans: &[Span]) -> bool {
    // Each field once, however many line breaks it holds (else a field of many lines is
    // read once a line: quadratic).
    let mut checked = None;
    memchr::memchr_iter(b'\n', record).any(|at| {
        let at = at as u32;
        let i = spans.partition_point(|s| s.end <= at);
        if checked == Some(i) {
            return false;
        }
        checked = Some(i);
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
    // The RecordType column names the record's family: a hint only (the look reads it
    // from the AuditData itself), so a column that disagrees costs a look, not a row.
    let hint = cols.record_type.map(|c| Family::of(cell(Some(c)).bytes));
    if ual::fast::dropped_on_a_look(raw.bytes, ual::fast::Quoting::Doubled, hint, line, visitor) {
        return;
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
        UalError::NotARecord => "AuditData has no Operation, Id or Workload member: row \
                                 reported from its CSV columns"
            .to_string(),
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
        identity: None,
    };
    ual::visit_unreadable(json, line, visitor, &columns, &key);
}

#[cfg(test)]
mod tests;

// Reading an export that arrives in windows (standard input, pipes).
pub mod stream;
