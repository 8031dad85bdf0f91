//! The search rules: the seed script's, and the ones responders need next.
//!
//! [`Filter::first_failing`] is pure: it looks at one borrowed record and names the first
//! rule, in [`Rule`] order, that drops it. The date window is kept apart
//! ([`DateWindow`]) because a culture-formatted time can only be read once the whole
//! file has shown its day/month order; the caller applies it first.

use regex::bytes::{Regex, RegexBuilder};

use crate::datetime::Timestamp;
use crate::record::{logon_type_name, AuditRecord, Family, Field, FieldSet, RawField};

/// The fields `--mailbox`, `--user` and `--ip` look at.
const MAILBOX_FIELDS: [Field; 3] = [
    Field::MailboxOwnerUpn,
    Field::MailboxResolvedOwnerName,
    Field::MailboxGuid,
];
const USER_FIELDS: [Field; 2] = [Field::LogonUserDisplayName, Field::LogonUserSid];
const IP_FIELDS: [Field; 2] = [Field::ClientIpAddress, Field::ClientIp];

/// A rule that can drop a record, in the order they are applied (and counted).
///
/// The order follows the seed script: the cmdlet's own date window, logon types and
/// mailbox first, then FolderBind removal, then our extra filters, then the subject.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// Unified Audit Log records of other families (`--record-types`).
    RecordType,
    DateWindow,
    LogonType,
    Mailbox,
    FolderBind,
    Operation,
    User,
    ClientIp,
    Subject,
}

pub const RULE_COUNT: usize = Rule::Subject as usize + 1;

impl Rule {
    pub const ALL: [Rule; RULE_COUNT] = [
        Rule::RecordType,
        Rule::DateWindow,
        Rule::LogonType,
        Rule::Mailbox,
        Rule::FolderBind,
        Rule::Operation,
        Rule::User,
        Rule::ClientIp,
        Rule::Subject,
    ];

    /// How the funnel names the records this rule dropped.
    pub fn describe(self) -> &'static str {
        match self {
            Rule::RecordType => "other record types (--record-types)",
            Rule::DateWindow => "outside the date window",
            Rule::LogonType => "other logon types",
            Rule::Mailbox => "other mailboxes (--mailbox)",
            Rule::FolderBind => "FolderBind removed",
            Rule::Operation => "operations not selected (--operation/--exclude-operation)",
            Rule::User => "other users (--user)",
            Rule::ClientIp => "other client IPs (--ip)",
            Rule::Subject => "subject not matched (--subject)",
        }
    }
}

/// Which Unified Audit Log records `--record-types` keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum RecordTypes {
    /// Exchange mailbox records (ExchangeItem, ExchangeItemGroup, ExchangeItemAggregated,
    /// ExchangeAggregatedOperation) and every legacy mailbox audit record.
    #[default]
    Mailbox,
    /// Mailbox records plus ExchangeAdmin cmdlet records (New-InboxRule, Set-Mailbox...).
    Admin,
    /// Every record, whatever its workload.
    All,
}

impl RecordTypes {
    pub fn keeps(self, family: Family) -> bool {
        match self {
            RecordTypes::All => true,
            RecordTypes::Admin => family != Family::Other,
            RecordTypes::Mailbox => family == Family::Mailbox,
        }
    }
}

/// `[start, end)` in UTC; either side may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DateWindow {
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
}

impl DateWindow {
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t < e)
    }
}

/// Matches `--subject`: the script's `-match $Subject -or -eq $Subject`, both
/// case-insensitive with Unicode case folding.
#[derive(Clone, Debug)]
pub struct SubjectMatcher {
    /// The pattern as a regex; `None` when it is compared exactly only.
    regex: Option<Regex>,
    exact: Regex,
}

