//! The slow, obviously correct CSV reader that the fast one ([`super::scan`]) is checked
//! against (issue 5: the reports must not change as the fast path gets faster).
//!
//! It reads the body with the `csv` crate, one record at a time, from the first data
//! record to the end: no chunks, no quote-parity planning, no SIMD tokenizer, no
//! [`Visitor::prefilter`]. Every record is unescaped by the crate, handed to the visitor
//! with fields marked [`Escape::None`], and keyed by a hash of its unescaped values, made
//! the way the fast path makes it ([`RefKey`]), so that both give the same `u128`.
//!
//! It is a reference for well-formed exports only. Damaged input (a stray or cut quote,
//! NUL bytes, bare carriage returns, a file cut inside a character) is read by the crate's
//! rules, not by the fast path's recovery ([`super::damage`]), so the two may differ there;
//! so they do for a record that runs over several lines *and* has too few fields, which
//! the fast path takes for a lost quote parity and cuts after its first line.
//!
//! Switched on by `pipeline::Settings::reference`, in tests only; never on the command line.

use ::csv::{ByteRecord, ReaderBuilder};

use super::damage::Damage;
use super::{ual_row, Kind, Layout, RowKey, Span};
use crate::input::structural::RecordSpan;
use crate::input::visit::{columns_json, EventKey, OnDemand, Visitor};
use crate::record::{AuditRecord, Escape, Field, RawField};

/// Reads every record of `layout`'s body in `text`, in order, into `visitor`.
pub fn scan<V: Visitor>(text: &[u8], layout: &Layout, visitor: &mut V) {
    let body_start = layout.body_start.min(text.len());
    let body = &text[body_start..];
    let expected = layout.columns.len();
    let mut reader = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(layout.delimiter)
        .from_reader(body);
    let mut record = ByteRecord::new();
    // A UAL row rebuilt from its unescaped fields, for `ual_row`.
    let (mut plain, mut spans, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // Reading bytes from memory with `flexible`: cannot happen.
                let line = reader.position().line() + layout.body_line - 1;
                visitor.malformed(line, format!("the csv crate cannot read on: {e}"));
                break;
            }
        }
        let Some(pos) = record.position() else {
            continue;
        };
        // The position is where the reader stood: before the line ends (blank lines
        // included) that the crate skips in front of a record.
        let mut start = pos.byte() as usize;
        let mut line = pos.line();
        while let Some(&b) = body.get(start).filter(|&&b| b == b'\r' || b == b'\n') {
            line += u64::from(b == b'\n');
            start += 1;
        }
        let line = line + layout.body_line - 1;

        if record.len() != expected {
            // The line end after the record is not part of it.
            let read_to = reader.position().byte() as usize;
            let mut end = read_to.clamp(start, body.len());
            if body[..end].ends_with(b"\n") {
                end -= 1;
            }
            while end > start && body[end - 1] == b'\r' {
                end -= 1;
            }
            let span = RecordSpan {
                start: body_start + start,
                end: body_start + end,
                line,
            };
            let damage = Damage::of(text, span, 0);
            visitor.malformed(
                line,
                format!(
                    "expected {expected} fields as in the header, found {}{damage}",
                    record.len()
                ),
            );
            continue;
        }

        if layout.kind == Kind::UnifiedAuditLog {
            // The fast path's own row reader, on the unescaped fields, with no prefilter.
            plain.clear();
            spans.clear();
            for field in &record {
                let from = plain.len() as u32;
                plain.extend_from_slice(field);
                spans.push(Span {
                    start: from,
                    end: plain.len() as u32,
                    escaped: false,
                });
            }
            let mut visitor = NoPrefilter(&mut *visitor);
            ual_row(&plain, &spans, layout, line, &mut visitor, &mut scratch);
            continue;
        }

        let mut rec = AuditRecord::default();
        for field in Field::ALL {
            if let Some(col) = layout.field_column[field as usize] {
                if let Some(value) = record.get(col as usize) {
                    rec.set(field, RawField::new(value, Escape::None));
                }
            }
        }
        let key = RefKey {
            record: &record,
            layout,
        };
        visitor.record(&rec, &key, line);
    }
    if body.trim_ascii().is_empty() {
        // Worded as the fast path words it (`super::scan_with_chunk_size`).
        visitor.warn(
            layout.body_line.saturating_sub(1).max(1),
            "the header is not followed by any record: the export holds no events (an empty \
             search result, or a file cut after its first line); check the search that made it"
                .into(),
        );
    }
}

/// The dedup key of a record read by the crate: what `CsvKey` hashes, from the unescaped
/// values the crate gives (the Identity when the export has one, else every non-empty
/// key column by lower-cased name, in name order).
struct RefKey<'r> {
    record: &'r ByteRecord,
    layout: &'r Layout,
}

impl OnDemand for RefKey<'_> {
    fn event_json(&self, out: &mut Vec<u8>) -> bool {
        let cells = self.layout.columns.iter().enumerate().map(|(col, name)| {
            let value = self.record.get(col).unwrap_or_default();
            (name.as_str(), String::from_utf8_lossy(value).into_owned())
        });
        columns_json(cells, out);
        true
    }

    fn columns(&self, each: &mut dyn FnMut(&[u8], &[u8])) -> bool {
        for (col, name) in self.layout.columns.iter().enumerate() {
            each(name.as_bytes(), self.record.get(col).unwrap_or_default());
        }
        true
    }

    fn event_key(&self) -> EventKey {
        let identity = self.layout.identity_column.and_then(|c| self.record.get(c));
        if let Some(key) = identity.and_then(RowKey::identity) {
            return key;
        }
        let mut key = RowKey::default();
        for (col, name) in &self.layout.key_columns {
            if let Some(value) = self.record.get(*col) {
                key.column(name, value);
            }
        }
        key.finish()
    }
}

/// Passes everything on but the prefilter: every UAL row is parsed in full.
struct NoPrefilter<'v, V>(&'v mut V);

impl<V: Visitor> Visitor for NoPrefilter<'_, V> {
    fn record(&mut self, rec: &AuditRecord<'_>, key: &dyn OnDemand, line: u64) {
        self.0.record(rec, key, line);
    }
    fn malformed(&mut self, line: u64, reason: String) {
        self.0.malformed(line, reason);
    }
    fn warn(&mut self, line: u64, message: String) {
        self.0.warn(line, message);
    }
}

#[cfg(test)]
mod tests;
