//! What one record object is, and how it becomes an [`AuditRecord`].
//!
//! - `Search-MailboxAuditLog | ConvertTo-Json` objects (`Operation` and `LastAccessed`)
//!   are mapped here, member by member, with the CSV column names (docs/formats.md §A, §B);
//! - `Search-UnifiedAuditLog | ConvertTo-Json` objects (`AuditData`) hand their AuditData
//!   (a JSON string, or an object from some collectors) to [`ual::visit_audit_data`];
//!   when it cannot be read (cut, broken) the row is still reported, as the CSV reader
//!   reports such a row: from the AuditData members before the break and the wrapper's
//!   own members (CreationDate, Operations, UserIds, RecordType, Identity);
//! - bare AuditData records (`CreationTime` with `Operation`, `Workload` or
//!   `RecordType`: Management Activity API, JSON Lines collectors) go to
//!   [`ual::visit_audit_data`] whole;
//! - objects that hold records (Graph audit-search pages, Elastic and Splunk exports) have
//!   each of theirs read as above ([`wrappers`]).
//!
//! Member names are matched case-insensitively, and remembered by position: a dump
//! repeats the same names in the same order, so each record costs a few byte compares.

use xxhash_rust::xxh3::Xxh3;

use super::names::Names;
use super::parse::{self, canonical, for_each_element, for_each_member, Member, Val};
use crate::input::ual;
use crate::input::visit::{EventKey, OnDemand, Visitor};
use crate::record::logon_type_name;
use crate::record::{unescape_json_into, AuditRecord, Family, Field, ItemView, RawField};

/// What a member name means to the mapping, besides the field it fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Other,
    Operation,
    LastAccessed,
    SourceItems,
    Identity,
    AuditData,
    CreationTime,
    Workload,
    RecordType,
    CreationDate,
    Operations,
    UserIds,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct KeyInfo {
    field: Option<Field>,
    role: Role,
    /// The member's index among those the quick look at AuditData reads (by its name as
    /// written, as that look matches it).
    glance: Option<u8>,
    /// Named `OperationProperties` exactly, as serde_json reads AuditData's.
    operation_properties: bool,
}

/// The meaning of a member named `raw` (as written), whose unescaped name is `name`.
fn key_info(raw: &[u8], name: &[u8]) -> KeyInfo {
    let roles: [(&[u8], Role); 11] = [
        (b"Operation", Role::Operation),
        (b"LastAccessed", Role::LastAccessed),
        (b"SourceItems", Role::SourceItems),
        (b"Identity", Role::Identity),
        (b"AuditData", Role::AuditData),
        (b"CreationTime", Role::CreationTime),
        (b"Workload", Role::Workload),
        (b"RecordType", Role::RecordType),
        (b"CreationDate", Role::CreationDate),
        (b"Operations", Role::Operations),
        (b"UserIds", Role::UserIds),
    ];
    let trimmed = name.trim_ascii();
    KeyInfo {
        field: Field::from_header(name),
        role: roles
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(trimmed))
            .map_or(Role::Other, |r| r.1),
        glance: ual::fast::member_index(raw).and_then(|i| u8::try_from(i).ok()),
        operation_properties: name == b"OperationProperties",
    }
}

/// Members the legacy key leaves out: the same list as the CSV reader's, so that a JSON
/// dump and a CSV export of the same event get the same key.
use crate::input::visit::KEY_IGNORED as LEGACY_KEY_IGNORED;

/// Members a UAL wrapper's fallback key leaves out (as csv.rs does for UAL CSV rows).
const WRAPPER_KEY_IGNORED: &[&[u8]] = &[
    b"runspaceid",
    b"pscomputername",
    b"psshowcomputername",
    b"resultindex",
    b"resultcount",
    b"creationdate",
];

const TRUE: RawField<'static> = RawField {
    bytes: b"True",
    escape: crate::record::Escape::None,
};
const FALSE: RawField<'static> = RawField {
    bytes: b"False",
    escape: crate::record::Escape::None,
};

