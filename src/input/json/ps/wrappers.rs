//! Record objects that hold records: Microsoft Graph audit-search pages and the SIEM
//! exports that keep each raw record as text.
//!
//! - A **Graph page** (`{"@odata.context": …, "value": [records], "@odata.nextLink": …}`,
//!   a saved response of the audit log query API): every element of `value` is a record,
//!   read as an element of a bare array is (Graph records are `UalWrapper`s: their
//!   `auditData` is the AuditData object). An empty `value` is an empty page.
//! - **Elastic**: `{"events": [documents]}`, or a document on its own, whose raw record is
//!   `event.original` (flattened), `event: {original}` or `message`.
//! - **Splunk** JSON export: one `{"preview": false, "result": {"_raw": …}}` per line.
//!
//! The raw record may be text (a JSON string holding the record) or an object; it is read
//! like any record object of the file, and counted as one row. One that is not JSON of a
//! shape mbxaudit reads is a malformed row whose message names the wrapper and how to
//! extract the records (see also `json::refuse_wrapper`, which rejects a file whose first
//! wrapped record is so).
//!
//! Records inside a wrapper are read with wrappers off (a page inside a page is not a
//! record), so nesting is one level deep.

use super::super::parse::{for_each_element, for_each_member, member, Member, Val};
use super::{Kind, Reader};
use crate::diag::excerpt;
use crate::input::json_lex::count_lines;
use crate::input::visit::Visitor;
use crate::record::unescape_json_into;

/// A kind of wrapper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wrapper {
    GraphPage,
    ElasticEvents,
    ElasticDocument,
    SplunkResult,
}

impl Wrapper {
    /// What the wrapper is, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Wrapper::GraphPage => "a Microsoft Graph audit-search page",
            Wrapper::ElasticEvents | Wrapper::ElasticDocument => "an Elastic export",
            Wrapper::SplunkResult => "a Splunk JSON export",
        }
    }

    /// How to extract the raw records into a file mbxaudit reads.
    pub fn extract(self) -> &'static str {
        match self {
            Wrapper::GraphPage => "jq -c '.value[]' FILE > records.jsonl",
            Wrapper::ElasticEvents => {
                "jq -r '.events[] | .[\"event.original\"] // .event.original // .message' FILE \
                 > records.jsonl"
            }
            Wrapper::ElasticDocument => {
                "jq -r '.[\"event.original\"] // .event.original // .message' FILE > records.jsonl"
            }
            Wrapper::SplunkResult => "jq -r '.result._raw' FILE > records.jsonl",
        }
    }
}

/// What a record object of no known kind wraps, from its members: the wrapper and the
/// value that holds the record(s).
pub(crate) fn classify<'t>(members: &[Member<'t>]) -> Option<(Wrapper, Val<'t>)> {
    let find = |name: &[u8]| {
        members
            .iter()
            .find(|m| m.key.eq_ignore_ascii_case(name))
            .map(|m| m.val)
    };
    if let Some(v @ Val::Arr(_)) = find(b"value") {
        let odata = members
            .iter()
            .all(|m| m.key.eq_ignore_ascii_case(b"value") || m.key.starts_with(b"@"));
        if odata {
            return Some((Wrapper::GraphPage, v));
        }
    }
    if let Some(v @ Val::Arr(_)) = find(b"events") {
        return Some((Wrapper::ElasticEvents, v));
    }
    if let Some(Val::Obj(result)) = find(b"result") {
        if let Some(raw) = member(result, b"_raw") {
            return Some((Wrapper::SplunkResult, raw));
        }
    }
    document_record(members.iter().map(|m| (m.key, m.val)))
        .map(|raw| (Wrapper::ElasticDocument, raw))
}

/// The raw record of an Elastic document: `event.original`, `event: {original}`, or
/// `message`.
fn document_record<'t>(
    members: impl Iterator<Item = (&'t [u8], Val<'t>)> + Clone,
) -> Option<Val<'t>> {
    let find = |name: &[u8]| {
        members
            .clone()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    find(b"event.original")
        .or_else(|| match find(b"event") {
            Some(Val::Obj(event)) => member(event, b"original"),
            _ => None,
        })
        .or_else(|| find(b"message"))
        .filter(|v| matches!(v, Val::Str(_) | Val::Obj(_)))
}

/// The raw record of an element of Elastic's `events` (`null` when it has none).
fn event_record(doc: &[u8]) -> Val<'_> {
    let mut members = Vec::new();
    for_each_member(doc, |m| members.push((m.key, m.val)));
    document_record(members.into_iter()).unwrap_or(Val::Null)
}

