//! A look at an AuditData cell before it is parsed.
//!
//! Parsing every AuditData cell of a Unified Audit Log CSV (undoubling its quotes, then
//! serde_json) costs most of a UAL search, yet most rows are then dropped by a rule that
//! needs a handful of top-level members only: RecordType, CreationTime, LogonType,
//! Operation, the mailbox, the user, the client IP — and the subject, which a regex over
//! the raw cell can rule out. This module reads those members straight from the cell as
//! it lies in the CSV (every `"` doubled), without copying, and stops as soon as it has
//! the members the active rules read (CreationTime, Operation, RecordType... come first in
//! every record Exchange writes, before the large nested Item and Folders members). The
//! caller drops the row only when the outcome is certain; anything unusual (an escaped
//! quote in a member it reads, a cut cell) sends the row to the full parser instead, and
//! so does a row the look would drop but whose cell holds throttling data that must be
//! warned about or invalid UTF-8 ([`Glance::droppable`]: asked only of rows a rule rules
//! out, since the full parser checks both in the rows it reads anyway).
//!
//! The look stops once it has every member it needs, so it does not validate the rest of
//! the cell: a row whose AuditData is damaged inside (not cut: a cut cell does not end in
//! `}`) and that a rule drops anyway is counted under that rule without the "cannot be
//! read" warning the full parser would add. Rows it keeps are always fully parsed.
//!
//! Strings, escapes and nesting are read by the JSON lexer (`input/json_lex.rs`), under its
//! lenient rules for plain or doubled quoting.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use crate::input::json_lex::{self as lex, escape_at, skip_ascii_ws as skip_ws, EscapeSeq};
use crate::input::visit::Visitor;
use crate::record::{AuditRecord, Escape, Family, Field, FieldSet, RawField};

/// Searchers built once (building one costs more than a search through a cell).
pub(super) static IS_THROTTLED: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new(b"IsThrottled"));
/// The name `Subject`: as a key (`"Subject"`, `""Subject""` in a CSV cell), or as a key
/// inside a JSON string (`\"Subject\"`, `\""Subject\""`), both found in one search.
pub(super) static SUBJECT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"Subject"));

pub use crate::input::json_lex::Quoting;

/// The index of a quoting in tables of plain and doubled forms.
fn index(q: Quoting) -> usize {
    q.width() - 1
}

/// How the glance reads strings and nesting in text quoted `q` (the lexer's lenient rules).
fn rules(q: Quoting) -> lex::Rules {
    lex::lenient(q)
}

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

/// What the quick look found: a record of top-level fields (no subject), and the cell,
/// whose subjects [`Glance::any_subject`] reads.
pub struct Glance<'a> {
    pub record: AuditRecord<'a>,
    cell: &'a [u8],
    quoting: Quoting,
    /// Where the full parser would find throttling data: the cell, or the
    /// `OperationProperties` member of a record already parsed.
    throttling: &'a [u8],
}

/// Fields the glance derives from another member when theirs is missing (as `ual::map`
/// does): reading the first means reading the second too.
const FALLBACKS: &[(Field, Field)] = &[
    (Field::LogonUserDisplayName, Field::UserId),
    (Field::MailboxResolvedOwnerName, Field::MailboxOwnerUpn),
    (Field::ClientIpAddress, Field::ClientIp),
    (Field::ClientIp, Field::ClientIpAddress),
];

/// `,"Name":` and `,""Name"":` for each of [`MEMBERS`]: how a top-level member after the
/// first starts, in plain and in doubled quoting.
static MEMBER_KEYS: LazyLock<[Vec<Finder<'static>>; 2]> = LazyLock::new(|| {
    let keys = |quote: &[u8]| {
        MEMBERS
            .iter()
            .map(|(name, _)| {
                let key = [b",", quote, name, quote, b":"].concat();
                Finder::new(&key).into_owned()
            })
            .collect()
    };
    [keys(b"\""), keys(b"\"\"")]
});

/// Where member `i` of [`MEMBERS`] starts (its key's opening quotes) after `pos`, the start
/// of a member, when no brace or opening bracket lies between: every member in between is then a top-level
/// string or scalar, and the key is a member's (inside a string a quote is escaped, so a
/// string cannot hold `,""Name"":`). `None` sends the caller on walking member by member.
fn flat_jump(cell: &[u8], q: Quoting, pos: usize, i: usize) -> Option<usize> {
    let rest = cell.get(pos..)?;
    let at = MEMBER_KEYS[index(q)][i].find(rest)?;
    let between = &rest[..at];
    if memchr::memchr3(b'{', b'[', b'}', between).is_some() {
        return None;
    }
    Some(pos + at + 1)
}

