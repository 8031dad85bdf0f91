//! The one record model every reader maps onto.
//!
//! Readers never build owned strings for the rows they read: they hand the filter an
//! [`AuditRecord`], a set of borrowed [`RawField`]s pointing into the (memory-mapped or
//! decoded) input. Only rows that survive every filter are copied into an
//! [`OwnedRecord`], the form the report writers and the merge/sort stage work on.

use std::borrow::Cow;

use crate::datetime::Timestamp;

mod csv_quotes;
mod decoded;
mod json_unescape;

pub(crate) use csv_quotes::find_quote;
use csv_quotes::unescape_csv_into;
pub use json_unescape::unescape_json_into;

pub use decoded::{has_invalid_utf8, invalid_utf8, Decoded};

/// The normalised fields mbxaudit knows, whatever the export they come from.
///
/// The names are those of `Search-MailboxAuditLog` objects; other formats map onto them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[repr(u8)]
pub enum Field {
    Operation,
    OperationResult,
    LogonType,
    LogonUserDisplayName,
    LogonUserSid,
    LastAccessed,
    DestFolderPathName,
    FolderPathName,
    ClientInfoString,
    ClientIpAddress,
    ClientIp,
    ClientMachineName,
    ClientProcessName,
    ClientVersion,
    MailboxOwnerUpn,
    MailboxResolvedOwnerName,
    MailboxGuid,
    CrossMailboxOperation,
    ItemSubject,
    SourceItemSubjectsList,
    /// The `Subject` column of a report mbxaudit (or the seed script) already wrote.
    Subject,
    /// The `CrossMailboxOp` column of a report mbxaudit (or the seed script) already wrote.
    CrossMailboxOp,
    Identity,
    /// Unified Audit Log: the record type, as its number or its name (`2`, `ExchangeItem`).
    RecordType,
    /// Unified Audit Log: the service that wrote the record (`Exchange`, `AzureActiveDirectory`...).
    Workload,
    /// Unified Audit Log: the acting user's id (UPN), used when there is no display name.
    UserId,
    /// The message's Internet Message-ID (`Item.InternetMessageId`).
    InternetMessageId,
    /// MailItemsAccessed: `Bind` or `Sync` (from OperationProperties `MailAccessType`).
    MailAccessType,
    /// MailItemsAccessed: `True` when Exchange stopped logging for this mailbox (throttled).
    IsThrottled,
    /// The client address's country (ISO 3166-1 alpha-2), from `--geoip` databases.
    ClientIpCountry,
    /// The client address's autonomous system number (no `AS`), from `--geoip`.
    ClientIpAsn,
    /// The client address's autonomous system organisation, from `--geoip`.
    ClientIpAsOrg,
    /// The label of the `--ip-list` entry the client address (or its ASN) falls in.
    ClientIpFlag,
}

/// Number of [`Field`] variants.
pub const FIELD_COUNT: usize = Field::ClientIpFlag as usize + 1;

/// The fields offline IP enrichment fills (`--geoip`, `--ip-list`).
pub const ENRICHMENT: [Field; 4] = [
    Field::ClientIpCountry,
    Field::ClientIpAsn,
    Field::ClientIpAsOrg,
    Field::ClientIpFlag,
];

/// A set of [`Field`]s (which fields a quick look at a record must read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldSet(u64);

const _: () = assert!(FIELD_COUNT <= 64, "FieldSet holds one bit a field");

impl FieldSet {
    pub const EMPTY: FieldSet = FieldSet(0);
    pub const ALL: FieldSet = FieldSet(u64::MAX);

    #[must_use]
    pub const fn with(self, field: Field) -> FieldSet {
        FieldSet(self.0 | 1 << field as u64)
    }

    #[must_use]
    pub fn with_all(self, fields: &[Field]) -> FieldSet {
        fields.iter().fold(self, |s, &f| s.with(f))
    }

    pub const fn contains(self, field: Field) -> bool {
        self.0 & (1 << field as u64) != 0
    }

    #[must_use]
    pub const fn union(self, other: FieldSet) -> FieldSet {
        FieldSet(self.0 | other.0)
    }

    /// The fields of the set, in [`Field`] order.
    pub fn fields(self) -> impl Iterator<Item = Field> {
        Field::ALL.into_iter().filter(move |&f| self.contains(f))
    }