impl<'t> Reader<'t> {
    /// Reads the records that the record last parsed (`text[start..]`, on `line`) wraps;
    /// false when it is no wrapper.
    pub(super) fn visit_wrapped<V: Visitor + ?Sized>(
        &mut self,
        text: &'t [u8],
        start: usize,
        line: u64,
        visitor: &mut V,
    ) -> bool {
        let Some((wrapper, held)) = classify(&self.members) else {
            return false;
        };
        // The line of a value that lies inside the wrapper.
        let line_of = |inner: &[u8]| {
            let at = (inner.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            line + count_lines(text.get(start..at).unwrap_or_default())
        };
        match (wrapper, held) {
            (Wrapper::GraphPage | Wrapper::ElasticEvents, Val::Arr(elements)) => {
                let mut values = Vec::new();
                for_each_element(elements, |e| values.push(e));
                for value in values {
                    let at = match value {
                        Val::Obj(o) | Val::Arr(o) | Val::Str(o) | Val::Num(o) => line_of(o),
                        Val::Bool(_) | Val::Null => line,
                    };
                    let held = match (wrapper, value) {
                        (Wrapper::ElasticEvents, Val::Obj(doc)) => event_record(doc),
                        _ => value,
                    };
                    self.visit_held(wrapper, held, at, visitor);
                }
            }
            (_, held) => self.visit_held(wrapper, held, line, visitor),
        }
        true
    }

    /// Reads one wrapped record: an object of the text, or a string holding the record's
    /// JSON text; anything else is a malformed row that says how to extract the records.
    fn visit_held<V: Visitor + ?Sized>(
        &mut self,
        wrapper: Wrapper,
        held: Val<'t>,
        line: u64,
        visitor: &mut V,
    ) {
        let unread = match held {
            Val::Obj(o) => (!read_record(self, o, line, visitor)).then_some(o),
            Val::Str(s) => {
                let mut raw = Vec::new();
                unescape_json_into(s, &mut raw);
                let mut inner = Reader {
                    reference: self.reference,
                    ..Reader::default()
                };
                (!read_record(&mut inner, &raw, line, visitor)).then_some(s)
            }
            Val::Arr(a) | Val::Num(a) => Some(a),
            Val::Bool(_) | Val::Null => Some(&b""[..]),
        };
        if let Some(what) = unread {
            visitor.malformed(line, unreadable(wrapper, what));
        }
    }
}

/// The message for a wrapped record that is not one mbxaudit reads (`what`: as written).
pub(crate) fn unreadable(wrapper: Wrapper, what: &[u8]) -> String {
    format!(
        "{} whose record is not an audit record mbxaudit reads ('{}'): extract the raw \
         records with `{}` and check them",
        wrapper.name(),
        excerpt(what),
        wrapper.extract()
    )
}

/// Parses `text` as one record object of a kind mbxaudit reads (nothing but whitespace
/// after it) and visits it; false, with nothing visited, when it is not. A wrapper inside
/// is not read (it is of no known kind), so nesting stops at one level.
pub(crate) fn read_record<'r, V: Visitor + ?Sized>(
    reader: &mut Reader<'r>,
    text: &'r [u8],
    line: u64,
    visitor: &mut V,
) -> bool {
    let t = text.trim_ascii();
    if t.first() != Some(&b'{') {
        return false;
    }
    let Ok(end) = reader.parse(t, 0, t.len()) else {
        return false;
    };
    if !t[end..].trim_ascii().is_empty() || reader.kind() == Kind::Unknown {
        return false;
    }
    reader.visit(t, (0, end), line, visitor);
    true
}

/// Counts what a probe read would hand over, and keeps nothing.
#[derive(Default)]
struct Probe {
    records: usize,
}

impl Visitor for Probe {
    fn record(
        &mut self,
        _rec: &crate::record::AuditRecord<'_>,
        _key: &dyn crate::input::visit::OnDemand,
        _line: u64,
    ) {
        self.records += 1;
    }
    fn malformed(&mut self, _line: u64, _reason: String) {}
    fn warn(&mut self, _line: u64, _message: String) {}
}

/// Why a file whose first record object (at `text[start..]`, read no further than
/// `limit`) is a wrapper of records mbxaudit does not read is not read at all; `None`
/// when it is not so (or cannot be told within `limit`).
pub(crate) fn refusal(text: &[u8], start: usize, limit: usize) -> Option<String> {
    let mut reader = Reader::default();
    reader.parse(text, start, limit).ok()?;
    if reader.kind() != Kind::Unknown {
        return None;
    }
    let (wrapper, held) = classify(&reader.members)?;
    let held = match (wrapper, held) {
        (Wrapper::GraphPage | Wrapper::ElasticEvents, Val::Arr(a)) => {
            let mut first = None;
            for_each_element(a, |e| {
                first.get_or_insert(e);
            });
            match (wrapper, first?) {
                (Wrapper::ElasticEvents, Val::Obj(doc)) => event_record(doc),
                (_, first) => first,
            }
        }
        (_, held) => held,
    };
    let mut probe = Probe::default();
    let readable = match held {
        Val::Obj(o) => read_record(&mut Reader::default(), o, 1, &mut probe),
        Val::Str(s) => {
            let mut raw = Vec::new();
            unescape_json_into(s, &mut raw);
            read_record(&mut Reader::default(), &raw, 1, &mut probe)
        }
        _ => false,
    };
    let what = match held {
        Val::Obj(b) | Val::Arr(b) | Val::Str(b) | Val::Num(b) => b,
        Val::Bool(_) | Val::Null => b"",
    };
    (!readable).then(|| {
        format!(
            "{}, whose records are not audit records mbxaudit reads (the first: '{}'): \
             extract the raw records with `{}`, check that they are Exchange audit \
             records, and read that file",
            wrapper.name(),
            excerpt(what),
            wrapper.extract()
        )
    })
}
