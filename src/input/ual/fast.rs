//! A look at an AuditData cell before it is parsed.
//!
//! Parsing every AuditData cell of a Unified Audit Log CSV (undoubling its quotes, then
//! serde_json) costs most of a UAL search, yet most rows are then dropped by a rule that
//! needs a handful of top-level members only: RecordType, CreationTime, LogonType,
//! Operation, the mailbox, the user, the client IP — and the subject, which a regex over
//! the raw cell can rule out. This module reads those members straight from the cell as
//! it lies in the CSV (every `"` doubled), without copying, and stops as soon as it has
//! them all. The caller drops the row only when the outcome is certain; anything unusual
//! (an escaped quote, a nested member it needs, a cut cell, throttling data that must be
//! warned about, invalid UTF-8) sends the row to the full parser instead.
//!
//! The look stops once it has every member it reads, so it does not validate the rest of
//! the cell: a row whose AuditData is damaged inside (not cut: a cut cell does not end in
//! `}`) and that a rule drops anyway is counted under that rule without the "cannot be
//! read" warning the full parser would add. Rows it keeps are always fully parsed.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::record::{AuditRecord, Field, RawField};

/// Searchers built once (building one costs more than a search through a cell).
static ESCAPED_QUOTE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\\\"\""));
static IS_THROTTLED: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"IsThrottled"));
static SUBJECT_KEY: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"\"Subject\"\""));

/// The top-level members read, and the field each goes to (mirrors `ual::map`).
const MEMBERS: &[(&[u8], Field)] = &[
    (b"CreationTime", Field::LastAccessed),
    (b"Operation", Field::Operation),
    (b"RecordType", Field::RecordType),
    (b"Workload", Field::Workload),
    (b"UserId", Field::UserId),
    (b"LogonType", Field::LogonType),
    (b"LogonUserDisplayName", Field::LogonUserDisplayName),
    (b"LogonUserSid", Field::LogonUserSid),
    (b"MailboxOwnerUPN", Field::MailboxOwnerUpn),
    (b"MailboxGuid", Field::MailboxGuid),
    (b"ClientIPAddress", Field::ClientIpAddress),
    (b"ClientIP", Field::ClientIp),
];

/// What the quick look found: a record of top-level fields (no subject), and whether
/// every subject in the cell is written without escapes (so a regex over the raw cell
/// finds whatever it would find in the subjects).
pub struct Glance<'a> {
    pub record: AuditRecord<'a>,
    pub plain_subjects: bool,
}

/// Reads the top-level members of a CSV-quoted AuditData cell (`{""Id"":""…"", …}`).
/// `None` when the quick look cannot be trusted; the row then takes the full parser.
pub fn glance(cell: &[u8]) -> Option<Glance<'_>> {
    let cell = cell.trim_ascii();
    // A cut cell, an escaped quote (`\""`), or throttling information (warned about for
    // every record) all need the full parser.
    if cell.first() != Some(&b'{') || cell.last() != Some(&b'}') {
        return None;
    }
    if ESCAPED_QUOTE.find(cell).is_some() || throttled(cell) || std::str::from_utf8(cell).is_err() {
        return None;
    }
    let mut rec = AuditRecord::default();
    let mut found = 0u16;
    let all = (1u16 << MEMBERS.len()) - 1;
    let mut pos = 1;
    loop {
        pos = skip_ws(cell, pos);
        match cell.get(pos)? {
            b'}' => break,
            b',' => {
                pos += 1;
                continue;
            }
            _ => {}
        }
        let (key, after) = string_at(cell, pos)?;
        pos = skip_ws(cell, after);
        if cell.get(pos) != Some(&b':') {
            return None;
        }
        pos = skip_ws(cell, pos + 1);
        let (value, after) = value_at(cell, pos)?;
        pos = after;
        if let Some(i) = MEMBERS.iter().position(|(name, _)| *name == key) {
            if found & (1 << i) == 0 {
                found |= 1 << i;
                rec.set(MEMBERS[i].1, value);
            }
            if found == all {
                break;
            }
        }
    }
    if rec.get(Field::LogonUserDisplayName).is_empty() {
        let user = rec.get(Field::UserId);
        rec.set(Field::LogonUserDisplayName, user);
    }
    let upn = rec.get(Field::MailboxOwnerUpn);
    rec.set(Field::MailboxResolvedOwnerName, upn);
    if rec.get(Field::ClientIpAddress).is_empty() {
        let ip = rec.get(Field::ClientIp);
        rec.set(Field::ClientIpAddress, ip);
    }
    rec.time_is_utc = true;
    Some(Glance {
        record: rec,
        plain_subjects: subjects_are_plain(cell),
    })
}

/// True when an `IsThrottled` property may be true (the pipeline warns about those).
fn throttled(cell: &[u8]) -> bool {
    IS_THROTTLED.find_iter(cell).any(|i| {
        let near = &cell[i..cell.len().min(i + 48)];
        near.windows(4).any(|w| w.eq_ignore_ascii_case(b"true"))
    })
}