    /// How many fields the set holds.
    pub fn count(self) -> usize {
        self.bits().count_ones() as usize
    }

    /// Bit `i`: field `i` is in the set (the bits past the last field cleared).
    fn bits(self) -> u64 {
        self.0 & (u64::MAX >> (64 - FIELD_COUNT))
    }
}

impl Field {
    /// Every field, in declaration order.
    pub const ALL: [Field; FIELD_COUNT] = [
        Field::Operation,
        Field::OperationResult,
        Field::LogonType,
        Field::LogonUserDisplayName,
        Field::LogonUserSid,
        Field::LastAccessed,
        Field::DestFolderPathName,
        Field::FolderPathName,
        Field::ClientInfoString,
        Field::ClientIpAddress,
        Field::ClientIp,
        Field::ClientMachineName,
        Field::ClientProcessName,
        Field::ClientVersion,
        Field::MailboxOwnerUpn,
        Field::MailboxResolvedOwnerName,
        Field::MailboxGuid,
        Field::CrossMailboxOperation,
        Field::ItemSubject,
        Field::SourceItemSubjectsList,
        Field::Subject,
        Field::CrossMailboxOp,
        Field::Identity,
        Field::RecordType,
        Field::Workload,
        Field::UserId,
        Field::InternetMessageId,
        Field::MailAccessType,
        Field::IsThrottled,
        Field::ClientIpCountry,
        Field::ClientIpAsn,
        Field::ClientIpAsOrg,
        Field::ClientIpFlag,
    ];

    /// The column name used by `Search-MailboxAuditLog | Export-Csv` (and by our reports).
    pub fn name(self) -> &'static str {
        match self {
            Field::Operation => "Operation",
            Field::OperationResult => "OperationResult",
            Field::LogonType => "LogonType",
            Field::LogonUserDisplayName => "LogonUserDisplayName",
            Field::LogonUserSid => "LogonUserSid",
            Field::LastAccessed => "LastAccessed",
            Field::DestFolderPathName => "DestFolderPathName",
            Field::FolderPathName => "FolderPathName",
            Field::ClientInfoString => "ClientInfoString",
            Field::ClientIpAddress => "ClientIPAddress",
            Field::ClientIp => "ClientIP",
            Field::ClientMachineName => "ClientMachineName",
            Field::ClientProcessName => "ClientProcessName",
            Field::ClientVersion => "ClientVersion",
            Field::MailboxOwnerUpn => "MailboxOwnerUPN",
            Field::MailboxResolvedOwnerName => "MailboxResolvedOwnerName",
            Field::MailboxGuid => "MailboxGuid",
            Field::CrossMailboxOperation => "CrossMailboxOperation",
            Field::ItemSubject => "ItemSubject",
            Field::SourceItemSubjectsList => "SourceItemSubjectsList",
            Field::Subject => "Subject",
            Field::CrossMailboxOp => "CrossMailboxOp",
            Field::Identity => "Identity",
            Field::RecordType => "RecordType",
            Field::Workload => "Workload",
            Field::UserId => "UserId",
            Field::InternetMessageId => "InternetMessageId",
            Field::MailAccessType => "MailAccessType",
            Field::IsThrottled => "IsThrottled",
            Field::ClientIpCountry => "ClientIPCountry",
            Field::ClientIpAsn => "ClientIPASN",
            Field::ClientIpAsOrg => "ClientIPASOrg",
            Field::ClientIpFlag => "ClientIPFlag",
        }
    }

    /// Finds the field a column header names (case-insensitive, surrounding spaces ignored).
    pub fn from_header(name: &[u8]) -> Option<Field> {
        let name = name.trim_ascii();
        Field::ALL
            .into_iter()
            .find(|f| f.name().as_bytes().eq_ignore_ascii_case(name))
    }
}

/// The family of a record, from its `RecordType` (number or name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Mailbox,
    Admin,
    Other,
}