/// The index in [`MEMBERS`] of the member named `key` (a match on the bytes: faster
/// than comparing with each name, for the ~25 members before the nested ones).
#[inline]
pub(crate) fn member_index(key: &[u8]) -> Option<usize> {
    let i = match key {
        b"CreationTime" => 0,
        b"Operation" => 1,
        b"RecordType" => 2,
        b"Workload" => 3,
        b"UserId" => 4,
        b"LogonType" => 5,
        b"LogonUserDisplayName" => 6,
        b"LogonUserSid" => 7,
        b"MailboxOwnerUPN" => 8,
        b"MailboxGuid" => 9,
        b"ClientIPAddress" => 10,
        b"ClientIP" => 11,
        _ => return None,
    };
    debug_assert_eq!(MEMBERS[i].0, key);
    Some(i)
}

/// The bits of [`MEMBERS`] to read for the fields in `wanted`.
fn members_for(wanted: FieldSet) -> u16 {
    let wanted = FALLBACKS
        .iter()
        .filter(|(f, _)| wanted.contains(*f))
        .fold(wanted, |set, &(_, also)| set.with(also));
    MEMBERS
        .iter()
        .enumerate()
        .filter(|(_, (_, field))| wanted.contains(*field))
        .fold(0, |bits, (i, _)| bits | 1 << i)
}

/// Reads the top-level members of an AuditData object, plain (`{"Id":"…", …}`) or a CSV
/// cell with its quotes doubled (`{""Id"":""…"", …}`), that hold the fields in `wanted`
/// (fields the glance does not read stay empty). `None` when the quick look cannot be
/// trusted; the record then takes the full parser.
#[cfg(test)]
pub fn glance(cell: &[u8], q: Quoting, wanted: FieldSet) -> Option<Glance<'_>> {
    glance_until(cell, q, wanted, |_| false)
}

/// [`glance`], which stops early at a record of a family other than mailbox records
/// that `dropped` says is dropped whatever else it holds: once it has the record's
/// `RecordType` and `Workload` (what the count of dropped families reads), it has all a
/// visitor needs of it. A non-mailbox record's logon and mailbox members (which the full
/// parser does not map for it) are then not looked for: an Azure AD sign-in record holds
/// none, and looking for them walked the whole cell.
#[inline(always)] // the record is built in place, not copied out
pub fn glance_until(
    cell: &[u8],
    q: Quoting,
    wanted: FieldSet,
    dropped: impl Fn(Family) -> bool,
) -> Option<Glance<'_>> {
    /// The bits of `RecordType` and `Workload` in [`MEMBERS`].
    const FAMILY: u16 = 1 << 2 | 1 << 3;
    let cell = cell.trim_ascii();
    // A cut cell needs the full parser.
    if cell.first() != Some(&b'{') || cell.last() != Some(&b'}') {
        return None;
    }
    let mut rec = AuditRecord::default();
    let mut found = 0u16;
    let all = members_for(wanted);
    let mut pos = 1;
    let mut jumped = false;
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
        let missing = all & !found;
        if !jumped && missing.count_ones() == 1 {
            // One member left to find: jump to it when nothing nested lies in between.
            jumped = true;
            if let Some(at) = flat_jump(cell, q, pos, missing.trailing_zeros() as usize) {
                pos = at;
            }
        }
        let (key, after) = rules(q).string_at(cell, pos)?;
        pos = skip_ws(cell, after);
        if cell.get(pos) != Some(&b':') {
            return None;
        }
        pos = skip_ws(cell, pos + 1);
        let (value, after) = value_at(cell, q, pos)?;
        pos = after;
        if let Some(i) = member_index(key) {
            if found & (1 << i) == 0 {
                // An escaped quote reads `\""` in a CSV cell: RawField::json would not
                // undo both.
                if q == Quoting::Doubled && value.bytes.contains(&b'"') {
                    return None;
                }
                found |= 1 << i;
                rec.set(MEMBERS[i].1, value);
                if found & FAMILY == FAMILY && (1 << i) & FAMILY != 0 {
                    let family = Family::of(rec.get(Field::RecordType).bytes);
                    if family != Family::Mailbox && dropped(family) {
                        break;
                    }
                }
            }
            if found & all == all {
                break;
            }
        }
    }
    Some(finish(rec, cell, q, cell))
}

