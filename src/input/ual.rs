//! Unified Audit Log records: one `AuditData` object (the Management Activity API schema,
//! docs/formats.md §E) mapped onto an [`AuditRecord`].
//!
//! Every UAL reader ends here: the CSV reader for each row's `AuditData` cell
//! (`Search-UnifiedAuditLog | Export-Csv`, the Purview exports), the JSON reader for each
//! record of an array or a JSON Lines file. The object is read with borrowed serde structs
//! whose fields are [`RawValue`]s: a string value becomes a [`RawField`] pointing at the
//! inside of its quotes in the input (unescaped only if it is kept), a number its text.
//! Nested objects (`Item`, `Folders`, `AffectedItems`, `Parameters`...) are parsed only
//! for the record families that use them, and leniently: an `Item` that is not an object
//! (PowerShell's depth truncation turns nested objects into type-name strings) costs that
//! field, not the record. Owned storage (the items list, the admin cmdlet's parameters
//! rendered as text) lives on this function's stack for the one `visitor.record` call.
//!
//! What maps where (the README's table):
//!
//! | report / record field | from AuditData |
//! |---|---|
//! | Operation | `Operation` |
//! | LastAccessed | `CreationTime` (UTC, `time_is_utc`) |
//! | RecordType, Workload, UserId, Identity | `RecordType`, `Workload`, `UserId`, `Id` |
//! | OperationResult | `ResultStatus` |
//! | LogonType, LogonUserSid | `LogonType` (number), `LogonUserSid` |
//! | LogonUserDisplayName | `LogonUserDisplayName`, else `UserId` |
//! | MailboxOwnerUpn, MailboxResolvedOwnerName | `MailboxOwnerUPN` (admin: `ObjectId`) |
//! | MailboxGuid | `MailboxGuid` |
//! | ClientInfoString, ClientMachineName, ClientProcessName, ClientVersion | same names |
//! | ClientIpAddress | `ClientIPAddress`, else `ClientIP` |
//! | ClientIp | `ClientIP` |
//! | CrossMailboxOperation | `CrossMailboxOperation`, else `CrossMailboxOperations` (`True`/`False`) |
//! | ItemSubject | `Item.Subject` (admin: the cmdlet's `Parameters` as `-Name Value ...`; UpdateInboxRules: its `OperationProperties`, alike) |
//! | SourceItemSubjectsList | the first affected / accessed item's subject |
//! | InternetMessageId | `Item.InternetMessageId`, else that first item's |
//! | FolderPathName | `Folder.Path`, else `Item.ParentFolder.Path`, else `Folders[0].Path` (AttachmentAccess: `Messages[0].Path`) |
//! | DestFolderPathName | `DestFolder.Path` |
//! | MailAccessType, IsThrottled | `OperationProperties` entries of those names |
//! | items, extra subjects | every `AffectedItems[]` entry, every `Folders[].FolderItems[]` entry, every `Messages[].MessageItems[]` entry (AttachmentAccess) |

use serde::Deserialize;
use serde_json::value::RawValue;
use xxhash_rust::xxh3::{xxh3_64_with_seed, Xxh3};

use super::json_lex::{self as lex, skip_ascii_ws, Quoting};
use super::visit::{EventKey, KeptItems, OnDemand, UalKeys, Visitor};
use crate::record::Family;
use crate::record::{AuditRecord, Escape, Field, ItemView, RawField};

/// A JSON value as it lies in the input: its text (read by serde as a [`RawValue`], or
/// found by the one-pass scan of [`canon::scan`]), and, when that scan read the object
/// it lies in, where that object's nested containers end.
#[derive(Clone, Copy, Debug)]
struct Json<'a> {
    text: &'a str,
    ends: Option<&'a canon::Ends<'a>>,
    /// The scan found the value a string written without escapes (false: not known).
    plain_string: bool,
}

impl<'a> Json<'a> {
    /// A value whose object no scan read.
    fn plain(text: &'a str) -> Json<'a> {
        Json {
            text,
            ends: None,
            plain_string: false,
        }
    }

    fn get(self) -> &'a str {
        self.text
    }