impl Family {
    /// Records without a RecordType (legacy mailbox audit exports) are mailbox records.
    pub fn of(record_type: &[u8]) -> Family {
        let t = integral(record_type.trim_ascii());
        const MAILBOX: [&[u8]; 8] = [
            b"2",
            b"3",
            b"50",
            b"19",
            b"ExchangeItem",
            b"ExchangeItemGroup",
            b"ExchangeItemAggregated",
            b"ExchangeAggregatedOperation",
        ];
        if t.is_empty() || MAILBOX.iter().any(|m| m.eq_ignore_ascii_case(t)) {
            Family::Mailbox
        } else if t == b"1" || t.eq_ignore_ascii_case(b"ExchangeAdmin") {
            Family::Admin
        } else {
            Family::Other
        }
    }
}

/// Names of Exchange's `LogonType` enum, as `ConvertTo-Json` numbers them.
pub const LOGON_TYPE_NAMES: [&str; 7] = [
    "Owner",
    "Admin",
    "Delegate",
    "Transport",
    "SystemService",
    "BestAccess",
    "DelegatedAdmin",
];

/// The logon type's name, whether written as text or as the enum's number.
pub fn logon_type_name(value: &[u8]) -> &[u8] {
    let v = integral(value.trim_ascii());
    match v {
        [d @ b'0'..=b'6'] => LOGON_TYPE_NAMES[usize::from(d - b'0')].as_bytes(),
        _ if v.eq_ignore_ascii_case(b"Delegated") => b"Delegate",
        _ => v,
    }
}

/// A whole number written as a float (`2.0`, `1.00`: pandas and some SIEM exports write
/// integer codes so) as its digits (`2`, `1`); anything else as it is.
pub fn integral(value: &[u8]) -> &[u8] {
    match value.iter().position(|&b| b == b'.') {
        Some(dot)
            if dot > 0
                && value[..dot].iter().all(u8::is_ascii_digit)
                && value.len() > dot + 1
                && value[dot + 1..].iter().all(|&b| b == b'0') =>
        {
            &value[..dot]
        }
        _ => value,
    }
}

/// A warning for a record whose LogonType or RecordType is a number with a fraction
/// (`2.5`): it names no logon or record type, and is read as the text it is.
pub fn fractional_code_warning(rec: &AuditRecord<'_>) -> Option<String> {
    [
        (Field::LogonType, "LogonType"),
        (Field::RecordType, "RecordType"),
    ]
    .into_iter()
    .find_map(|(field, name)| {
        let v = rec.get(field).bytes.trim_ascii();
        let (whole, fraction) = v.split_at(v.iter().position(|&b| b == b'.')?);
        let digits = |d: &[u8]| !d.is_empty() && d.iter().all(u8::is_ascii_digit);
        (digits(whole) && digits(&fraction[1..]) && integral(v) == v).then(|| {
            format!(
                "{name} '{}' is not a whole number, so it names no {}: read as text",
                String::from_utf8_lossy(v),
                if field == Field::LogonType {
                    "logon type"
                } else {
                    "record type"
                }
            )
        })
    })
}

/// How the bytes of a [`RawField`] are escaped in the source.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Escape {
    /// The bytes are the value.
    #[default]
    None,
    /// A quoted CSV field: every `""` in it stands for one `"` (it may hold none).
    CsvQuotes,
    /// The inside of a JSON string (without its quotes): backslash escapes to resolve.
    Json,
}

/// One field value as it lies in the input, not yet unescaped or checked for UTF-8.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct RawField<'a> {
    pub bytes: &'a [u8],
    pub escape: Escape,
}

