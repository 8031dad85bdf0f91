//! The header of a CSV export: which column holds which field, the delimiter, the kind of
//! export.

use super::fields_of;
use crate::input::structural::Tokenizer;
use crate::input::visit::KEY_IGNORED;
use crate::record::{Field, FIELD_COUNT};

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
    pub(super) field_column: [Option<u32>; FIELD_COUNT],
    pub(super) identity_column: Option<usize>,
    /// Columns that make the dedup key, sorted by lower-cased name, with that name.
    pub(super) key_columns: Vec<(usize, Vec<u8>)>,
    /// Unified Audit Log exports: the columns read from the CSV itself.
    pub(super) ual: UalColumns,
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
            // A UAL record's Id is not unique (docs/formats.md §C): rows without a readable
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

/// The columns of a Unified Audit Log CSV export (docs/formats.md §C) that mbxaudit reads:
/// `AuditData`, and those a row is reported from when its AuditData cannot be read.
/// Found by name, case-insensitively; the first name of each list that is present wins.
#[derive(Debug, Clone, Default)]
pub(super) struct UalColumns {
    pub(super) audit_data: Option<usize>,
    /// `CreationDate` (Search-UnifiedAuditLog, Purview classic), `createdDateTime` (Graph).
    pub(super) time: Option<usize>,
    pub(super) operation: Option<usize>,
    pub(super) user: Option<usize>,
    /// `userPrincipalName` (Graph), when the user column is empty.
    pub(super) user_upn: Option<usize>,
    pub(super) record_type: Option<usize>,
    pub(super) identity: Option<usize>,
    pub(super) client_ip: Option<usize>,
    pub(super) workload: Option<usize>,
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