    /// Another value of the same object.
    fn sibling(self, text: &'a str) -> Json<'a> {
        Json {
            text,
            ends: self.ends,
            plain_string: false,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Json<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(d).map(|r| Json::plain(r.get()))
    }
}

/// An optional JSON value, as it lies in the input.
type Raw<'a> = Option<Json<'a>>;

/// The AuditData fields mbxaudit reads; everything else is skipped (but still checked to be
/// valid JSON).
#[derive(Deserialize, Default)]
#[serde(default)]
struct AuditData<'a> {
    #[serde(rename = "Id", borrow)]
    id: Raw<'a>,
    #[serde(rename = "RecordType", borrow)]
    record_type: Raw<'a>,
    #[serde(rename = "CreationTime", borrow)]
    creation_time: Raw<'a>,
    #[serde(rename = "Operation", borrow)]
    operation: Raw<'a>,
    #[serde(rename = "Workload", borrow)]
    workload: Raw<'a>,
    #[serde(rename = "UserId", borrow)]
    user_id: Raw<'a>,
    #[serde(rename = "ResultStatus", borrow)]
    result_status: Raw<'a>,
    #[serde(rename = "ObjectId", borrow)]
    object_id: Raw<'a>,
    #[serde(rename = "ClientIP", borrow)]
    client_ip: Raw<'a>,
    #[serde(rename = "ClientIPAddress", borrow)]
    client_ip_address: Raw<'a>,
    #[serde(rename = "LogonType", borrow)]
    logon_type: Raw<'a>,
    #[serde(rename = "LogonUserDisplayName", borrow)]
    logon_user_display_name: Raw<'a>,
    #[serde(rename = "LogonUserSid", borrow)]
    logon_user_sid: Raw<'a>,
    #[serde(rename = "MailboxOwnerUPN", borrow)]
    mailbox_owner_upn: Raw<'a>,
    #[serde(rename = "MailboxGuid", borrow)]
    mailbox_guid: Raw<'a>,
    #[serde(rename = "ClientInfoString", borrow)]
    client_info_string: Raw<'a>,
    #[serde(rename = "ClientMachineName", borrow)]
    client_machine_name: Raw<'a>,
    #[serde(rename = "ClientProcessName", borrow)]
    client_process_name: Raw<'a>,
    #[serde(rename = "ClientVersion", borrow)]
    client_version: Raw<'a>,
    #[serde(rename = "CrossMailboxOperation", borrow)]
    cross_mailbox_operation: Raw<'a>,
    #[serde(rename = "CrossMailboxOperations", borrow)]
    cross_mailbox_operations: Raw<'a>,
    #[serde(rename = "Item", borrow)]
    item: Raw<'a>,
    #[serde(rename = "Folder", borrow)]
    folder: Raw<'a>,
    #[serde(rename = "DestFolder", borrow)]
    dest_folder: Raw<'a>,
    #[serde(rename = "Folders", borrow)]
    folders: Raw<'a>,
    #[serde(rename = "AffectedItems", borrow)]
    affected_items: Raw<'a>,
    #[serde(rename = "Messages", borrow)]
    messages: Raw<'a>,
    #[serde(rename = "OperationProperties", borrow)]
    operation_properties: Raw<'a>,
    #[serde(rename = "Parameters", borrow)]
    parameters: Raw<'a>,
}

impl<'a> AuditData<'a> {
    /// The object from its top-level members (`(key, value)`, keys unescaped), as serde
    /// reads it; `None` when a member it reads appears twice (serde refuses that object:
    /// the caller lets serde say so). Members are told by their keys' hashes, which the
    /// scan computed ([`Known`]): a name is compared only where its hash matches.
    fn from_members(text: &'a str, top: &'a canon::Top<'a>) -> Option<AuditData<'a>> {
        let known = Known::get();
        let mut d = AuditData::default();
        for m in top.members {
            let Some(i) = known.find(m.key_name, top.key(m)) else {
                continue;
            };
            let slot = d.slot(i);
            if slot.is_some() {
                return None;
            }
            *slot = Some(Json {
                text: text.get(m.value.clone())?,
                ends: Some(&top.ends),
                plain_string: m.plain_string,
            });
        }
        Some(d)
    }

    /// The member named [`KNOWN`]`[i]`.
    fn slot(&mut self, i: usize) -> &mut Raw<'a> {
        match i {
            0 => &mut self.id,
            1 => &mut self.record_type,
            2 => &mut self.creation_time,
            3 => &mut self.operation,
            4 => &mut self.workload,
            5 => &mut self.user_id,
            6 => &mut self.result_status,
            7 => &mut self.object_id,
            8 => &mut self.client_ip,
            9 => &mut self.client_ip_address,
            10 => &mut self.logon_type,
            11 => &mut self.logon_user_display_name,
            12 => &mut self.logon_user_sid,
            13 => &mut self.mailbox_owner_upn,
            14 => &mut self.mailbox_guid,
            15 => &mut self.client_info_string,
            16 => &mut self.client_machine_name,
            17 => &mut self.client_process_name,
            18 => &mut self.client_version,
            19 => &mut self.cross_mailbox_operation,
            20 => &mut self.cross_mailbox_operations,
            21 => &mut self.item,
            22 => &mut self.folder,
            23 => &mut self.dest_folder,
            24 => &mut self.folders,
            25 => &mut self.affected_items,
            26 => &mut self.messages,
            27 => &mut self.operation_properties,
            _ => &mut self.parameters,
        }
    }
}

/// The names of the members [`AuditData`] reads, in the order of [`AuditData::slot`] (a
/// test holds each to serde's name of its field).
const KNOWN: [&[u8]; 29] = [
    b"Id",
    b"RecordType",
    b"CreationTime",
    b"Operation",
    b"Workload",
    b"UserId",
    b"ResultStatus",
    b"ObjectId",
    b"ClientIP",
    b"ClientIPAddress",
    b"LogonType",
    b"LogonUserDisplayName",
    b"LogonUserSid",
    b"MailboxOwnerUPN",
    b"MailboxGuid",
    b"ClientInfoString",
    b"ClientMachineName",
    b"ClientProcessName",
    b"ClientVersion",
    b"CrossMailboxOperation",
    b"CrossMailboxOperations",
    b"Item",
    b"Folder",
    b"DestFolder",
    b"Folders",
    b"AffectedItems",
    b"Messages",
    b"OperationProperties",
    b"Parameters",
];

/// [`KNOWN`] by its names' fingerprints ([`canon::key_name`]): an open-addressed table of
/// [`Known::SLOTS`] slots, so that most of an AuditData's ~45 members, known or not, are
/// told apart by one compare of a hash instead of a name compared with each known one (in
/// profiles of a UAL summary: `from_members` ~5% of the samples before, ~2% after). With
/// 29 names in 256 slots (4 KiB) an unknown member rarely probes past its first slot (64
/// slots: 8% more of `from_members`' instructions).
struct Known {
    slots: [(u64, u8); Known::SLOTS],
}

impl Known {
    const EMPTY: u8 = u8::MAX;
    const SLOTS: usize = 256;