impl SubjectMatcher {
    /// Builds the matcher; with `exact_only`, or when `pattern` is not a valid regex, the
    /// subject must equal the pattern. The second value is the regex error, if any.
    pub fn new(pattern: &str, exact_only: bool) -> (SubjectMatcher, Option<String>) {
        let literal = regex::escape(pattern);
        let build = |p: &str| RegexBuilder::new(p).case_insensitive(true).build();
        let exact =
            build(&format!(r"\A(?:{literal})\z")).expect("an escaped literal is a valid regex");
        if exact_only {
            return (SubjectMatcher { regex: None, exact }, None);
        }
        match build(pattern) {
            Ok(regex) => (
                SubjectMatcher {
                    regex: Some(regex),
                    exact,
                },
                None,
            ),
            Err(e) => (SubjectMatcher { regex: None, exact }, Some(e.to_string())),
        }
    }

    pub fn is_match(&self, subject: &[u8]) -> bool {
        self.regex.as_ref().is_some_and(|r| r.is_match(subject)) || self.exact.is_match(subject)
    }
}

/// Matches `--ip`: an address or CIDR block against the record's normalised client
/// address, or a host name (see [`crate::ip`] for the rules).
pub use crate::ip::IpPattern as IpMatcher;

/// Case-insensitive equality of a field with an already lower-cased value; allocates only
/// when the field is not ASCII.
fn eq_ignore_case(field: &[u8], lower: &str) -> bool {
    if field.is_ascii() {
        return field.eq_ignore_ascii_case(lower.as_bytes());
    }
    String::from_utf8_lossy(field).to_lowercase() == lower
}

/// Every rule but the date window, compiled.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub record_types: RecordTypes,
    pub window: DateWindow,
    pub include_folder_bind: bool,
    /// Allowed logon type names; `None` keeps every logon type.
    pub logon_types: Option<Vec<String>>,
    /// Lower-cased `--mailbox` values.
    pub mailboxes: Vec<String>,
    pub operations: Vec<String>,
    pub exclude_operations: Vec<String>,
    /// Lower-cased `--user` values.
    pub users: Vec<String>,
    pub ips: Vec<IpMatcher>,
    pub subject: Option<SubjectMatcher>,
}

impl Filter {
    /// The first rule after the date window that drops `rec`, or `None` to keep it.
    /// `check_logon` is false for a file that has no LogonType column.
    pub fn first_failing(
        &self,
        rec: &AuditRecord<'_>,
        check_logon: bool,
        scratch: &mut Vec<u8>,
    ) -> Option<Rule> {
        self.first_failing_before_subject(rec, check_logon, scratch)
            .or_else(|| (!self.subject_matches(rec, scratch)).then_some(Rule::Subject))
    }

    /// The fields [`Filter::first_failing_before_subject`] reads with these settings: a
    /// record holding only them gets the same answer as the whole record.
    pub fn fields_before_subject(&self, check_logon: bool) -> FieldSet {
        let mut set = FieldSet::EMPTY.with(Field::Operation);
        if check_logon && self.logon_types.is_some() {
            set = set.with(Field::LogonType);
        }
        if !self.mailboxes.is_empty() {
            set = set.with_all(&MAILBOX_FIELDS);
        }
        if !self.users.is_empty() {
            set = set.with_all(&USER_FIELDS);
        }
        if !self.ips.is_empty() {
            set = set.with_all(&IP_FIELDS);
        }
        set
    }

