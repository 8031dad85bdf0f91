//! How a reader hands its records over, whatever the format: the [`Visitor`] a reader
//! calls once per record (or malformed record), what the reader computes only for the
//! records the visitor keeps ([`OnDemand`]), and the key that tells two exports of one
//! event apart from two events ([`EventKey`]).
//!
//! Every reader (CSV, JSON, Unified Audit Log) speaks this interface; the pipeline's
//! collector is its one real implementation, and the tests have recording ones.

use xxhash_rust::xxh3::Xxh3;

use crate::datetime::Timestamp;
use crate::record::{AuditRecord, Family, FieldSet};

/// A quick look at a record before it is parsed (the Unified Audit Log readers take one
/// at each AuditData): the top-level fields found, and its subjects on demand.
pub trait QuickLook {
    /// The top-level fields found (those of [`Visitor::glance_fields`], at least); no
    /// subject.
    fn record(&self) -> &AuditRecord<'_>;
    /// Whether a record the look rules out may be dropped: the full parser would have
    /// nothing to warn about or report in it. A pass over the record: ask it last.
    fn droppable(&self) -> bool;
    /// Calls `test` on every subject of the record, unescaped, until one passes; returns
    /// whether one did, or `None` when that cannot be told without the full parse. `a`
    /// and `b` are scratch space.
    fn any_subject(
        &self,
        a: &mut Vec<u8>,
        b: &mut Vec<u8>,
        test: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Option<bool>;
}

/// The de-duplication key of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKey {
    /// The event names itself: a legacy record's `Identity`, or a Unified Audit Log
    /// record's `Id` with a hash of its whole AuditData (its time included).
    Whole(u128),
    /// A hash of every non-empty column but the session-specific ones and the time: the
    /// time is mixed in once parsed ([`EventKey::with_time`]), so the culture it was
    /// written in does not matter.
    Columns(u128),
}

impl EventKey {
    /// The final 128-bit key, given the event's time.
    pub fn with_time(self, time: Timestamp) -> u128 {
        match self {
            EventKey::Whole(key) => key,
            EventKey::Columns(columns) => {
                let mut h = Xxh3::new();
                h.update(&columns.to_le_bytes());
                h.update(&time.0.to_le_bytes());
                h.digest128()
            }
        }
    }
}

/// Receives the records of one chunk, in order.
pub trait Visitor {
    /// A well-formed record starting at physical line `line`.
    fn record(&mut self, rec: &AuditRecord<'_>, key: &dyn OnDemand, line: u64);
    /// A record that could not be read; `reason` says why.
    fn malformed(&mut self, line: u64, reason: String);
    /// A record that was read, with a problem worth telling (e.g. a cut AuditData cell);
    /// called before [`Visitor::record`] for the same record.
    fn warn(&mut self, line: u64, message: String);
    /// A quick look at a Unified Audit Log record before it is parsed: its top-level
    /// fields (those of [`Visitor::glance_fields`]) and its subjects. Returns true when
    /// the visitor has counted the record as dropped, so it need not be parsed; false to
    /// have it parsed and passed to [`Visitor::record`].
    fn prefilter(&mut self, _glance: &dyn QuickLook, _line: u64) -> bool {
        false
    }
    /// Whether the reader should take a quick look at the next record (and offer it to
    /// [`Visitor::prefilter`]) before reading it whole: a visitor that keeps nearly every
    /// record spares the looks. `hint`: the record's family as the export names it
    /// outside the record (a UAL CSV's `RecordType` column), when it does; a look at a
    /// record of a family the visitor drops is cheap and spares the whole reading. The
    /// look decides from the record itself, so the answer changes no outcome, only the
    /// work.
    fn wants_glance(&mut self, _hint: Option<Family>) -> bool {
        true
    }
    /// The fields [`Visitor::prefilter`] reads from its glance: the glance stops once it
    /// has them.
    fn glance_fields(&self) -> FieldSet {
        FieldSet::ALL
    }
    /// Whether [`Visitor::prefilter`] drops every record of `family` (never asked of
    /// mailbox records) from its `RecordType` and `Workload` alone, whatever its other
    /// fields: a glance at such a record stops once it has those two.
    fn drops_family(&self, _family: Family) -> bool {
        false
    }
    /// The reader is done with the visitor's chunk (it may still shift its lines, see
    /// [`Visitor::shift_lines`]): a visitor that keeps rows may put them away now.
    fn chunk_done(&mut self) {}
    /// Adds `by` to every line number the visitor has kept so far. The reader numbers a
    /// chunk's lines from 1 when it cut the text without counting its lines first, and
    /// shifts them once the lines before the chunk are known. A visitor that keeps line
    /// numbers must implement it.
    fn shift_lines(&mut self, _by: u64) {}
    /// The fields [`Visitor::record`] reads to decide whether it keeps a record. A reader
    /// may pass a record holding only those; a record that is kept is then read whole
    /// through [`OnDemand::full_record`].
    fn record_fields(&self) -> FieldSet {
        FieldSet::ALL
    }
    /// The part of [`Visitor::record_fields`] that decides whether a record is kept. A
    /// reader that locates fields may locate only these when the visitor keeps few
    /// records ([`Visitor::locates_all`]); a record kept is then read whole.
    fn decision_fields(&self) -> FieldSet {
        self.record_fields()
    }
    /// Whether the reader should locate every field of [`Visitor::record_fields`] in the
    /// next record, or only [`Visitor::decision_fields`] (and pass a key whose
    /// [`OnDemand::utf8_checked`] is false, so that a record kept is read whole): a
    /// visitor that drops most records spares locating what it would keep of them. The
    /// answer changes the work, never the outcome.
    fn locates_all(&mut self) -> bool {
        true
    }
    /// The fields [`Visitor::record`] reads of a record it keeps, besides
    /// [`Visitor::record_fields`]: a reader may leave the others empty (the Unified Audit
    /// Log reader then skips nested objects no field needs).
    fn kept_fields(&self) -> FieldSet {
        FieldSet::ALL
    }
    /// What [`Visitor::record`] reads of the messages a kept record touched.
    fn kept_items(&self) -> KeptItems {
        KeptItems::Every
    }
    /// Whether [`Visitor::record`] matches the subjects of every message a record touched
    /// ([`AuditRecord::extra_subjects`]: `--subject`), not only the record's own fields.
    fn matches_every_subject(&self) -> bool {
        true
    }
    /// How a Unified Audit Log record's [`EventKey`] is made ([`UalKeys`]).
    fn ual_keys(&self) -> UalKeys {
        UalKeys::Content
    }
}

/// How a Unified Audit Log record's [`EventKey::Whole`] is made from its `Id` and its
/// AuditData.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UalKeys {
    /// The `Id` and a hash of the AuditData's content (whitespace, member order and
    /// string escapes ignored): one key for one event read from a CSV cell and from a
    /// JSON export. Costs a hash of every value, in the pass that checks the AuditData.
    Content,
    /// A hash of the `Id` (the upper 64 bits) and of the AuditData's text (the lower 64):
    /// no value hashed. Exact as long as no `Id` comes with two texts: one text is one
    /// content. When some `Id` does (one event written two ways, or two events of one
    /// `Id`), two keys share their upper half, which the de-duplication notices
    /// (`pipeline::dedup::mark`): the run is then read again with [`UalKeys::Content`].
    /// Taken for CSV files of one header, which hold the AuditData as the service wrote
    /// it, in runs that keep mailbox and admin records only (Azure AD sign-ins share one
    /// `Id` between events). A record without an `Id` gets its content key either way.
    Text,
}