    fn get() -> &'static Known {
        static TABLE: std::sync::LazyLock<Known> = std::sync::LazyLock::new(|| {
            let mut slots = [(0, Known::EMPTY); Known::SLOTS];
            for (i, name) in KNOWN.iter().enumerate() {
                let hash = canon::key_name(name);
                let mut at = (hash % Known::SLOTS as u64) as usize;
                while slots[at].1 != Known::EMPTY {
                    at = (at + 1) % Known::SLOTS;
                }
                slots[at] = (hash, i as u8);
            }
            Known { slots }
        });
        &TABLE
    }

    /// The index in [`KNOWN`] of `name`, whose hash is `hash`.
    #[inline]
    fn find(&self, hash: u64, name: &[u8]) -> Option<usize> {
        let mut at = (hash % Known::SLOTS as u64) as usize;
        loop {
            let (h, i) = self.slots[at];
            if i == Known::EMPTY {
                return None;
            }
            let i = usize::from(i);
            if h == hash && crate::input::json_lex::same_name(KNOWN[i], name) {
                return Some(i);
            }
            at = (at + 1) % Known::SLOTS;
        }
    }
}

/// `Item`, an `AffectedItems[]` entry or a `FolderItems[]` entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ItemData<'a> {
    #[serde(rename = "Subject", borrow)]
    subject: Raw<'a>,
    #[serde(rename = "InternetMessageId", borrow)]
    internet_message_id: Raw<'a>,
    #[serde(rename = "ParentFolder", borrow)]
    parent_folder: Raw<'a>,
}