impl<'a> RawField<'a> {
    pub const EMPTY: RawField<'static> = RawField {
        bytes: b"",
        escape: Escape::None,
    };

    pub fn new(bytes: &'a [u8], escape: Escape) -> Self {
        RawField { bytes, escape }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The unescaped bytes; borrowed unless an escape had to be resolved.
    pub fn unescaped(&self) -> Cow<'a, [u8]> {
        match self.escape {
            Escape::None => Cow::Borrowed(self.bytes),
            Escape::CsvQuotes if find_quote(self.bytes).is_none() => Cow::Borrowed(self.bytes),
            Escape::CsvQuotes => {
                let mut out = Vec::with_capacity(self.bytes.len());
                unescape_csv_into(self.bytes, &mut out);
                Cow::Owned(out)
            }
            Escape::Json => {
                let mut out = Vec::with_capacity(self.bytes.len());
                unescape_json_into(self.bytes, &mut out);
                Cow::Owned(out)
            }
        }
    }

    /// Appends the unescaped bytes to `out`.
    pub fn unescape_into(&self, out: &mut Vec<u8>) {
        match self.escape {
            Escape::None => out.extend_from_slice(self.bytes),
            Escape::CsvQuotes => unescape_csv_into(self.bytes, out),
            Escape::Json => unescape_json_into(self.bytes, out),
        }
    }

    /// The unescaped bytes, using `scratch` when an escape has to be resolved.
    pub fn unescaped_in<'s>(&self, scratch: &'s mut Vec<u8>) -> &'s [u8]
    where
        'a: 's,
    {
        match self.escape {
            Escape::None => self.bytes,
            Escape::CsvQuotes if find_quote(self.bytes).is_none() => self.bytes,
            Escape::CsvQuotes => {
                scratch.clear();
                unescape_csv_into(self.bytes, scratch);
                scratch
            }
            Escape::Json => {
                scratch.clear();
                unescape_json_into(self.bytes, scratch);
                scratch
            }
        }
    }

    /// A field from the raw text of a JSON string's inside (no quotes): borrowed as is,
    /// marked for unescaping only when it holds a backslash.
    pub fn json(inside: &'a [u8]) -> Self {
        let escape = if memchr::memchr(b'\\', inside).is_some() {
            Escape::Json
        } else {
            Escape::None
        };
        RawField::new(inside, escape)
    }

    /// Compares with `other`, ignoring ASCII case. Escaped quotes never occur in the
    /// names this is used for (operations, logon types), so the raw bytes are compared.
    pub fn eq_ignore_ascii_case(&self, other: &[u8]) -> bool {
        self.bytes.trim_ascii().eq_ignore_ascii_case(other)
    }
}

/// One message a record touched (MailItemsAccessed folder items, group records' affected
/// items), for `--expand-items` and for matching `--subject` against every item.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ItemView<'a> {
    pub folder: RawField<'a>,
    pub internet_message_id: RawField<'a>,
    pub subject: RawField<'a>,
}

/// An owned [`ItemView`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Item {
    pub folder: Box<str>,
    pub internet_message_id: Box<str>,
    pub subject: Box<str>,
}

/// Where a record came from: the index of its input file and its first physical line.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct SourcePos {
    pub file: u32,
    pub line: u64,
}

/// A borrowed view of one input record, in normalised fields. Absent fields are empty.
#[derive(Clone, Debug)]
pub struct AuditRecord<'a> {
    fields: [RawField<'a>; FIELD_COUNT],
    /// True when a `LastAccessed` without offset is UTC (Unified Audit Log `CreationTime`),
    /// not the exporting machine's local time.
    pub time_is_utc: bool,
    /// Subjects of further items (`--subject` matches any of them, or [`Self::subject`]).
    pub extra_subjects: &'a [RawField<'a>],
    /// The messages the record touched, for `--expand-items`.
    pub items: &'a [ItemView<'a>],
    /// How many messages the record touched when a reader counted them without reading
    /// them (`items` is then empty); `None`: `items` holds them all.
    pub counted_items: Option<usize>,
}

impl Default for AuditRecord<'_> {
    fn default() -> Self {
        AuditRecord {
            fields: [RawField::EMPTY; FIELD_COUNT],
            time_is_utc: false,
            extra_subjects: &[],
            items: &[],
            counted_items: None,
        }
    }
}

impl<'a> AuditRecord<'a> {
    /// How many messages the record touched (see [`AuditRecord::counted_items`]).
    pub fn message_count(&self) -> usize {
        self.counted_items.unwrap_or(self.items.len())
    }