    /// Like [`Filter::first_failing`], without the subject rule (for records whose
    /// subjects are not read yet).
    pub fn first_failing_before_subject(
        &self,
        rec: &AuditRecord<'_>,
        check_logon: bool,
        scratch: &mut Vec<u8>,
    ) -> Option<Rule> {
        let op = rec.get(Field::Operation);
        if check_logon {
            if let Some(types) = &self.logon_types {
                let name = logon_type_name(rec.get(Field::LogonType).bytes);
                if !types
                    .iter()
                    .any(|t| t.as_bytes().eq_ignore_ascii_case(name))
                {
                    return Some(Rule::LogonType);
                }
            }
        }
        if !self.mailboxes.is_empty()
            && !any_field_matches(rec, &MAILBOX_FIELDS, &self.mailboxes, scratch)
        {
            return Some(Rule::Mailbox);
        }
        if !self.include_folder_bind && op.eq_ignore_ascii_case(b"FolderBind") {
            return Some(Rule::FolderBind);
        }
        if (!self.operations.is_empty()
            && !self
                .operations
                .iter()
                .any(|o| op.eq_ignore_ascii_case(o.as_bytes())))
            || self
                .exclude_operations
                .iter()
                .any(|o| op.eq_ignore_ascii_case(o.as_bytes()))
        {
            return Some(Rule::Operation);
        }
        if !self.users.is_empty() && !any_field_matches(rec, &USER_FIELDS, &self.users, scratch) {
            return Some(Rule::User);
        }
        if !self.ips.is_empty() {
            let hit = IP_FIELDS.iter().any(|&f| {
                let v = rec.get(f);
                !v.is_empty() && self.ips.iter().any(|m| m.is_match(v.bytes))
            });
            if !hit {
                return Some(Rule::ClientIp);
            }
        }
        None
    }

    fn subject_matches(&self, rec: &AuditRecord<'_>, scratch: &mut Vec<u8>) -> bool {
        let Some(subject) = &self.subject else {
            return true;
        };
        subject.is_match(rec.subject().unescaped_in(scratch))
            || rec
                .extra_subjects
                .iter()
                .any(|s| subject.is_match(s.unescaped_in(scratch)))
    }
}