/// `Folder`, `DestFolder`, `ParentFolder` or a `Folders[]` entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct FolderData<'a> {
    #[serde(rename = "Path", borrow)]
    path: Raw<'a>,
    #[serde(rename = "FolderItems", borrow)]
    folder_items: Raw<'a>,
}

/// An `OperationProperties[]` or `Parameters[]` entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NameValue<'a> {
    #[serde(rename = "Name", borrow)]
    name: Raw<'a>,
    #[serde(rename = "Value", borrow)]
    value: Raw<'a>,
}

/// Why an AuditData text cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UalError {
    /// The text ends inside the object: cut (Excel's 32,767 characters, the ~3,062
    /// characters of some exports).
    Cut,
    /// Not JSON, or JSON but not an object.
    Invalid(String),
    /// A JSON object with none of an audit record's `Operation`, `Id` and `Workload`.
    NotARecord,
}

impl std::fmt::Display for UalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UalError::Cut => f.write_str("AuditData ends before its JSON object does (cut?)"),
            UalError::Invalid(why) => write!(f, "AuditData is not a JSON object: {why}"),
            UalError::NotARecord => f.write_str(
                "AuditData has no Operation, Id or Workload member: not an audit record",
            ),
        }
    }
}

fn json_error(e: &serde_json::Error) -> UalError {
    if e.is_eof() {
        UalError::Cut
    } else {
        UalError::Invalid(e.to_string())
    }
}

/// Parses one AuditData JSON object, maps it onto an [`AuditRecord`] and hands it to
/// `visitor` (with its dedup key): exactly one `visitor.record` call on success, none on
/// error. `Err` says why the bytes are not a readable AuditData object.
///
/// A JSON *string* holding the object (AuditData written as a string inside another JSON
/// document, as `ConvertTo-Json` does with `Search-UnifiedAuditLog` results) is read too.
pub fn visit_audit_data<V: Visitor + ?Sized>(
    json: &[u8],
    line: u64,
    visitor: &mut V,
) -> Result<(), String> {
    visit(json, line, visitor).map_err(|e| e.to_string())
}

/// [`visit_audit_data`], with the error kind (for the CSV reader's message).
pub(crate) fn visit<V: Visitor + ?Sized>(
    json: &[u8],
    line: u64,
    visitor: &mut V,
) -> Result<(), UalError> {
    let trimmed = json.trim_ascii();
    match trimmed.first() {
        Some(b'{') => visit_object(trimmed, line, visitor),
        Some(b'"') => {
            let inner: String = serde_json::from_slice(trimmed).map_err(|e| json_error(&e))?;
            if !inner.trim_start().starts_with('{') {
                return Err(UalError::Invalid(
                    "a string that holds no JSON object".into(),
                ));
            }
            visit_object(inner.trim_ascii().as_bytes(), line, visitor)
        }
        None => Err(UalError::Invalid("empty".into())),
        Some(_) => {
            // Say whether it is valid JSON of another kind, or no JSON at all.
            match serde_json::from_slice::<serde::de::IgnoredAny>(trimmed) {
                Ok(_) => Err(UalError::Invalid("valid JSON, but not an object".into())),
                Err(e) => Err(json_error(&e)),
            }
        }
    }
}

fn visit_object<V: Visitor + ?Sized>(
    json: &[u8],
    line: u64,
    visitor: &mut V,
) -> Result<(), UalError> {
    // One pass: checked as serde_json would read it, hashed for the key (content keys
    // only), its top-level members found. Anything that pass is unsure of goes to
    // serde_json, as before.
    let content = visitor.ual_keys() == UalKeys::Content;
    let done = canon::scan(
        json,
        reads_nested(visitor, false),
        content,
        |text, hash, top| {
            let d = AuditData::from_members(text, &top)?;
            if !is_record(&d) {
                return Some(false);
            }
            if encoded::any(&d) {
                return None; // members written as JSON strings: decoded below
            }
            let scanned = Scanned::Read {
                content: hash,
                text: top.xxh3,
            };
            map_and_visit(&d, json, line, visitor, None, scanned);
            Some(true)
        },
    );
    match done {
        Some(true) => return Ok(()),
        Some(false) => return Err(UalError::NotARecord),
        None => {}
    }
    let d: AuditData<'_> = serde_json::from_slice(json).map_err(|e| json_error(&e))?;
    if !is_record(&d) {
        return Err(UalError::NotARecord);
    }
    // Members written as JSON strings: read from the object with them decoded.
    if let Some(decoded) = encoded::decode(&d, json) {
        for warning in decoded.warnings {
            visitor.warn(line, warning);
        }
        if let Some(fixed) = decoded.json {
            let d: AuditData<'_> = serde_json::from_slice(&fixed).map_err(|e| json_error(&e))?;
            map_and_visit(&d, &fixed, line, visitor, None, Scanned::No);
            return Ok(());
        }
    }
    map_and_visit(&d, json, line, visitor, None, Scanned::No);
    Ok(())
}