/// Takes a quick look at the AuditData `cell` (quoted `q`) when `visitor` wants one
/// ([`Visitor::wants_glance`], with `hint`: the family the export names outside the
/// record, a hint only) and offers it to [`Visitor::prefilter`]; returns whether the
/// visitor dropped the record, which then need not be read whole. The one look of the UAL
/// CSV rows and of PowerShell's `Search-UnifiedAuditLog` objects.
pub fn dropped_on_a_look<V: Visitor + ?Sized>(
    cell: &[u8],
    q: Quoting,
    hint: Option<Family>,
    line: u64,
    visitor: &mut V,
) -> bool {
    if !visitor.wants_glance(hint) {
        return false;
    }
    let wanted = visitor.glance_fields();
    let dropped = |family| visitor.drops_family(family);
    match glance_until(cell, q, wanted, dropped) {
        Some(glance) => visitor.prefilter(&glance, line),
        None => false,
    }
}

/// The glance of a plain JSON record that the JSON reader has parsed (and so found
/// valid), from its top-level members in order: for each, its index in the members the
/// glance reads ([`member_index`] of its name as written) and its value as a field
/// (strings escaped, objects and arrays empty). The same look as [`glance`]'s on its
/// text, without walking the text again; `operation_properties` is the raw value of its
/// `OperationProperties` member, the only place the full parser reads throttling from.
/// Hands the glance to `decide` (built in place: a record is a kilobyte) and returns its
/// answer; false when the quick look cannot be trusted.
#[inline(always)]
pub fn glance_parsed<'a>(
    json: &'a [u8],
    members: impl IntoIterator<Item = (Option<u8>, RawField<'a>)>,
    operation_properties: &'a [u8],
    wanted: FieldSet,
    decide: impl FnOnce(&Glance<'a>) -> bool,
) -> bool {
    let cell = json.trim_ascii();
    if cell.first() != Some(&b'{') || cell.last() != Some(&b'}') {
        return false;
    }
    let mut rec = AuditRecord::default();
    let mut found = 0u16;
    let all = members_for(wanted);
    for (index, value) in members {
        let Some(i) = index.map(usize::from) else {
            continue;
        };
        if found & (1 << i) == 0 {
            found |= 1 << i;
            rec.set(MEMBERS[i].1, value);
        }
        if found & all == all {
            break;
        }
    }
    decide(&finish(rec, cell, Quoting::Plain, operation_properties))
}

/// The fields the full parser maps for mailbox records only (`ual::map_and_visit`).
const MAILBOX_ONLY: [Field; 4] = [
    Field::LogonType,
    Field::LogonUserSid,
    Field::MailboxOwnerUpn,
    Field::MailboxGuid,
];

/// Fills the fields the full parser derives from others, as it does, and empties those it
/// maps for mailbox records only (a sign-in's `MailboxOwnerUPN` would otherwise pass a
/// `--mailbox` rule the full record fails, and the record be counted under a later rule).
/// An admin record's mailbox comes from its `ObjectId`, which the glance does not read:
/// the glance never drops one (its subject is rendered from its parameters).
#[inline(always)]
fn finish<'a>(
    mut rec: AuditRecord<'a>,
    cell: &'a [u8],
    quoting: Quoting,
    throttling: &'a [u8],
) -> Glance<'a> {
    if rec.get(Field::LogonUserDisplayName).is_empty() {
        let user = rec.get(Field::UserId);
        rec.set(Field::LogonUserDisplayName, user);
    }
    if Family::of(rec.get(Field::RecordType).bytes) != Family::Mailbox {
        for field in MAILBOX_ONLY {
            rec.set(field, RawField::EMPTY);
        }
    }
    let upn = rec.get(Field::MailboxOwnerUpn);
    rec.set(Field::MailboxResolvedOwnerName, upn);
    if rec.get(Field::ClientIpAddress).is_empty() {
        let ip = rec.get(Field::ClientIp);
        rec.set(Field::ClientIpAddress, ip);
    }
    rec.time_is_utc = true;
    Glance {
        record: rec,
        cell,
        quoting,
        throttling,
    }
}