/// A scalar member as a field: strings borrowed (escaped), numbers as written, booleans as
/// `Export-Csv` writes them, `null` (and nested values) empty.
fn scalar(v: Val<'_>) -> RawField<'_> {
    match v {
        Val::Str(s) => RawField::json(s),
        Val::Num(n) => RawField::new(n, crate::record::Escape::None),
        Val::Bool(true) => TRUE,
        Val::Bool(false) => FALSE,
        Val::Null | Val::Obj(_) | Val::Arr(_) => RawField::EMPTY,
    }
}

/// A member's value as written (a string's inside; nothing for `true`, `false`, `null`).
fn raw(v: Val<'_>) -> &[u8] {
    match v {
        Val::Str(b) | Val::Num(b) | Val::Obj(b) | Val::Arr(b) => b,
        Val::Bool(_) | Val::Null => b"",
    }
}

/// A date member: a string (`\/Date(ms)\/` raw, or ISO), or Windows PowerShell's
/// `{"value": "\/Date(ms)\/", "DisplayHint": 2, "DateTime": "..."}`, whose `value` is used.
fn date(v: Val<'_>) -> RawField<'_> {
    match v {
        Val::Obj(o) => [&b"value"[..], b"DateTime"]
            .iter()
            .find_map(|name| match parse::member(o, name) {
                Some(Val::Str(s)) => Some(RawField::json(s)),
                _ => None,
            })
            .unwrap_or(RawField::EMPTY),
        other => scalar(other),
    }
}

fn trim_spaces(f: RawField<'_>) -> RawField<'_> {
    let n = f.bytes.iter().take_while(|&&b| b == b' ').count();
    RawField::new(&f.bytes[n..], f.escape)
}

mod wrappers;
pub(super) use wrappers::refusal;

/// Reads the record objects of one chunk; its buffers are reused from record to record.
#[derive(Default)]
pub(super) struct Reader<'t> {
    members: Vec<Member<'t>>,
    /// Read records with the byte parser only, and AuditData with serde_json only (the
    /// reference of the fast paths).
    reference: bool,
    /// Scratch space of the parser.
    tokens: super::blocks::Scratch,
    /// Whether the record last parsed escapes a UTF-16 surrogate, and how many line feeds
    /// it holds, when the parser knows.
    surrogates: Option<bool>,
    line_feeds: Option<u64>,
    /// The meaning of each member of the record being read.
    infos: Vec<KeyInfo>,
    /// Every member name met (as written) and its meaning.
    names: Names<KeyInfo>,
    /// The [`Names`] entry of each member of the record being read (`None`: not
    /// remembered), and a stamp per entry to find a repeated member.
    member_names: Vec<Option<u32>>,
    seen_in: Vec<u64>,
    records: u64,
    subjects: Vec<RawField<'t>>,
    items: Vec<ItemView<'t>>,
    audit_data: Vec<u8>,
    name_scratch: Vec<u8>,
}

/// The kind of a record object, from its member names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Legacy,
    UalWrapper,
    AuditData,
    Unknown,
}

impl<'t> Reader<'t> {
    /// A reader that reads every record the slow, obvious way (see `json::scan_reference`).
    pub fn reference() -> Self {
        Reader {
            reference: true,
            ..Reader::default()
        }
    }

    /// Parses the record at `text[start..]` (not past `limit`); returns its end, or the
    /// parse error (offset into `text`).
    pub fn parse(
        &mut self,
        text: &'t [u8],
        start: usize,
        limit: usize,
    ) -> Result<usize, parse::Error> {
        let text = &text[..limit.min(text.len())];
        let parsed = if self.reference {
            let end = parse::record_by_bytes(text, start, &mut self.members)?;
            parse::Parsed {
                end,
                surrogates: None,
                line_feeds: None,
            }
        } else {
            super::blocks::parse_record(text, start, &mut self.members, &mut self.tokens)?
        };
        self.learn(parsed);
        Ok(parsed.end)
    }

    /// Parses the record at `text[start..]` when it is plainly valid and holds no line
    /// feed, without knowing where its line ends (JSON Lines); `None`: not so (the caller
    /// reads the line the usual way).
    pub fn parse_one_line(&mut self, text: &'t [u8], start: usize) -> Option<usize> {
        if self.reference {
            return None;
        }
        let parsed =
            super::blocks::one_line_record(text, start, &mut self.members, &mut self.tokens)?;
        self.learn(parsed);
        Some(parsed.end)
    }

    /// The line feeds in the record last parsed, when the parser counted them.
    pub fn line_feeds(&self) -> Option<u64> {
        self.line_feeds
    }

    /// Learns the meaning of the members of the record just parsed.
    fn learn(&mut self, parsed: parse::Parsed) {
        self.surrogates = parsed.surrogates;
        self.line_feeds = parsed.line_feeds;
        self.infos.clear();
        self.member_names.clear();
        for (i, m) in self.members.iter().enumerate() {
            let (k, info) = self.names.find(i, m.key, || {
                self.name_scratch.clear();
                unescape_json_into(m.key, &mut self.name_scratch);
                key_info(m.key, &self.name_scratch)
            });
            self.infos.push(info);
            self.member_names.push(k);
        }
    }

    /// The kind of the record last parsed.
    pub fn kind(&self) -> Kind {
        let has = |r: Role| self.infos.iter().any(|i| i.role == r);
        if has(Role::AuditData) {
            Kind::UalWrapper
        } else if has(Role::Operation) && has(Role::LastAccessed) {
            Kind::Legacy
        } else if has(Role::CreationTime)
            && (has(Role::Operation) || has(Role::Workload) || has(Role::RecordType))
        {
            Kind::AuditData
        } else {
            Kind::Unknown
        }
    }

    /// Hands the record last parsed (`text[start..end]`, starting on `line`) to `visitor`.
    pub fn visit<V: Visitor + ?Sized>(
        &mut self,
        text: &'t [u8],
        (start, end): (usize, usize),
        line: u64,
        visitor: &mut V,
    ) {
        match self.kind() {
            Kind::Legacy => self.legacy(line, visitor),
            Kind::UalWrapper => self.wrapper(line, visitor),
            Kind::AuditData => {
                let json = &text[start..end];
                // Most records are dropped by a rule: a quick look first, as for CSV cells,
                // unless serde_json would refuse what this reader's parser accepted (the
                // record must then be reported, not dropped).
                if !self.reference && self.serde_reads_alike(json) {
                    let wanted = visitor.glance_fields();
                    let members = || self.members.iter().zip(&self.infos);
                    let operation_properties = members()
                        .find(|(_, i)| i.operation_properties)
                        .map_or(&b""[..], |(m, _)| raw(m.val));
                    let fields = members().map(|(m, i)| (i.glance, scalar(m.val)));
                    let dropped = ual::fast::glance_parsed(
                        json,
                        fields,
                        operation_properties,
                        wanted,
                        |glance| visitor.prefilter(glance, line),
                    );
                    if dropped {
                        return;
                    }
                }
                if let Err(reason) = ual::visit_audit_data(json, line, visitor) {
                    visitor.malformed(line, format!("AuditData record cannot be read: {reason}"));
                }
            }
            Kind::Unknown => {
                if !self.visit_wrapped(text, start, line, visitor) {
                    visitor.malformed(
                        line,
                        "not an audit record: no Operation/LastAccessed or CreationTime".into(),
                    );
                }
            }
        }
    }

    /// True when serde_json reads the record last parsed as this reader's parser did:
    /// no member appears twice (serde_json refuses a repeated field) and no escape names
    /// a surrogate (serde_json refuses a lone one; this parser does not check pairs).
    fn serde_reads_alike(&mut self, json: &[u8]) -> bool {
        self.records += 1;
        self.seen_in.resize(self.names.len(), 0);
        for &k in &self.member_names {
            match k.and_then(|k| self.seen_in.get_mut(k as usize)) {
                Some(stamp) if *stamp != self.records => *stamp = self.records,
                _ => return false, // repeated, or a name not remembered
            }
        }
        !self
            .surrogates
            .unwrap_or_else(|| crate::input::json_lex::may_hold_surrogate_escape(json))
    }

    fn member(&self, role: Role) -> Option<Val<'t>> {
        self.members
            .iter()
            .zip(&self.infos)
            .find(|(_, i)| i.role == role)
            .map(|(m, _)| m.val)
    }

    /// A `Search-MailboxAuditLog` object.
    fn legacy<V: Visitor + ?Sized>(&mut self, line: u64, visitor: &mut V) {
        let mut rec = AuditRecord::default();
        let mut seen = 0u64;
        self.subjects.clear();
        self.items.clear();
        let mut first_subject = None;
        for (m, info) in self.members.iter().zip(&self.infos) {
            if info.role == Role::SourceItems {
                if let Val::Arr(a) = m.val {
                    // Objects when -Depth was large enough; type-name strings otherwise.
                    for_each_element(a, |e| {
                        let Val::Obj(o) = e else { return };
                        let mut item = ItemView::default();
                        for_each_member(o, |im| {
                            if im.key.eq_ignore_ascii_case(b"SourceItemSubject") {
                                item.subject = scalar(im.val);
                            } else if im.key.eq_ignore_ascii_case(b"SourceItemFolderPathName") {
                                item.folder = scalar(im.val);
                            }
                        });
                        first_subject.get_or_insert(item.subject);
                        item.subject = trim_spaces(item.subject);
                        self.subjects.push(item.subject);
                        self.items.push(item);
                    });
                }
                continue;
            }
            let Some(field) = info.field else { continue };
            let bit = 1u64 << (field as u32);
            if seen & bit != 0 {
                continue; // the first member of a name wins, as the first column does
            }
            seen |= bit;
            let value = match info.role {
                Role::LastAccessed => date(m.val),
                _ => scalar(m.val),
            };
            rec.set(field, value);
        }
        if let Some(first) = first_subject {
            // The seed script's subject: the first source item's (left-trimmed by the record).
            rec.set(Field::SourceItemSubjectsList, first);
        }
        rec.extra_subjects = &self.subjects;
        rec.items = &self.items;
        let key = MemberKey {
            members: &self.members,
            identity: self.member(Role::Identity),
            ignored: LEGACY_KEY_IGNORED,
            legacy: true,
        };
        visitor.record(&rec, &key, line);
    }

    /// Whether a quick look at a wrapper's AuditData (`json`, unescaped) lets `visitor`
    /// drop the record unread, as a UAL CSV row's cell is looked at: the look decides from
    /// the AuditData alone, as the full reading does; the wrapper's `RecordType` member
    /// only hints at a family the visitor leaves out ([`Visitor::wants_glance`]).
    fn dropped_on_a_look<V: Visitor + ?Sized>(
        &self,
        json: &[u8],
        line: u64,
        visitor: &mut V,
    ) -> bool {
        if self.reference {
            return false;
        }
        let hint = self
            .member(Role::RecordType)
            .map(|v| Family::of(scalar(v).bytes));
        ual::fast::dropped_on_a_look(json, ual::fast::Quoting::Plain, hint, line, visitor)
    }

    /// A `Search-UnifiedAuditLog` object: its AuditData is the record. When it cannot be
    /// read (cut, broken), the row is still reported, as a CSV row is: from the AuditData
    /// members before the break and the wrapper's own members.
    fn wrapper<V: Visitor + ?Sized>(&mut self, line: u64, visitor: &mut V) {
        self.audit_data.clear();
        let result = match self.member(Role::AuditData) {
            Some(Val::Str(s)) => {
                unescape_json_into(s, &mut self.audit_data);
                if self.dropped_on_a_look(&self.audit_data, line, visitor) {
                    return;
                }
                ual::visit_audit_data(&self.audit_data, line, visitor)
            }
            Some(Val::Obj(o)) => {
                if self.dropped_on_a_look(o, line, visitor) {
                    return;
                }
                let read = ual::visit_audit_data(o, line, visitor);
                if read.is_err() {
                    // Kept for the report of the row that cannot be read, only then.
                    self.audit_data.extend_from_slice(o);
                }
                read
            }
            Some(Val::Null) | None => Err("it is null".to_string()),
            Some(_) => Err("it is not a JSON object".to_string()),
        };
        let Err(reason) = result else { return };
        let chars = std::str::from_utf8(&self.audit_data)
            .map_or(self.audit_data.len(), |s| s.chars().count());
        visitor.warn(
            line,
            format!(
                "AuditData ({chars} characters) cannot be read: {reason}; row reported from \
                 the record's other members and the AuditData fields before the break"
            ),
        );
        let get = |role| self.member(role).map_or(RawField::EMPTY, scalar);
        let columns = ual::CsvColumns {
            time: self
                .member(Role::CreationDate)
                .map_or(RawField::EMPTY, date),
            operation: get(Role::Operations),
            user: get(Role::UserIds),
            record_type: get(Role::RecordType),
            identity: get(Role::Identity),
            client_ip: RawField::EMPTY,
            workload: RawField::EMPTY,
        };
        let key = MemberKey {
            members: &self.members,
            identity: None,
            ignored: WRAPPER_KEY_IGNORED,
            legacy: false,
        };
        ual::visit_unreadable(&self.audit_data, line, visitor, &columns, &key);
    }
}