/// Whether an object is an audit record: it has one of `Operation`, `Id` and `Workload`.
fn is_record(d: &AuditData<'_>) -> bool {
    [d.operation, d.id, d.workload]
        .iter()
        .any(|m| !text(*m).bytes.is_empty())
}

/// The columns of a UAL CSV row that a row with an unreadable AuditData is reported from.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CsvColumns<'c> {
    /// `CreationDate` / `createdDateTime`: the exporting machine's local time, or ISO.
    pub time: RawField<'c>,
    pub operation: RawField<'c>,
    pub user: RawField<'c>,
    pub record_type: RawField<'c>,
    pub identity: RawField<'c>,
    pub client_ip: RawField<'c>,
    pub workload: RawField<'c>,
}

/// Reports a CSV row whose AuditData is not a readable object (cut, most often): from
/// every complete top-level member before the cut (read as one object closed there: an
/// ExchangeItem's or MailItemsAccessed's mailbox, logon and client fields come first, so
/// they survive a cut at 3,062 characters), with the CSV columns filling what that lacks.
/// Without a `CreationTime`, the time is the CSV's, read in the user's zone. Always calls
/// `visitor.record` once, with `key` (the CSV row's).
pub(crate) fn visit_unreadable<V: Visitor + ?Sized>(
    json: &[u8],
    line: u64,
    visitor: &mut V,
    columns: &CsvColumns<'_>,
    key: &dyn OnDemand,
) {
    let mut repaired = Vec::new();
    if let Some(end) = complete_prefix(json) {
        repaired.reserve(end + 1);
        repaired.extend_from_slice(&json[..end]);
        repaired.push(b'}');
    }
    let d: AuditData<'_> = serde_json::from_slice(&repaired).unwrap_or_default();
    map_and_visit(
        &d,
        &repaired,
        line,
        visitor,
        Some((columns, key)),
        Scanned::No,
    );
}

/// The end of the last complete top-level member of a JSON object that is cut or broken
/// further on, so that `json[..end]` followed by `}` is an object; `None` when `json` does
/// not start an object. Members are found under the lexer's lenient rules, then each name
/// and value is checked to be JSON: the first damaged one ends the prefix, as a cut does.
fn complete_prefix(json: &[u8]) -> Option<usize> {
    let ws = |i: usize| skip_ascii_ws(json, i);
    let mut i = ws(0);
    if json.get(i) != Some(&b'{') {
        return None;
    }
    let mut end = i + 1;
    i = end;
    loop {
        i = ws(i);
        if json.get(i) != Some(&b'"') {
            return Some(end);
        }
        let Some((_, after_key)) = PLAIN.string_at(json, i) else {
            return Some(end);
        };
        let key = &json[i..after_key];
        i = ws(after_key);
        if json.get(i) != Some(&b':') {
            return Some(end);
        }
        let value_start = ws(i + 1);
        let Some(after_value) = skip_value(json, value_start) else {
            return Some(end);
        };
        // A damaged member (`"Broken":tru`) ends the prefix as a cut one does: the lexer
        // reads leniently, so each member is checked to be JSON.
        if !is_json(key) || !is_json(&json[value_start..after_value]) {
            return Some(end);
        }
        end = after_value;
        i = ws(after_value);
        if json.get(i) != Some(&b',') {
            return Some(end);
        }
        i += 1;
    }
}

/// True when `bytes` is one JSON value.
fn is_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
}

/// How [`complete_prefix`] reads strings and nesting.
const PLAIN: lex::Rules = lex::lenient(Quoting::Plain);