fn any_field_matches(
    rec: &AuditRecord<'_>,
    fields: &[Field],
    wanted_lower: &[String],
    scratch: &mut Vec<u8>,
) -> bool {
    fields.iter().any(|&f| {
        let raw: RawField<'_> = rec.get(f);
        if raw.is_empty() {
            return false;
        }
        let value = raw.unescaped_in(scratch).trim_ascii();
        wanted_lower.iter().any(|w| eq_ignore_case(value, w))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Escape;

    fn rec(pairs: &[(Field, &'static str)]) -> AuditRecord<'static> {
        let mut r = AuditRecord::default();
        for &(f, v) in pairs {
            r.set(f, RawField::new(v.as_bytes(), Escape::None));
        }
        r
    }

    fn script_filter() -> Filter {
        Filter {
            logon_types: Some(vec!["Owner".into(), "Admin".into(), "Delegate".into()]),
            ..Filter::default()
        }
    }

    #[test]
    fn fields_before_subject_are_all_it_reads() {
        let full = rec(&[
            (Field::Operation, "HardDelete"),
            (Field::LogonType, "Delegate"),
            (Field::MailboxOwnerUpn, "a@contoso.com"),
            (Field::MailboxResolvedOwnerName, "CONTOSO\\a"),
            (Field::MailboxGuid, "f00d"),
            (Field::LogonUserDisplayName, "Eve"),
            (Field::LogonUserSid, "S-1-5-21-1"),
            (Field::UserId, "eve@contoso.com"),
            (Field::ClientIpAddress, "10.1.2.3"),
            (Field::ClientIp, "192.0.2.1:443"),
            (Field::ItemSubject, "hello"),
        ]);
        let variants: Vec<fn(&mut Filter)> = vec![
            |_| {},
            |f| f.logon_types = Some(vec!["Owner".into()]),
            |f| f.logon_types = None,
            |f| f.mailboxes = vec!["a@contoso.com".into()],
            |f| f.mailboxes = vec!["f00d".into()],
            |f| f.mailboxes = vec!["nobody".into()],
            |f| f.users = vec!["s-1-5-21-1".into()],
            |f| f.users = vec!["mallory".into()],
            |f| f.ips = vec![IpMatcher::parse("192.0.2.0/24").expect("block")],
            |f| f.ips = vec![IpMatcher::parse("203.0.113.9").expect("address")],
            |f| f.operations = vec!["harddelete".into()],
            |f| f.exclude_operations = vec!["harddelete".into()],
            |f| f.include_folder_bind = true,
        ];
        let mut scratch = Vec::new();
        for (i, vary) in variants.iter().enumerate() {
            let mut f = script_filter();
            vary(&mut f);
            for check_logon in [true, false] {
                let set = f.fields_before_subject(check_logon);
                let mut partial = AuditRecord::default();
                for field in Field::ALL.into_iter().filter(|&g| set.contains(g)) {
                    partial.set(field, full.get(field));
                }
                assert_eq!(
                    f.first_failing_before_subject(&partial, check_logon, &mut scratch),
                    f.first_failing_before_subject(&full, check_logon, &mut scratch),
                    "variant {i}, check_logon {check_logon}"
                );
            }
        }
    }

    #[test]
    fn folder_bind_dropped_unless_asked() {
        let r = rec(&[
            (Field::Operation, "folderbind"),
            (Field::LogonType, "Delegate"),
        ]);
        let mut s = Vec::new();
        let mut f = script_filter();
        assert_eq!(f.first_failing(&r, true, &mut s), Some(Rule::FolderBind));
        f.include_folder_bind = true;
        assert_eq!(f.first_failing(&r, true, &mut s), None);
    }

    #[test]
    fn logon_types_by_name_or_number() {
        let f = script_filter();
        let mut s = Vec::new();
        for (lt, keep) in [
            ("Owner", true),
            ("2", true),
            ("4", false),
            ("SystemService", false),
            ("", false),
        ] {
            let r = rec(&[(Field::Operation, "Move"), (Field::LogonType, lt)]);
            assert_eq!(f.first_failing(&r, true, &mut s).is_none(), keep, "{lt}");
        }
        let r = rec(&[(Field::Operation, "Move"), (Field::LogonType, "Transport")]);
        assert_eq!(f.first_failing(&r, false, &mut s), None);
    }

    #[test]
    fn subject_regex_or_exact_with_unicode_case() {
        let (m, err) = SubjectMatcher::new("RÉSUMÉ", false);
        assert!(err.is_none());
        assert!(m.is_match("Résumé – Jürgen".as_bytes()));
        let (m, err) = SubjectMatcher::new("a+(b", false);
        assert!(err.is_some());
        assert!(m.is_match(b"A+(B"));
        assert!(!m.is_match(b"xa+(b"));
        let (m, _) = SubjectMatcher::new("good news", true);
        assert!(m.is_match(b"Good News"));
        assert!(!m.is_match(b"RE: Good News"));
        let (m, _) = SubjectMatcher::new("a+b", false);
        assert!(m.is_match(b"a+b"), "-eq also counts");
    }

    #[test]
    fn mailbox_user_and_operations() {
        let r = rec(&[
            (Field::Operation, "HardDelete"),
            (Field::LogonType, "Delegate"),
            (Field::MailboxOwnerUpn, "Test1@Contoso.com"),
            (Field::LogonUserDisplayName, "Eve Attacker"),
        ]);
        let mut s = Vec::new();
        let mut f = script_filter();
        f.mailboxes = vec!["test1@contoso.com".into()];
        f.users = vec!["eve attacker".into()];
        assert_eq!(f.first_failing(&r, true, &mut s), None);
        f.exclude_operations = vec!["harddelete".into()];
        assert_eq!(f.first_failing(&r, true, &mut s), Some(Rule::Operation));
        f.exclude_operations.clear();
        f.operations = vec!["SoftDelete".into()];
        assert_eq!(f.first_failing(&r, true, &mut s), Some(Rule::Operation));
        f.operations.clear();
        f.mailboxes = vec!["other@contoso.com".into()];
        assert_eq!(f.first_failing(&r, true, &mut s), Some(Rule::Mailbox));
    }

    #[test]
    fn window_is_half_open() {
        let w = DateWindow {
            start: Some(Timestamp(10)),
            end: Some(Timestamp(20)),
        };
        assert!(w.contains(Timestamp(10)));
        assert!(!w.contains(Timestamp(20)));
        assert!(!w.contains(Timestamp(9)));
    }
}