    pub fn get(&self, field: Field) -> RawField<'a> {
        self.fields[field as usize]
    }

    pub fn set(&mut self, field: Field, value: RawField<'a>) {
        self.fields[field as usize] = value;
    }

    /// The item subject the seed script reports: a report's own `Subject` column, else the
    /// source items' subjects (left-trimmed of spaces, as `TrimStart(' ')`), else `ItemSubject`.
    ///
    /// `SourceItemSubjectsList` joins several subjects with commas; it is kept whole, since
    /// a subject may itself contain a comma.
    pub fn subject(&self) -> RawField<'a> {
        let own = self.get(Field::Subject);
        if !own.is_empty() {
            return own;
        }
        let source = self.get(Field::SourceItemSubjectsList);
        let trimmed = trim_start_spaces(source.bytes);
        if !trimmed.is_empty() {
            return RawField::new(trimmed, source.escape);
        }
        self.get(Field::ItemSubject)
    }

    /// Copies the record out of the input, replacing invalid UTF-8 with U+FFFD; the items
    /// are copied only `with_items`. Returns the owned record and whether any replacement
    /// was made.
    pub fn to_owned_record(
        &self,
        time: Timestamp,
        pos: SourcePos,
        with_items: bool,
    ) -> (OwnedRecord, bool) {
        let total: usize = self.fields.iter().map(|f| f.bytes.len()).sum();
        let mut text = String::with_capacity(total);
        let mut ends = [0u32; FIELD_COUNT];
        let mut lossy = false;
        let mut scratch = Vec::new();
        for (i, field) in self.fields.iter().enumerate() {
            let bytes = field.unescaped_in(&mut scratch);
            match std::str::from_utf8(bytes) {
                Ok(s) => text.push_str(s),
                Err(_) => {
                    lossy = true;
                    text.push_str(&String::from_utf8_lossy(bytes));
                }
            }
            ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
        }
        let mut own = |f: &RawField<'_>| -> Box<str> {
            let bytes = f.unescaped();
            match String::from_utf8(bytes.into_owned()) {
                Ok(s) => s.into_boxed_str(),
                Err(e) => {
                    lossy = true;
                    String::from_utf8_lossy(e.as_bytes()).into()
                }
            }
        };
        let items = if with_items {
            self.items
                .iter()
                .map(|i| Item {
                    folder: own(&i.folder),
                    internet_message_id: own(&i.internet_message_id),
                    subject: own(&i.subject),
                })
                .collect()
        } else {
            Vec::new()
        };
        (OwnedRecord::new(text, ends, time, pos, items), lossy)
    }
}

fn trim_start_spaces(bytes: &[u8]) -> &[u8] {
    let n = bytes.iter().take_while(|&&b| b == b' ').count();
    &bytes[n..]
}

/// A kept record, copied out of the input: all normalised fields in one string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedRecord {
    text: Box<str>,
    ends: [u32; FIELD_COUNT],
    /// The event time in UTC.
    pub time: Timestamp,
    pub pos: SourcePos,
    /// The messages touched, when `--expand-items` asked for them.
    pub items: Vec<Item>,
    /// The rules this row matched when it was read (see `pipeline::Tagger`), ascending.
    pub tags: Box<[u32]>,
}

impl OwnedRecord {
    /// A record of `text`, which holds the fields in [`Field`] order, field `i` ending at
    /// byte `ends[i]` (and starting where the one before it ends); no tags.
    fn new(
        text: String,
        ends: [u32; FIELD_COUNT],
        time: Timestamp,
        pos: SourcePos,
        items: Vec<Item>,
    ) -> OwnedRecord {
        OwnedRecord {
            text: text.into_boxed_str(),
            ends,
            time,
            pos,
            items,
            tags: Box::default(),
        }
    }

    pub fn get(&self, field: Field) -> &str {
        self.view().get(field)
    }

    /// See [`AuditRecord::subject`].
    pub fn subject(&self) -> &str {
        Fields::subject(self)
    }

    /// The seed script's `CrossMailboxOp`: `N/A` for SendAs, Create and Update, else
    /// `CrossMailboxOperation` (or the column of a report read back).
    pub fn cross_mailbox_op(&self) -> &str {
        Fields::cross_mailbox_op(self)
    }

    /// A record of `fields` (`(field, text)` in [`Field`] order; the others empty), for
    /// rows rebuilt from compact storage.
    pub fn from_parts(
        fields: &[(Field, &str)],
        time: Timestamp,
        pos: SourcePos,
        items: Vec<Item>,
    ) -> OwnedRecord {
        let total: usize = fields.iter().map(|(_, t)| t.len()).sum();
        let mut text = String::with_capacity(total);
        let mut ends = [0u32; FIELD_COUNT];
        let mut next = 0usize;
        for &(field, value) in fields {
            let i = field as usize;
            let filled = u32::try_from(text.len()).unwrap_or(u32::MAX);
            for end in ends.iter_mut().take(i).skip(next) {
                *end = filled;
            }
            text.push_str(value);
            ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
            next = i + 1;
        }
        let filled = u32::try_from(text.len()).unwrap_or(u32::MAX);
        for end in ends.iter_mut().skip(next) {
            *end = filled;
        }
        OwnedRecord::new(text, ends, time, pos, items)
    }
}