/// The position after the JSON value starting at `i`, if it is complete. A number or
/// literal that runs to the end of the text may be cut (`12` of `1234`): not complete.
fn skip_value(json: &[u8], i: usize) -> Option<usize> {
    match *json.get(i)? {
        b'"' => PLAIN.string_at(json, i).map(|(_, after)| after),
        b'{' | b'[' => PLAIN.skip_nested(json, i),
        _ => {
            let len = json[i..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())?;
            (len > 0).then_some(i + len)
        }
    }
}

/// Maps a parsed AuditData object onto a record and hands it to `visitor`. With
/// `fallback`, the object is what could be saved of a cut AuditData cell: the CSV
/// columns fill the fields it lacks, and the CSV row's key is used. `hash` is the
/// object's content hash when already known.
fn map_and_visit<V: Visitor + ?Sized>(
    d: &AuditData<'_>,
    json: &[u8],
    line: u64,
    visitor: &mut V,
    fallback: Option<(&CsvColumns<'_>, &dyn OnDemand)>,
    scanned: Scanned,
) {
    // A cut AuditData may have lost its RecordType: the CSV column tells the family then.
    let record_type = or(
        text(d.record_type),
        fallback.map_or(RawField::EMPTY, |(csv, _)| csv.record_type),
    );
    let family = Family::of(record_type.bytes);

    // Owned storage the record borrows for the one `visitor.record` call.
    let mut items: Vec<ItemView<'_>> = Vec::new();
    let mut subjects: Vec<RawField<'_>> = Vec::new();
    let mut parameters: Vec<u8> = Vec::new();
    // What the visitor reads decides which nested objects are read (a record kept for a
    // summary needs none of its messages); a record read to rescue a cut cell is read
    // whole.
    let needs = visitor.record_fields().union(visitor.kept_fields());
    let whole = fallback.is_some();
    let nested = reads_nested(visitor, whole);
    let mut object_name: Vec<u8> = Vec::new();
    let mailbox = match family {
        Family::Mailbox if nested => {
            // Every message for a visitor that keeps them or matches their subjects
            // (`--subject`); the lead one for the others, and how many for one that
            // counts them (triage, report).
            let messages = match visitor.kept_items() {
                _ if whole || visitor.matches_every_subject() => Messages::Every,
                KeptItems::Every => Messages::Every,
                KeptItems::Count => Messages::Lead { count: true },
                KeptItems::None => Messages::Lead { count: false },
            };
            mailbox_parts(d, messages, &mut items, &mut subjects)
        }
        Family::Mailbox => operation_properties(d),
        _ => MailboxParts::default(),
    };
    let rendered = whole || SUBJECTS.iter().any(|&f| needs.contains(f));
    match rendered_subject(family, text(d.operation)) {
        _ if !rendered => {}
        Some(Rendered::Parameters) => render_parameters(d.parameters, &mut parameters),
        Some(Rendered::OperationProperties) => {
            render_parameters(d.operation_properties, &mut parameters);
        }
        None => {}
    }

    let mut rec = AuditRecord::default();
    rec.time_is_utc = true;
    let user_id = text(d.user_id);
    let client_ip = text(d.client_ip);
    rec.set(Field::Operation, text(d.operation));
    rec.set(Field::LastAccessed, text(d.creation_time));
    rec.set(Field::RecordType, record_type);
    rec.set(Field::Workload, text(d.workload));
    rec.set(Field::UserId, user_id);
    rec.set(Field::Identity, text(d.id));
    rec.set(Field::OperationResult, text(d.result_status));
    rec.set(
        Field::LogonUserDisplayName,
        or(text(d.logon_user_display_name), user_id),
    );
    rec.set(
        Field::ClientIpAddress,
        or(text(d.client_ip_address), client_ip),
    );
    rec.set(Field::ClientIp, client_ip);
    match family {
        Family::Mailbox => {
            let owner = text(d.mailbox_owner_upn);
            rec.set(Field::LogonType, text(d.logon_type));
            rec.set(Field::LogonUserSid, text(d.logon_user_sid));
            rec.set(Field::MailboxOwnerUpn, owner);
            rec.set(Field::MailboxResolvedOwnerName, owner);
            rec.set(Field::MailboxGuid, text(d.mailbox_guid));
            rec.set(Field::ClientInfoString, text(d.client_info_string));
            rec.set(Field::ClientMachineName, text(d.client_machine_name));
            rec.set(Field::ClientProcessName, text(d.client_process_name));
            rec.set(Field::ClientVersion, text(d.client_version));
            rec.set(
                Field::CrossMailboxOperation,
                or(
                    text(d.cross_mailbox_operation),
                    text(d.cross_mailbox_operations),
                ),
            );
            rec.set(
                Field::ItemSubject,
                or(
                    mailbox.item_subject,
                    RawField::new(&parameters, Escape::None),
                ),
            );
            rec.set(Field::SourceItemSubjectsList, mailbox.lead_subject);
            rec.set(Field::InternetMessageId, mailbox.internet_message_id);
            rec.set(Field::FolderPathName, mailbox.folder);
            rec.set(Field::DestFolderPathName, mailbox.dest_folder);
            rec.set(Field::MailAccessType, mailbox.mail_access_type);
            rec.set(Field::IsThrottled, mailbox.is_throttled);
            rec.items = &items;
            rec.counted_items = mailbox.counted_items;
            rec.extra_subjects = &subjects;
        }
        Family::Admin => {
            let object = text(d.object_id);
            rec.set(Field::MailboxOwnerUpn, object);
            let mailbox = mailbox_of_object(object.unescaped_in(&mut object_name));
            rec.set(
                Field::MailboxResolvedOwnerName,
                RawField::new(mailbox, Escape::None),
            );
            rec.set(Field::ItemSubject, RawField::new(&parameters, Escape::None));
        }
        Family::Other => {}
    }
    if let Some((csv, key)) = fallback {
        if rec.get(Field::LastAccessed).is_empty() {
            rec.set(Field::LastAccessed, csv.time);
            // Export-Csv's local time; an ISO value with `Z` is UTC anyway.
            rec.time_is_utc = false;
        }
        for (field, value) in [
            (Field::Operation, csv.operation),
            (Field::UserId, csv.user),
            (Field::LogonUserDisplayName, csv.user),
            (Field::RecordType, csv.record_type),
            (Field::Identity, csv.identity),
            (Field::ClientIpAddress, csv.client_ip),
            (Field::ClientIp, csv.client_ip),
            (Field::Workload, csv.workload),
        ] {
            if rec.get(field).is_empty() {
                rec.set(field, value);
            }
        }
        visitor.record(&rec, key, line);
        return;
    }
    let key = UalKey {
        id: text(d.id),
        json,
        scanned,
        keys: visitor.ual_keys(),
    };
    visitor.record(&rec, &key, line);
}

/// Whether a mailbox record's nested objects are read for `visitor` (`whole`: a record
/// read to rescue a cut cell is read whole).
fn reads_nested<V: Visitor + ?Sized>(visitor: &V, whole: bool) -> bool {
    let needs = visitor.record_fields().union(visitor.kept_fields());
    whole || visitor.kept_items() != KeptItems::None || NESTED.iter().any(|&f| needs.contains(f))
}

/// A scalar JSON value as a field: a string's inside (zero copy), a number's text,
/// `true`/`false` as PowerShell writes them (`True`/`False`), `null` or absent as empty.
/// An object or array is kept as its JSON text.
fn text(raw: Raw<'_>) -> RawField<'_> {
    let Some(raw) = raw else {
        return RawField::EMPTY;
    };
    let s = raw.get().as_bytes().trim_ascii();
    match s {
        // A string the scan found written without escapes needs no look for them.
        [b'"', inside @ .., b'"'] if raw.plain_string => RawField::new(inside, Escape::None),
        [b'"', inside @ .., b'"'] => RawField::json(inside),
        b"null" => RawField::EMPTY,
        b"true" => RawField::new(b"True", Escape::None),
        b"false" => RawField::new(b"False", Escape::None),
        _ => RawField::new(s, Escape::None),
    }
}

/// `a` unless it is empty, else `b`.
fn or<'a>(a: RawField<'a>, b: RawField<'a>) -> RawField<'a> {
    if a.is_empty() {
        b
    } else {
        a
    }
}

/// A nested object, or its default when absent or not an object (read by
/// [`nested::object`], else serde_json).
fn object<'a, T: Deserialize<'a> + nested::Slots<'a>>(raw: Raw<'a>) -> T {
    match raw {
        Some(r) if r.get().trim_start().starts_with('{') => {
            nested::object(r).unwrap_or_else(|| serde_json::from_str(r.get()).unwrap_or_default())
        }
        _ => T::default(),
    }
}

/// A nested array's elements, or none when absent or not an array (read by
/// [`nested::array`], else serde_json).
fn array(raw: Raw<'_>) -> Vec<Json<'_>> {
    match raw {
        Some(r) if r.get().trim_start().starts_with('[') => {
            nested::array(r).unwrap_or_else(|| serde_json::from_str(r.get()).unwrap_or_default())
        }
        _ => Vec::new(),
    }
}

/// A nested array's elements each read as [`object`] reads one (an element that is not an
/// object: the default), or none when absent or not an array.
fn objects<'a, T: Deserialize<'a> + nested::Slots<'a>>(raw: Raw<'a>) -> Vec<T> {
    let serde_object = |text: &'a str| serde_json::from_str(text).unwrap_or_default();
    match raw {
        Some(r) if r.get().trim_start().starts_with('[') => nested::objects(r, serde_object)
            .unwrap_or_else(|| array(raw).into_iter().map(|e| object(Some(e))).collect()),
        _ => Vec::new(),
    }
}

/// The dedup key of a UAL record: its `Id` plus the content of the whole object, so that
/// the same record read from a CSV and from a JSON export counts once, while two records
/// that share an Id but differ are both kept.
struct UalKey<'a> {
    id: RawField<'a>,
    /// The AuditData object's bytes.
    json: &'a [u8],
    scanned: Scanned,
    keys: UalKeys,
}

