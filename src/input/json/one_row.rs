//! A JSON Lines line is one row, malformed at most once.
//!
//! A line that holds something besides its records (`{"a":1} junk`, `{...} {"b": tru}`)
//! could be reported once per value on it: the record that is not an audit record, then
//! the text after it. [`LineVisitor`] stands between the line's reader and the run's
//! visitor: it passes everything on, notes the first malformed report, and the reader
//! stops the line there. Text after a record that was read is not a second row either:
//! it is a warning on that line (see `json::read_values`).

use super::ps::Reader;
use super::split::{Bound, Splitter, Step};
use crate::input::visit::{OnDemand, QuickLook, Visitor};
use crate::record::{AuditRecord, FieldSet};

/// Reads the values of the JSON Lines line `text[pos..eol]` (line number `line`) that
/// the quick path left (more than one record, text besides them, a broken record): its
/// records in turn, until the first malformed one; text after a record that was read is
/// a warning.
pub(super) fn read_line<'t, V: Visitor>(
    text: &'t [u8],
    (pos, eol): (usize, usize),
    line: u64,
    reader: &mut Reader<'t>,
    visitor: &mut V,
) {
    let mut sp = Splitter::new(pos, line, Bound::Line);
    let mut one = LineVisitor::new(visitor);
    while !one.malformed {
        match sp.next(text, eol) {
            Step::End => break,
            Step::Error { line, reason } => {
                if one.reported {
                    one.warn(
                        line,
                        format!("{reason}: ignored, after the record read on this line"),
                    );
                } else {
                    one.malformed(line, reason);
                }
                break;
            }
            Step::Record { start, line } => match reader.parse(text, start, eol) {
                Ok(end) => {
                    sp.record_parsed(end, reader.line_feeds());
                    reader.visit(text, (start, end), line, &mut one);
                }
                Err(e) => {
                    let reason = match sp.skip_record(text, eol) {
                        None => "truncated: the record that starts here is not closed at the \
                                 end of the line"
                            .to_string(),
                        Some(_) => format!("not valid JSON: {}", e.what),
                    };
                    one.malformed(line, reason);
                }
            },
        }
    }
}

/// Passes a line's records on to `inner`, remembering whether one was malformed and
/// whether one was handed over at all.
pub(super) struct LineVisitor<'v, V: ?Sized> {
    inner: &'v mut V,
    /// A malformed row was reported on this line: the rest of it is not read.
    pub malformed: bool,
    /// A record (or a malformed row) was reported on this line: text after it is a
    /// warning, not a row.
    pub reported: bool,
}

impl<'v, V: Visitor + ?Sized> LineVisitor<'v, V> {
    pub fn new(inner: &'v mut V) -> Self {
        LineVisitor {
            inner,
            malformed: false,
            reported: false,
        }
    }
}

impl<V: Visitor + ?Sized> Visitor for LineVisitor<'_, V> {
    fn record(&mut self, rec: &AuditRecord<'_>, key: &dyn OnDemand, line: u64) {
        self.reported = true;
        self.inner.record(rec, key, line);
    }

    fn malformed(&mut self, line: u64, reason: String) {
        if !self.malformed {
            self.malformed = true;
            self.reported = true;
            self.inner.malformed(line, reason);
        }
    }

    fn warn(&mut self, line: u64, message: String) {
        self.inner.warn(line, message);
    }

    fn prefilter(&mut self, glance: &dyn QuickLook, line: u64) -> bool {
        let dropped = self.inner.prefilter(glance, line);
        self.reported |= dropped;
        dropped
    }

    fn glance_fields(&self) -> FieldSet {
        self.inner.glance_fields()
    }

    fn shift_lines(&mut self, by: u64) {
        self.inner.shift_lines(by);
    }

    fn record_fields(&self) -> FieldSet {
        self.inner.record_fields()
    }
}