/// What a visitor reads of the messages a kept record touched ([`Visitor::kept_items`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeptItems {
    /// Nothing.
    None,
    /// How many there are ([`AuditRecord::message_count`]): a reader may leave
    /// [`AuditRecord::items`] empty and count them without reading them.
    Count,
    /// Every message ([`AuditRecord::items`]).
    Every,
}

/// What a reader computes only when the visitor keeps a record: its [`EventKey`] and,
/// if the visitor was handed a partial record, the whole one.
pub trait OnDemand {
    /// The key that tells two copies of one event apart from two events.
    fn event_key(&self) -> EventKey;
    /// The whole record, when the one passed to [`Visitor::record`] holds only the
    /// fields of [`Visitor::record_fields`]; `None` when that one is already whole.
    fn full_record(&self) -> Option<AuditRecord<'_>> {
        None
    }
    /// True when the record passed to [`Visitor::record`] holds every field of
    /// [`Visitor::record_fields`] it has, and the whole record is known to be valid
    /// UTF-8 (no field of it, passed or not, can hold invalid UTF-8): a visitor that
    /// needs no other field need not ask for [`OnDemand::full_record`].
    fn utf8_checked(&self) -> bool {
        false
    }

    /// The record as one JSON object, for rules that may read any member (Sigma): a
    /// Unified Audit Log record's AuditData as it stands, a legacy record's columns (CSV)
    /// or members (JSON). Appended to `out`; false when the reader has none.
    fn event_json(&self, _out: &mut Vec<u8>) -> bool {
        false
    }

    /// A legacy record's columns (CSV) or members (JSON), every one, by name as written
    /// with its value as `Export-Csv` would write it, unescaped: what the cross-shape
    /// de-duplication compares (`pipeline::shapes`). False when the reader has none (a
    /// Unified Audit Log record).
    fn columns(&self, _each: &mut dyn FnMut(&[u8], &[u8])) -> bool {
        false
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

/// Appends a flat JSON object of `(column name, value)` pairs (a legacy record's columns,
/// as [`OnDemand::event_json`] gives them). A repeated name keeps its first value.
pub fn columns_json<'n>(cells: impl Iterator<Item = (&'n str, String)>, out: &mut Vec<u8>) {
    let mut map = serde_json::Map::new();
    for (name, value) in cells {
        map.entry(name.trim().to_string())
            .or_insert(serde_json::Value::String(value));
    }
    // Writing a map of strings into a Vec cannot fail.
    let _ = serde_json::to_writer(out, &map);
}