fn skip_ws(cell: &[u8], mut pos: usize) -> usize {
    while cell.get(pos).is_some_and(u8::is_ascii_whitespace) {
        pos += 1;
    }
    pos
}

/// A doubled-quote string at `pos` (`""text""`): its inside and the offset after it.
fn string_at(cell: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    if cell.get(pos..pos + 2)? != b"\"\"" {
        return None;
    }
    let start = pos + 2;
    // Without escaped quotes (checked by `glance`), the next quote starts the closing `""`.
    let len = memchr::memchr(b'"', cell.get(start..)?)?;
    if cell.get(start + len + 1) != Some(&b'"') {
        return None;
    }
    Some((&cell[start..start + len], start + len + 2))
}

/// A member's value at `pos`: strings and scalars as fields; objects and arrays skipped
/// (as an empty field). Returns the offset after the value.
fn value_at(cell: &[u8], pos: usize) -> Option<(RawField<'_>, usize)> {
    match cell.get(pos)? {
        b'"' => {
            let (inside, after) = string_at(cell, pos)?;
            Some((RawField::json(inside), after))
        }
        b'{' | b'[' => Some((RawField::EMPTY, skip_nested(cell, pos)?)),
        _ => {
            let end = cell[pos..]
                .iter()
                .position(|&b| b == b',' || b == b'}')
                .map_or(cell.len(), |n| pos + n);
            let raw = cell[pos..end].trim_ascii();
            let field = match raw {
                b"null" => RawField::EMPTY,
                b"true" => RawField::new(b"True", crate::record::Escape::None),
                b"false" => RawField::new(b"False", crate::record::Escape::None),
                _ => RawField::new(raw, crate::record::Escape::None),
            };
            Some((field, end))
        }
    }
}

/// Skips an object or array starting at `pos`; strings inside may hold brackets.
fn skip_nested(cell: &[u8], mut pos: usize) -> Option<usize> {
    let mut depth = 0usize;
    while let Some(&b) = cell.get(pos) {
        match b {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(pos + 1);
                }
            }
            b'"' => {
                let (_, after) = string_at(cell, pos)?;
                pos = after;
                continue;
            }
            _ => {}
        }
        pos += 1;
    }
    None
}

/// True when no `Subject` member's value holds a backslash (an escape whose unescaped
/// text a regex over the raw cell would not see).
fn subjects_are_plain(cell: &[u8]) -> bool {
    let key = SUBJECT_KEY.needle();
    let mut from = 0;
    while let Some(i) = SUBJECT_KEY.find(&cell[from..]) {
        let mut pos = skip_ws(cell, from + i + key.len());
        if cell.get(pos) == Some(&b':') {
            pos = skip_ws(cell, pos + 1);
            if let Some((inside, _)) = string_at(cell, pos) {
                if inside.contains(&b'\\') {
                    return false;
                }
            }
        }
        from += i + key.len();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_top_level_members_of_a_doubled_cell() {
        let cell = br#"{""CreationTime"":""2024-03-05T09:10:00"",""Id"":""x"",""Item"":{""Subject"":""a } ] { ["",""ParentFolder"":{""Path"":""\\Inbox""}},""Operation"":""SoftDelete"",""RecordType"":2,""LogonType"":2,""UserId"":""eve@contoso.com"",""ClientIP"":""203.0.113.7"",""ExternalAccess"":false}"#;
        let g = glance(cell).expect("readable");
        let r = &g.record;
        assert_eq!(r.get(Field::Operation).bytes, b"SoftDelete");
        assert_eq!(r.get(Field::LastAccessed).bytes, b"2024-03-05T09:10:00");
        assert_eq!(r.get(Field::RecordType).bytes, b"2");
        assert_eq!(r.get(Field::LogonType).bytes, b"2");
        assert_eq!(r.get(Field::LogonUserDisplayName).bytes, b"eve@contoso.com");
        assert_eq!(r.get(Field::ClientIpAddress).bytes, b"203.0.113.7");
        assert!(r.time_is_utc);
        assert!(g.plain_subjects);
    }

    #[test]
    fn refuses_what_it_cannot_be_sure_of() {
        assert!(glance(br#"{""Operation"":""Move"",""Item"":{""Subject"":""cut"#).is_none());
        assert!(glance(br#"{""Operation"":""Say \""hi\"""" }"#).is_none());
        assert!(glance(
            br#"{""OperationProperties"":[{""Name"":""IsThrottled"",""Value"":""True""}]}"#
        )
        .is_none());
        let g = glance(br#"{""Item"":{""Subject"":""caf\u00e9""}}"#).expect("readable");
        assert!(!g.plain_subjects);
    }

    #[test]
    fn never_panics_on_prefixes() {
        let cell = br#"{""CreationTime"":""2024-03-05T09:10:00"",""Item"":{""Subject"":""x""},""Operation"":""SoftDelete"",""LogonType"":2}"#;
        for n in 0..=cell.len() {
            let _ = glance(&cell[..n]);
            let _ = glance(&cell[n..]);
        }
    }
}