impl OwnedRecord {
    /// The record as the writers read it.
    pub fn view(&self) -> RowView<'_> {
        RowView {
            text: &self.text,
            ends: &self.ends,
            time: self.time,
            pos: self.pos,
            items: &self.items,
            tags: &self.tags,
        }
    }
}

/// A kept row as the writers read it: borrowed from an [`OwnedRecord`] ([`OwnedRecord::view`])
/// or, without a copy, from the block the row was kept in (its fields' ends and messages
/// decoded into a [`RowScratch`]).
#[derive(Clone, Copy, Debug)]
pub struct RowView<'a> {
    /// The fields in [`Field`] order, field `i` ending at byte `ends[i]`.
    text: &'a str,
    ends: &'a [u32; FIELD_COUNT],
    /// The event time in UTC.
    pub time: Timestamp,
    pub pos: SourcePos,
    /// The messages touched, when `--expand-items` asked for them.
    pub items: &'a [Item],
    /// The rules this row matched when it was read, ascending.
    pub tags: &'a [u32],
}

impl<'a> RowView<'a> {
    /// A view of `text`, whose fields end where `scratch` says ([`RowScratch::set_ends`]).
    pub fn new(text: &'a str, scratch: &'a RowScratch, time: Timestamp, pos: SourcePos) -> Self {
        RowView {
            text,
            ends: &scratch.ends,
            time,
            pos,
            items: &scratch.items,
            tags: &scratch.tags,
        }
    }

    /// A row of no fields.
    pub fn empty(time: Timestamp, pos: SourcePos, scratch: &'a mut RowScratch) -> Self {
        scratch.set_ends(FieldSet::EMPTY, &[], 0);
        scratch.items.clear();
        scratch.tags.clear();
        RowView::new("", scratch, time, pos)
    }

    pub fn get(&self, field: Field) -> &'a str {
        let i = field as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends[i] as usize;
        self.text.get(start..end).unwrap_or_default()
    }

    /// See [`AuditRecord::subject`].
    pub fn subject(&self) -> &str {
        Fields::subject(self)
    }

    /// See [`Fields::cross_mailbox_op`].
    pub fn cross_mailbox_op(&self) -> &str {
        Fields::cross_mailbox_op(self)
    }

    /// The row, copied out.
    pub fn to_owned_record(&self) -> OwnedRecord {
        OwnedRecord {
            text: Box::from(self.text),
            ends: *self.ends,
            time: self.time,
            pos: self.pos,
            items: self.items.to_vec(),
            tags: Box::from(self.tags),
        }
    }
}

impl Fields for RowView<'_> {
    fn get(&self, field: Field) -> &str {
        RowView::get(self, field)
    }

    fn tags(&self) -> &[u32] {
        self.tags
    }
}

