//! The one record model every reader maps onto.
//!
//! Readers never build owned strings for the rows they read: they hand the filter an
//! [`AuditRecord`], a set of borrowed [`RawField`]s pointing into the (memory-mapped or
//! decoded) input. Only rows that survive every filter are copied into an
//! [`OwnedRecord`], the form the report writers and the merge/sort stage work on.

use std::borrow::Cow;

use crate::datetime::Timestamp;

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
}

/// Number of [`Field`] variants.
pub const FIELD_COUNT: usize = Field::Identity as usize + 1;

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

/// How the bytes of a [`RawField`] are escaped in the source.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Escape {
    /// The bytes are the value.
    #[default]
    None,
    /// A quoted CSV field: every `""` stands for one `"`.
    CsvQuotes,
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
            Escape::CsvQuotes => {
                let mut out = Vec::with_capacity(self.bytes.len());
                unescape_csv_into(self.bytes, &mut out);
                Cow::Owned(out)
            }
        }
    }

    /// The unescaped bytes, using `scratch` when an escape has to be resolved.
    pub fn unescaped_in<'s>(&self, scratch: &'s mut Vec<u8>) -> &'s [u8]
    where
        'a: 's,
    {
        match self.escape {
            Escape::None => self.bytes,
            Escape::CsvQuotes => {
                scratch.clear();
                unescape_csv_into(self.bytes, scratch);
                scratch
            }
        }
    }

    /// Compares with `other`, ignoring ASCII case. Escaped quotes never occur in the
    /// names this is used for (operations, logon types), so the raw bytes are compared.
    pub fn eq_ignore_ascii_case(&self, other: &[u8]) -> bool {
        self.bytes.trim_ascii().eq_ignore_ascii_case(other)
    }
}

fn unescape_csv_into(bytes: &[u8], out: &mut Vec<u8>) {
    let mut rest = bytes;
    while let Some(i) = memchr::memchr(b'"', rest) {
        out.extend_from_slice(&rest[..=i]);
        // Skip the second quote of a `""` pair.
        rest = rest.get(i + 2..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
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
}

impl Default for AuditRecord<'_> {
    fn default() -> Self {
        AuditRecord {
            fields: [RawField::EMPTY; FIELD_COUNT],
        }
    }
}

impl<'a> AuditRecord<'a> {
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

    /// Copies the record out of the input, replacing invalid UTF-8 with U+FFFD.
    /// Returns the owned record and whether any replacement was made.
    pub fn to_owned_record(&self, time: Timestamp, pos: SourcePos) -> (OwnedRecord, bool) {
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
        (
            OwnedRecord {
                text: text.into_boxed_str(),
                ends,
                time,
                pos,
            },
            lossy,
        )
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
}

impl OwnedRecord {
    pub fn get(&self, field: Field) -> &str {
        let i = field as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends[i] as usize;
        self.text.get(start..end).unwrap_or_default()
    }

    /// See [`AuditRecord::subject`].
    pub fn subject(&self) -> &str {
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
    pub fn cross_mailbox_op(&self) -> &str {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_doubled_quotes() {
        let f = RawField::new(br#"He said ""hi"""#, Escape::CsvQuotes);
        assert_eq!(&*f.unescaped(), br#"He said "hi""#);
        let mut scratch = Vec::new();
        assert_eq!(f.unescaped_in(&mut scratch), br#"He said "hi""#);
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
        let (owned, lossy) = r.to_owned_record(Timestamp(0), SourcePos { file: 0, line: 2 });
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
        let (owned, _) = r.to_owned_record(Timestamp(0), SourcePos { file: 0, line: 2 });
        assert_eq!(owned.cross_mailbox_op(), "N/A");
        r.set(Field::Operation, RawField::new(b"HardDelete", Escape::None));
        let (owned, _) = r.to_owned_record(Timestamp(0), SourcePos { file: 0, line: 2 });
        assert_eq!(owned.cross_mailbox_op(), "False");
    }

    #[test]
    fn invalid_utf8_is_replaced_and_flagged() {
        let mut r = AuditRecord::default();
        r.set(Field::ItemSubject, RawField::new(b"a\xffb", Escape::None));
        let (owned, lossy) = r.to_owned_record(Timestamp(0), SourcePos { file: 0, line: 2 });
        assert!(lossy);
        assert_eq!(owned.get(Field::ItemSubject), "a\u{FFFD}b");
    }
}