/// The de-duplication key of a PowerShell object, computed as csv.rs computes a row's, so
/// that the same event in a CSV and in a JSON export gives the same key.
struct MemberKey<'r> {
    members: &'r [Member<'r>],
    identity: Option<Val<'r>>,
    ignored: &'static [&'static [u8]],
    /// A `Search-MailboxAuditLog` object (its members are columns; see
    /// [`OnDemand::columns`]), not a UAL wrapper.
    legacy: bool,
}

impl MemberKey<'_> {
    /// The text `Export-Csv` would have written for a member, unescaped; nested values
    /// in a canonical form.
    fn value(name: &[u8], v: Val<'_>, out: &mut Vec<u8>) {
        out.clear();
        match v {
            Val::Str(s) => unescape_json_into(s, out),
            Val::Num(n) if name == b"logontype" || name == b"internallogontype" => {
                out.extend_from_slice(logon_type_name(n));
            }
            Val::Num(n) => out.extend_from_slice(n),
            Val::Bool(b) => out.extend_from_slice(if b { b"True" } else { b"False" }),
            Val::Null => {}
            Val::Obj(_) | Val::Arr(_) => canonical(v, out),
        }
    }
}

impl OnDemand for MemberKey<'_> {
    fn event_json(&self, out: &mut Vec<u8>) -> bool {
        out.push(b'{');
        for (i, m) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(m.key);
            out.extend_from_slice(b"\":");
            match m.val {
                Val::Str(s) => {
                    out.push(b'"');
                    out.extend_from_slice(s);
                    out.push(b'"');
                }
                Val::Num(n) => out.extend_from_slice(n),
                Val::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
                Val::Null => out.extend_from_slice(b"null"),
                Val::Obj(raw) | Val::Arr(raw) => out.extend_from_slice(raw),
            }
        }
        out.push(b'}');
        true
    }

    fn columns(&self, each: &mut dyn FnMut(&[u8], &[u8])) -> bool {
        if !self.legacy {
            return false;
        }
        let (mut name, mut value) = (Vec::new(), Vec::new());
        for m in self.members {
            name.clear();
            unescape_json_into(m.key, &mut name);
            let lower = name.trim_ascii().to_ascii_lowercase();
            Self::value(&lower, m.val, &mut value);
            each(&name, &value);
        }
        true
    }

    fn event_key(&self) -> EventKey {
        let mut h = Xxh3::new();
        let mut value = Vec::new();
        if let Some(id) = self.identity {
            Self::value(b"identity", id, &mut value);
            let id = value.trim_ascii();
            if !id.is_empty() {
                h.update(b"identity\0");
                h.update(id);
                return EventKey::Whole(h.digest128());
            }
        }
        let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(self.members.len());
        for m in self.members {
            let mut name = Vec::with_capacity(m.key.len());
            unescape_json_into(m.key, &mut name);
            let name = name.trim_ascii().to_ascii_lowercase();
            if self.ignored.contains(&name.as_slice()) {
                continue;
            }
            Self::value(&name, m.val, &mut value);
            if !value.is_empty() {
                entries.push((name, std::mem::take(&mut value)));
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, value) in &entries {
            h.update(name);
            h.update(b"\0");
            h.update(&(value.len() as u64).to_le_bytes());
            h.update(value);
        }
        EventKey::Columns(h.digest128())
    }
}