/// True when an `IsThrottled` property may be true (the pipeline warns about those).
fn throttled(cell: &[u8]) -> bool {
    IS_THROTTLED.find_iter(cell).any(|i| {
        let near = &cell[i..cell.len().min(i + 48)];
        near.windows(4).any(|w| w.eq_ignore_ascii_case(b"true"))
    })
}

/// A member's value at `pos`: strings and scalars as fields; objects and arrays skipped
/// (as an empty field). Returns the offset after the value.
fn value_at(cell: &[u8], q: Quoting, pos: usize) -> Option<(RawField<'_>, usize)> {
    match cell.get(pos)? {
        b'"' => {
            let (inside, after) = rules(q).string_at(cell, pos)?;
            Some((RawField::json(inside), after))
        }
        b'{' | b'[' => Some((RawField::EMPTY, rules(q).skip_nested(cell, pos)?)),
        _ => {
            let end = cell[pos..]
                .iter()
                .position(|&b| b == b',' || b == b'}')
                .map_or(cell.len(), |n| pos + n);
            let raw = cell[pos..end].trim_ascii();
            let field = match raw {
                b"null" => RawField::EMPTY,
                b"true" => RawField::new(b"True", Escape::None),
                b"false" => RawField::new(b"False", Escape::None),
                _ => RawField::new(raw, Escape::None),
            };
            Some((field, end))
        }
    }
}

impl Glance<'_> {
    /// Whether a record this look rules out may be dropped without the full parse: the
    /// full parser would have nothing to say about it (no throttling data, which is
    /// warned about for every record; valid UTF-8, else it reports the cell). A pass over
    /// the cell: asked only once a rule would drop the record.
    pub fn droppable(&self) -> bool {
        !throttled(self.throttling) && simdutf8::basic::from_utf8(self.cell).is_ok()
    }

    /// Calls `test` on the value of every `Subject` member of the cell, at any depth,
    /// unescaped, until one passes; returns whether one did. The full parser takes each
    /// subject it matches `--subject` against from such a member (the item's, every
    /// affected or accessed item's), so when none passes, none of those does either.
    /// `None` when a value is not a plain string (the full parser decides then). `a` and
    /// `b` are scratch space.
    pub fn any_subject(
        &self,
        a: &mut Vec<u8>,
        b: &mut Vec<u8>,
        mut test: impl FnMut(&[u8]) -> bool,
    ) -> Option<bool> {
        let (cell, q) = (self.cell, self.quoting);
        let quotes = &b"\"\""[..q.width()];
        // A member written as a JSON string (`"Item": "{\"Subject\": …}"`): the full
        // parser decodes it and reads the subject inside; told at the end, so that a
        // subject that passes first still decides.
        let mut escaped_key = false;
        let mut from = 0;
        while let Some(i) = SUBJECT.find(&cell[from..]) {
            let at = from + i;
            let after = at + b"Subject".len();
            from = after;
            if cell[after..].starts_with(b"\\\"") {
                escaped_key = true;
                continue;
            }
            if !cell[..at].ends_with(quotes) || !cell[after..].starts_with(quotes) {
                continue; // the word inside some text
            }
            from = after + quotes.len();
            let mut pos = skip_ws(cell, from);
            if cell.get(pos) != Some(&b':') {
                continue; // the word inside some text, not a member
            }
            pos = skip_ws(cell, pos + 1);
            if cell[pos..].starts_with(b"null") {
                continue;
            }
            let (inside, _) = rules(q).string_at(cell, pos)?;
            let value = if memchr::memchr(b'\\', inside).is_none() {
                inside // no escapes (so no quotes either)
            } else {
                if !escapes_are_valid(inside, q) {
                    return None; // the full parser reports the cell
                }
                let json = match q {
                    Quoting::Plain => inside,
                    Quoting::Doubled => RawField::new(inside, Escape::CsvQuotes).unescaped_in(a),
                };
                RawField::new(json, Escape::Json).unescaped_in(b)
            };
            if test(value) {
                return Some(true);
            }
        }
        if escaped_key {
            return None;
        }
        Some(false)
    }
}