/// Whether a record's AuditData was read by the one-pass scan ([`canon::scan`]), and the
/// content hash that pass computed (with [`UalKeys::Content`]) or the xxh3 of its text
/// it took on the way (with [`UalKeys::Text`], where it could: [`canon::Top::xxh3`]).
#[derive(Clone, Copy)]
enum Scanned {
    No,
    Read {
        content: Option<u128>,
        text: Option<u64>,
    },
}

/// The seed of an `Id`'s hash in a [`UalKeys::Text`] key.
const ID_SEED: u64 = 0x7561_6c5f_6964; // "ual_id"

impl OnDemand for UalKey<'_> {
    fn utf8_checked(&self) -> bool {
        // Read by the one-pass scan: its text is UTF-8 and every escape in it decodes to
        // a character (a lone surrogate sends the object to serde_json), so no field
        // taken from it can hold invalid UTF-8.
        matches!(self.scanned, Scanned::Read { .. })
    }

    fn event_json(&self, out: &mut Vec<u8>) -> bool {
        out.extend_from_slice(self.json);
        true
    }

    fn event_key(&self) -> EventKey {
        let id = self.id.unescaped();
        if self.keys == UalKeys::Text && !id.is_empty() {
            let text = match self.scanned {
                Scanned::Read {
                    text: Some(hash), ..
                } => hash,
                _ => crate::fingerprint::text(self.json),
            };
            let id = xxh3_64_with_seed(&id, ID_SEED);
            return EventKey::Whole((u128::from(id) << 64) | u128::from(text));
        }
        let mut h = Xxh3::new();
        h.update(b"ual\0");
        h.update(&id);
        h.update(b"\0");
        let content = match self.scanned {
            Scanned::Read {
                content: Some(hash),
                ..
            } => hash,
            _ => content_hash(self.json),
        };
        h.update(&content.to_le_bytes());
        // The time is part of the content: the key is complete.
        EventKey::Whole(h.digest128())
    }
}

/// Counts the characters of `bytes` (UTF-8; bytes when not UTF-8), for messages.
pub(crate) fn char_count(bytes: &[u8]) -> usize {
    std::str::from_utf8(bytes).map_or(bytes.len(), |s| s.chars().count())
}

mod canon;
mod encoded;
pub(crate) mod fast;
mod messages;
mod nested;
mod parts;

use canon::content_hash;
use parts::{
    mailbox_of_object, mailbox_parts, operation_properties, render_parameters, MailboxParts,
    Messages, NESTED, SUBJECTS,
};
pub(crate) use parts::{rendered_subject, Rendered};

#[cfg(test)]
mod tests;