/// A batch of rows each read where it is written, as a [`RowView`] into the writing
/// thread's [`RowScratch`], instead of all copied out first.
pub trait RowSource: Sync {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i` (`i < len()`).
    fn row<'s>(&'s self, i: usize, scratch: &'s mut RowScratch) -> RowView<'s>;

    /// How many lines row `i` is written on: one per message it carries, at least one.
    fn lines(&self, i: usize) -> usize;
}

/// What a [`RowView`] of a row kept in compact storage borrows besides its text: its
/// fields' ends, messages and tags, decoded on the writing thread and reused row to row.
#[derive(Debug)]
pub struct RowScratch {
    ends: [u32; FIELD_COUNT],
    pub items: Vec<Item>,
    pub tags: Vec<u32>,
    /// A row's text when it had to be repaired (invalid UTF-8 replaced).
    pub repaired: String,
}

impl Default for RowScratch {
    fn default() -> Self {
        RowScratch {
            ends: [0; FIELD_COUNT],
            items: Vec::new(),
            tags: Vec::new(),
            repaired: String::new(),
        }
    }
}

impl RowScratch {
    /// The row of `text` whose ends, messages and tags this scratch holds, owned.
    pub fn into_record(self, text: String, time: Timestamp, pos: SourcePos) -> OwnedRecord {
        let mut rec = OwnedRecord::new(text, self.ends, time, pos, self.items);
        rec.tags = self.tags.into_boxed_slice();
        rec
    }

    /// The ends of `fields` whose values are back to back in a text of `len` bytes,
    /// `lens[k]` bytes for the k-th field of the set (the others empty).
    pub fn set_ends(&mut self, fields: FieldSet, lens: &[usize], len: usize) {
        self.ends = ends_of(fields, lens, len);
    }
}

/// The ends of the fields of a text of `len` bytes (see [`RowScratch::set_ends`]).
fn ends_of(fields: FieldSet, lens: &[usize], len: usize) -> [u32; FIELD_COUNT] {
    let mut ends = [0u32; FIELD_COUNT];
    let at = |end: usize| u32::try_from(end.min(len)).unwrap_or(u32::MAX);
    // Field by field of the set (its bits, in `Field` order); each field not in it ends
    // where the one before it does.
    let mut bits = fields.bits();
    let (mut end, mut filled) = (0usize, 0usize);
    for &field_len in lens {
        if bits == 0 {
            break;
        }
        let i = bits.trailing_zeros() as usize;
        bits &= bits - 1;
        ends[filled..i].fill(at(end));
        end = end.saturating_add(field_len);
        ends[i] = at(end);
        filled = i + 1;
    }
    ends[filled..].fill(at(end));
    ends
}

/// Named access to a row's normalised fields, whatever holds them (an [`OwnedRecord`],
/// a [`Decoded`] record, a row rebuilt from compact storage), and the two values the
/// seed script derives from them.
pub trait Fields {
    /// The field's text (empty when absent).
    fn get(&self, field: Field) -> &str;

    /// See [`AuditRecord::subject`].
    fn subject(&self) -> &str {
        let own = self.get(Field::Subject);
        if !own.is_empty() {
            return own;
        }
        let source = self
            .get(Field::SourceItemSubjectsList)
            .trim_start_matches(' ');
        if !source.is_empty() {
            return source;
        }
        self.get(Field::ItemSubject)
    }

    /// The seed script's `CrossMailboxOp`: `N/A` for SendAs, Create and Update, else
    /// `CrossMailboxOperation` (or the column of a report read back).
    fn cross_mailbox_op(&self) -> &str {
        let own = self.get(Field::CrossMailboxOp);
        if !own.is_empty() {
            return own;
        }
        let op = self.get(Field::Operation).trim();
        if ["SendAs", "Create", "Update"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(op))
        {
            "N/A"
        } else {
            self.get(Field::CrossMailboxOperation)
        }
    }

    /// The rules the row matched when it was read (see `pipeline::Tagger`), ascending;
    /// empty when none or not kept.
    fn tags(&self) -> &[u32] {
        &[]
    }
}

impl Fields for OwnedRecord {
    fn get(&self, field: Field) -> &str {
        OwnedRecord::get(self, field)
    }

    fn tags(&self) -> &[u32] {
        &self.tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The fields' ends, set bit by bit, are those of the field-by-field rule: a
        /// field of the set ends its length after the one before, any other where the
        /// one before ends, none past the text.
        #[test]
        fn ends_are_the_field_by_field_rule(
            bits in proptest::prelude::any::<u64>(),
            lens in proptest::collection::vec(0..50usize, 0..70),
            len in 0..800usize,
        ) {
            let fields = FieldSet(bits);
            let mut want = [0u32; FIELD_COUNT];
            let (mut end, mut k) = (0usize, 0);
            for (i, field) in Field::ALL.into_iter().enumerate() {
                if fields.contains(field) {
                    end += lens.get(k).copied().unwrap_or(0);
                    k += 1;
                }
                want[i] = end.min(len) as u32;
            }
            proptest::prop_assert_eq!(ends_of(fields, &lens, len), want);
            proptest::prop_assert_eq!(fields.count(), fields.fields().count());
        }
    }

    #[test]
    fn integral_floats_are_whole_numbers() {
        assert_eq!(integral(b"2.0"), b"2");
        assert_eq!(integral(b"13.000"), b"13");
        for same in [&b"2"[..], b"2.5", b".0", b"2.", b"a.0", b"1.0e3", b""] {
            assert_eq!(integral(same), same);
        }
        assert_eq!(logon_type_name(b" 1.0 "), b"Admin");
        assert_eq!(Family::of(b"1.0"), Family::Admin);
        assert_eq!(Family::of(b"50.0"), Family::Mailbox);
        let mut rec = AuditRecord::default();
        rec.set(Field::LogonType, RawField::new(b"2.5", Escape::None));
        assert!(fractional_code_warning(&rec).is_some_and(|w| w.contains("'2.5'")));
        rec.set(Field::LogonType, RawField::new(b"2.0", Escape::None));
        assert_eq!(fractional_code_warning(&rec), None);
    }

    #[test]
    fn unescapes_doubled_quotes() {
        let f = RawField::new(br#"He said ""hi"""#, Escape::CsvQuotes);
        assert_eq!(&*f.unescaped(), br#"He said "hi""#);
        let mut scratch = Vec::new();
        assert_eq!(f.unescaped_in(&mut scratch), br#"He said "hi""#);
    }

    /// The plain rule the word-at-a-time unescaping must give: each quote kept, the byte
    /// after it skipped.
    #[test]
    fn unescapes_json() {
        let f = RawField::json(br#"a\"b\\c\n\u00e9\ud83d\ude00\ud800x\q"#);
        assert_eq!(f.escape, Escape::Json);
        assert_eq!(
            String::from_utf8(f.unescaped().into_owned()).unwrap(),
            "a\"b\\c\n\u{e9}\u{1F600}\u{FFFD}x\u{FFFD}"
        );
        assert_eq!(RawField::json(b"plain").escape, Escape::None);
        let mut out = Vec::new();
        unescape_json_into(b"\\u12", &mut out);
        assert_eq!(
            out,
            "\u{FFFD}12".as_bytes(),
            "only the broken escape is replaced"
        );
    }

    #[test]
    fn header_names_are_case_insensitive() {
        assert_eq!(
            Field::from_header(b"LASTACCESSED"),
            Some(Field::LastAccessed)
        );
        assert_eq!(
            Field::from_header(b" clientipaddress "),
            Some(Field::ClientIpAddress)
        );
        assert_eq!(Field::from_header(b"RunspaceId"), None);
    }

    #[test]
    fn subject_prefers_source_items_left_trimmed() {
        let mut r = AuditRecord::default();
        r.set(Field::ItemSubject, RawField::new(b"item", Escape::None));
        assert_eq!(r.subject().bytes, b"item");
        r.set(
            Field::SourceItemSubjectsList,
            RawField::new(b"  Good News, x", Escape::None),
        );
        assert_eq!(r.subject().bytes, b"Good News, x");
        let (owned, lossy) = r.to_owned_record(Timestamp(0), SourcePos { file: 0, line: 2 }, false);
        assert!(!lossy);
        assert_eq!(owned.subject(), "Good News, x");
        assert_eq!(owned.get(Field::ItemSubject), "item");
    }

    #[test]
    fn cross_mailbox_op_rule() {
        let mut r = AuditRecord::default();
        r.set(Field::Operation, RawField::new(b"SendAs", Escape::None));
        r.set(
            Field::CrossMailboxOperation,
            RawField::new(b"False", Escape::None),
        );
        let (owned, _) = r.to_owned_record(Timestamp(0), SourcePos { file: 0, line: 2 }, false);
        assert_eq!(owned.cross_mailbox_op(), "N/A");
        r.set(Field::Operation, RawField::new(b"HardDelete", Escape::None));
        let (owned, _) = r.to_owned_record(Timestamp(0), SourcePos { file: 0, line: 2 }, false);
        assert_eq!(owned.cross_mailbox_op(), "False");
    }

    #[test]
    fn invalid_utf8_is_replaced_and_flagged() {
        let mut r = AuditRecord::default();
        r.set(Field::ItemSubject, RawField::new(b"a\xffb", Escape::None));
        let (owned, lossy) = r.to_owned_record(Timestamp(0), SourcePos { file: 0, line: 2 }, false);
        assert!(lossy);
        assert_eq!(owned.get(Field::ItemSubject), "a\u{FFFD}b");
    }
}