/// True when every backslash escape in a JSON string's inside is one serde_json accepts:
/// `\"` (written `\""` when quotes are doubled), `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`,
/// and `\uXXXX` other than a surrogate (a pair is left to the full parser).
fn escapes_are_valid(inside: &[u8], q: Quoting) -> bool {
    let mut rest = inside;
    while let Some(i) = memchr::memchr(b'\\', rest) {
        let n = match escape_at(rest, i, q) {
            EscapeSeq::Unit(unit) if (0xD800..0xE000).contains(&unit) => return false,
            EscapeSeq::Char(n) => n,
            EscapeSeq::Unit(_) => 6,
            EscapeSeq::BadUnit | EscapeSeq::Bad => return false,
        };
        rest = &rest[i + n..];
    }
    true
}

impl crate::input::visit::QuickLook for Glance<'_> {
    fn record(&self) -> &AuditRecord<'_> {
        &self.record
    }

    fn droppable(&self) -> bool {
        Glance::droppable(self)
    }

    fn any_subject(
        &self,
        a: &mut Vec<u8>,
        b: &mut Vec<u8>,
        test: &mut dyn FnMut(&[u8]) -> bool,
    ) -> Option<bool> {
        Glance::any_subject(self, a, b, test)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subject the glance offers, as text.
    fn subjects(g: &Glance<'_>) -> Option<Vec<String>> {
        let (mut a, mut b, mut all) = (Vec::new(), Vec::new(), Vec::new());
        g.any_subject(&mut a, &mut b, |s| {
            all.push(String::from_utf8_lossy(s).into_owned());
            false
        })?;
        Some(all)
    }

    #[test]
    fn stops_at_a_dropped_family_once_it_has_its_record_type_and_workload() {
        let sign_in = br#"{""CreationTime"":""2024-03-05T09:10:00"",""Operation"":""UserLoggedIn"",""RecordType"":15,""Workload"":""AzureActiveDirectory"",""UserId"":""eve@contoso.com"",""LogonType"":2}"#;
        let mailbox = br#"{""CreationTime"":""2024-03-05T09:10:00"",""Operation"":""SoftDelete"",""RecordType"":2,""Workload"":""Exchange"",""UserId"":""eve@contoso.com"",""LogonType"":2}"#;
        let user = |cell, dropped: bool| {
            let g = glance_until(cell, Quoting::Doubled, FieldSet::ALL, |_| dropped);
            let r = g.expect("readable").record;
            assert!(!r.get(Field::Workload).is_empty());
            (r.get(Field::UserId).bytes, r.get(Field::LogonType).bytes)
        };
        // Dropped: nothing after the workload is read.
        assert_eq!(user(sign_in, true), (&b""[..], &b""[..]));
        // Kept, or a mailbox record: read on (a sign-in's logon type is not mapped).
        assert_eq!(user(sign_in, false), (&b"eve@contoso.com"[..], &b""[..]));
        assert_eq!(user(mailbox, true), (&b"eve@contoso.com"[..], &b"2"[..]));
    }

    #[test]
    fn reads_top_level_members_of_a_doubled_cell() {
        let cell = br#"{""CreationTime"":""2024-03-05T09:10:00"",""Id"":""x"",""Item"":{""Subject"":""a } ] { ["",""ParentFolder"":{""Path"":""\\Inbox""}},""Operation"":""SoftDelete"",""RecordType"":2,""LogonType"":2,""UserId"":""eve@contoso.com"",""ClientIP"":""203.0.113.7"",""ExternalAccess"":false}"#;
        let g = glance(cell, Quoting::Doubled, FieldSet::ALL).expect("readable");
        let r = &g.record;
        assert_eq!(r.get(Field::Operation).bytes, b"SoftDelete");
        assert_eq!(r.get(Field::LastAccessed).bytes, b"2024-03-05T09:10:00");
        assert_eq!(r.get(Field::RecordType).bytes, b"2");
        assert_eq!(r.get(Field::LogonType).bytes, b"2");
        assert_eq!(r.get(Field::LogonUserDisplayName).bytes, b"eve@contoso.com");
        assert_eq!(r.get(Field::ClientIpAddress).bytes, b"203.0.113.7");
        assert!(r.time_is_utc);
        assert_eq!(subjects(&g), Some(vec!["a } ] { [".to_string()]));
    }

    #[test]
    fn refuses_what_it_cannot_be_sure_of() {
        assert!(glance(
            br#"{""Operation"":""Move"",""Item"":{""Subject"":""cut"#,
            Quoting::Doubled,
            FieldSet::ALL
        )
        .is_none());
        assert!(glance(
            br#"{""Operation"":""Say \""hi\"""" }"#,
            Quoting::Doubled,
            FieldSet::ALL
        )
        .is_none());
        // Throttling data (warned about) and invalid UTF-8 (reported): read, not dropped.
        let g = glance(
            br#"{""OperationProperties"":[{""Name"":""IsThrottled"",""Value"":""True""}]}"#,
            Quoting::Doubled,
            FieldSet::ALL,
        );
        assert!(!g.expect("read").droppable());
        let g = glance(
            b"{\"\"Operation\"\":\"\"M\xffve\"\"}",
            Quoting::Doubled,
            FieldSet::ALL,
        );
        assert!(!g.expect("read").droppable());
        let g = glance(
            br#"{""Operation"":""Move""}"#,
            Quoting::Doubled,
            FieldSet::ALL,
        );
        assert!(g.expect("read").droppable());
        // Subjects whose escapes the full parser would refuse are left to it.
        for bad in [r"a\x", r"\ud83d\ude00", r"\u00zz", r"end\"] {
            let cell = format!(r#"{{""Item"":{{""Subject"":""{bad}""}}}}"#);
            let g = glance(cell.as_bytes(), Quoting::Doubled, FieldSet::ALL);
            assert_eq!(g.and_then(|g| subjects(&g)), None, "{bad}");
        }
        let cell = br#"{""Item"":{""Subject"":""caf\u00e9 \/ \\ \t"",""X"":{""Subject"":null}}}"#;
        let g = glance(cell, Quoting::Doubled, FieldSet::ALL).expect("readable");
        assert_eq!(subjects(&g), Some(vec!["caf\u{e9} / \\ \t".to_string()]));
    }

    #[test]
    fn subjects_inside_json_strings_are_left_to_the_full_parser() {
        let any = |cell: &str, q: Quoting, pass: &str| {
            let g = glance(cell.as_bytes(), q, FieldSet::ALL).expect("readable");
            let (mut a, mut b) = (Vec::new(), Vec::new());
            g.any_subject(&mut a, &mut b, |s| s == pass.as_bytes())
        };
        // An Item written as a JSON string: its subject cannot be read here.
        let plain = r#"{"Operation":"Move","Item":"{\"Subject\":\"hidden\"}"}"#;
        assert_eq!(any(plain, Quoting::Plain, "x"), None);
        let doubled = plain.replace('"', "\"\"");
        assert_eq!(any(&doubled, Quoting::Doubled, "x"), None);
        // A subject read plainly that passes decides, wherever the other one lies.
        for cell in [
            r#"{"Item":{"Subject":"a"},"Folder":"{\"Subject\":\"b\"}"}"#,
            r#"{"Folder":"{\"Subject\":\"b\"}","Item":{"Subject":"a"}}"#,
        ] {
            assert_eq!(any(cell, Quoting::Plain, "a"), Some(true), "{cell}");
            assert_eq!(any(cell, Quoting::Plain, "z"), None, "{cell}");
            let doubled = cell.replace('"', "\"\"");
            assert_eq!(
                any(&doubled, Quoting::Doubled, "a"),
                Some(true),
                "{doubled}"
            );
        }
        // The word in a value, or a key that only starts with it, is not a subject.
        let words = r#"{"Operation":"Subject line","Subjects":"a","Item":{"Subject":"b"}}"#;
        assert_eq!(any(words, Quoting::Plain, "a"), Some(false));
        assert_eq!(any(words, Quoting::Plain, "b"), Some(true));
    }

    #[test]
    fn escaped_quotes_are_skipped_not_read() {
        // A subject with an escaped quote: the members around it are still read, the
        // subject is not plain (the raw cell holds `\""`, the subject `"`).
        let cell = br#"{""Operation"":""Move"",""Item"":{""Subject"":""say \""hi\"" } ["",""Id"":""1""},""LogonType"":2,""ClientIP"":""a\\""}"#;
        let g = glance(cell, Quoting::Doubled, FieldSet::ALL).expect("readable");
        assert_eq!(g.record.get(Field::Operation).bytes, b"Move");
        assert_eq!(g.record.get(Field::LogonType).bytes, b"2");
        assert_eq!(g.record.get(Field::ClientIp).bytes, br"a\\");
        assert_eq!(subjects(&g), Some(vec![r#"say "hi" } ["#.to_string()]));
    }

    #[test]
    fn stops_once_it_has_the_members_it_needs() {
        // Cut after LogonType (the cell still ends in `}`): the wanted members are read
        // and the rest, damaged, is never looked at.
        let cell = br#"{""Operation"":""Move"",""LogonType"":2,""Item"":{""Subject"":}"#;
        let wanted = FieldSet::EMPTY
            .with(Field::Operation)
            .with(Field::LogonType);
        let g = glance(cell, Quoting::Doubled, wanted).expect("readable");
        assert_eq!(g.record.get(Field::LogonType).bytes, b"2");
        assert!(glance(cell, Quoting::Doubled, wanted.with(Field::ClientIp)).is_none());
    }

    #[test]
    fn jumps_only_over_flat_members() {
        let wanted = FieldSet::EMPTY
            .with(Field::Operation)
            .with(Field::LogonType);
        let logon = |cell: &[u8]| {
            let g = glance(cell, Quoting::Doubled, wanted).expect("readable");
            String::from_utf8(g.record.get(Field::LogonType).bytes.to_vec()).unwrap()
        };
        // Flat members in between: jumped over.
        let flat =
            br#"{""Operation"":""Move"",""A"":""x,\""LogonType\"":9"",""B"":3,""LogonType"":2}"#;
        assert_eq!(logon(flat), "2");
        // A nested member in between holds the name: walked, and the top-level one read.
        let nested = br#"{""Operation"":""Move"",""X"":{""LogonType"":7},""LogonType"":2}"#;
        assert_eq!(logon(nested), "2");
        // Brackets inside a string in between: walked all the same.
        let text = br#"{""Operation"":""Move"",""C"":""a [b] {c}"",""LogonType"":1}"#;
        assert_eq!(logon(text), "1");
        // Absent: empty, as the walk finds it.
        let none = br#"{""Operation"":""Move"",""D"":1}"#;
        assert_eq!(logon(none), "");
    }

    #[test]
    fn reads_plain_json_as_it_reads_doubled_cells() {
        let plain = br#"{"CreationTime":"2024-03-05T09:10:00","Operation":"Move","A":"x,\"LogonType\":9","Item":{"Subject":"say \"hi\" \u00e9"},"LogonType":2,"UserId":"a\"b"}"#;
        let doubled = String::from_utf8_lossy(plain).replace('"', "\"\"");
        let wanted = FieldSet::EMPTY
            .with(Field::LastAccessed)
            .with(Field::Operation)
            .with(Field::LogonType);
        let a = glance(plain, Quoting::Plain, FieldSet::ALL).expect("readable");
        let b = glance(doubled.as_bytes(), Quoting::Doubled, wanted);
        for f in [Field::LastAccessed, Field::Operation, Field::LogonType] {
            assert_eq!(
                a.record.get(f).unescaped(),
                b.as_ref().expect("readable").record.get(f).unescaped()
            );
        }
        // A read value with an escaped quote: plain JSON unescapes it, a doubled cell is
        // left to the full parser.
        assert!(glance(doubled.as_bytes(), Quoting::Doubled, FieldSet::ALL).is_none());
        assert_eq!(&*a.record.get(Field::UserId).unescaped(), b"a\"b");
        assert_eq!(subjects(&a), Some(vec!["say \"hi\" \u{e9}".to_string()]));
        let logon_only = FieldSet::EMPTY
            .with(Field::Operation)
            .with(Field::LogonType);
        let jumped = glance(plain, Quoting::Plain, logon_only).expect("readable");
        assert_eq!(jumped.record.get(Field::LogonType).bytes, b"2");
    }

    #[test]
    fn never_panics_on_prefixes() {
        let cell = br#"{""CreationTime"":""2024-03-05T09:10:00"",""Item"":{""Subject"":""x""},""Operation"":""SoftDelete"",""LogonType"":2}"#;
        for n in 0..=cell.len() {
            let _ = glance(&cell[..n], Quoting::Doubled, FieldSet::ALL);
            let _ = glance(&cell[n..], Quoting::Doubled, FieldSet::ALL);
        }
    }
}
