//! What a rule looks at: [`Key`]s (a record's values by name, normalised the way
//! summaries count them) and [`Cond`]itions on them, compiled from the rules file's
//! `when` lists.
//!
//! A condition is one JSON object naming a `field` and exactly one test: `in` / `not_in`
//! (case-insensitive equality with any of the values), `matches` / `not_matches` (a
//! case-insensitive regular expression), `empty` (true or false), `differs_from` (another
//! field: true when both are non-empty and differ, ignoring case). `{"any": [...]}` holds
//! when one of its conditions does. A `when` list holds when all its conditions do.

use anyhow::{bail, Context, Result};
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::record::{Field, Fields};

pub use crate::who::Key;

/// The derived keys, by the name rules use.
const DERIVED: [(&str, Key); 8] = [
    ("actor", Key::Actor),
    ("mailbox", Key::Mailbox),
    ("operation", Key::Operation),
    ("logon_type", Key::LogonType),
    ("client_ip", Key::ClientIp),
    ("client_app", Key::ClientApp),
    ("subject", Key::Subject),
    ("folder", Key::Folder),
];

impl Key {
    /// `actor`, `mailbox`, `operation`, `logon_type`, `client_ip`, `client_app`,
    /// `subject`, `folder`, or a field name as in the full report (`MailAccessType`,
    /// `IsThrottled`, `UserId`...), any case.
    pub fn parse(name: &str) -> Result<Key> {
        let n = name.trim();
        if let Some((_, k)) = DERIVED.iter().find(|(d, _)| d.eq_ignore_ascii_case(n)) {
            return Ok(*k);
        }
        match Field::from_header(n.as_bytes()) {
            Some(f) => Ok(Key::Field(f)),
            None => bail!(
                "unknown field '{n}': use one of {}, or a column name of the full report \
                 (MailAccessType, IsThrottled, UserId, MailboxOwnerUPN...)",
                DERIVED.map(|(d, _)| d).join(", ")
            ),
        }
    }

    pub fn name(self) -> &'static str {
        match DERIVED.iter().find(|(_, k)| *k == self) {
            Some((n, _)) => n,
            None => match self {
                Key::Field(f) | Key::AsRead(f) => f.name(),
                _ => "?",
            },
        }
    }
}

/// A condition as written in a rules file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CondSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub in_: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_in: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_matches: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differs_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any: Option<Vec<CondSpec>>,
}

/// A compiled condition.
#[derive(Clone, Debug)]
pub enum Cond {
    /// The value equals one of these (lower-cased) values.
    In(Key, Vec<String>),
    NotIn(Key, Vec<String>),
    Matches(Key, Regex),
    NotMatches(Key, Regex),
    Empty(Key, bool),
    DiffersFrom(Key, Key),
    Any(Vec<Cond>),
    /// The row was tagged with this rule number when it was read (a Sigma rule matched
    /// it; see `pipeline::Tagger`). Not written in rules files.
    Tagged(u32),
}

fn regex(pattern: &str) -> Result<Regex> {
    RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .with_context(|| format!("'{pattern}' is not a valid regular expression"))
}

fn lower(values: &[String]) -> Vec<String> {
    values.iter().map(|v| v.trim().to_lowercase()).collect()
}

impl Cond {
    pub fn compile(spec: &CondSpec) -> Result<Cond> {
        if let Some(any) = &spec.any {
            if spec
                != &(CondSpec {
                    any: spec.any.clone(),
                    ..CondSpec::default()
                })
            {
                bail!("a condition with 'any' holds nothing else");
            }
            if any.is_empty() {
                bail!("'any' is empty");
            }
            return Ok(Cond::Any(
                any.iter().map(Cond::compile).collect::<Result<_>>()?,
            ));
        }
        let Some(field) = &spec.field else {
            bail!("a condition needs a 'field' (or is an 'any' list)");
        };
        let key = Key::parse(field)?;
        let mut tests = Vec::new();
        if let Some(v) = &spec.in_ {
            tests.push(Cond::In(key, lower(v)));
        }
        if let Some(v) = &spec.not_in {
            tests.push(Cond::NotIn(key, lower(v)));
        }
        if let Some(p) = &spec.matches {
            tests.push(Cond::Matches(key, regex(p)?));
        }
        if let Some(p) = &spec.not_matches {
            tests.push(Cond::NotMatches(key, regex(p)?));
        }
        if let Some(e) = spec.empty {
            tests.push(Cond::Empty(key, e));
        }
        if let Some(other) = &spec.differs_from {
            tests.push(Cond::DiffersFrom(key, Key::parse(other)?));
        }
        if tests.len() != 1 {
            bail!(
                "the condition on '{field}' needs exactly one test of in, not_in, matches, \
                 not_matches, empty, differs_from (it has {})",
                tests.len()
            );
        }
        Ok(tests.remove(0))
    }

    pub fn holds<R: Fields + ?Sized>(&self, row: &R) -> bool {
        match self {
            Cond::DiffersFrom(a, b) => differ(&a.value(row), &b.value(row)),
            Cond::Any(list) => list.iter().any(|c| c.holds(row)),
            Cond::Tagged(n) => row.tags().binary_search(n).is_ok(),
            _ => self.key().is_some_and(|k| self.test(&k.value(row))),
        }
    }

    /// The key a test on one value reads (`None` for `differs_from` and `any`).
    pub fn key(&self) -> Option<Key> {
        match self {
            Cond::In(k, _)
            | Cond::NotIn(k, _)
            | Cond::Matches(k, _)
            | Cond::NotMatches(k, _)
            | Cond::Empty(k, _) => Some(*k),
            Cond::DiffersFrom(..) | Cond::Any(_) | Cond::Tagged(_) => None,
        }
    }

    /// A test on one value (`in`, `not_in`, `matches`, `not_matches`, `empty`) applied to
    /// `value`; false for the others (`differs_from`, `any`, and `Tagged`, which reads the
    /// row's tags: see [`Cond::holds`]).
    pub fn test(&self, value: &str) -> bool {
        match self {
            Cond::In(_, values) => one_of(value, values),
            Cond::NotIn(_, values) => !one_of(value, values),
            Cond::Matches(_, re) => re.is_match(value),
            Cond::NotMatches(_, re) => !re.is_match(value),
            Cond::Empty(_, want) => value.is_empty() == *want,
            Cond::DiffersFrom(..) | Cond::Any(_) | Cond::Tagged(_) => false,
        }
    }

    /// Adds every key the condition reads to `out`.
    pub fn keys(&self, out: &mut Vec<Key>) {
        match self {
            Cond::DiffersFrom(a, b) => out.extend([*a, *b]),
            Cond::Any(list) => list.iter().for_each(|c| c.keys(out)),
            _ => out.extend(self.key()),
        }
    }
}

/// `differs_from`: both values non-empty and different, ignoring case.
pub fn differ(a: &str, b: &str) -> bool {
    !a.is_empty() && !b.is_empty() && !eq_ignore_case(a, b)
}

/// True when every condition holds.
pub fn all_hold<R: Fields + ?Sized>(conds: &[Cond], row: &R) -> bool {
    conds.iter().all(|c| c.holds(row))
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
        || (!(a.is_ascii() && b.is_ascii()) && a.to_lowercase() == b.to_lowercase())
}

/// `value` equals one of the lower-cased `values`, ignoring case.
fn one_of(value: &str, values: &[String]) -> bool {
    if value.is_ascii() {
        values.iter().any(|v| value.eq_ignore_ascii_case(v))
    } else {
        let v = value.to_lowercase();
        values.contains(&v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::Timestamp;
    use crate::record::{AuditRecord, Escape, OwnedRecord, RawField, SourcePos};

    fn row(fields: &[(Field, &'static str)]) -> OwnedRecord {
        let mut r = AuditRecord::default();
        for (f, v) in fields {
            r.set(*f, RawField::new(v.as_bytes(), Escape::None));
        }
        r.to_owned_record(Timestamp(0), SourcePos { file: 0, line: 2 }, false)
            .0
    }

    fn cond(json: &str) -> Result<Cond> {
        Cond::compile(&serde_json::from_str(json)?)
    }

    #[test]
    fn keys_by_name() {
        assert_eq!(Key::parse("Actor").unwrap(), Key::Actor);
        assert_eq!(
            Key::parse("mailaccesstype").unwrap(),
            Key::Field(Field::MailAccessType)
        );
        assert!(Key::parse("nope").is_err());
        assert_eq!(Key::ClientIp.name(), "client_ip");
        assert_eq!(Key::Field(Field::UserId).name(), "UserId");
    }

    #[test]
    fn tests_on_values() {
        let r = row(&[
            (Field::Operation, "SoftDelete"),
            (Field::LogonType, "2"),
            (Field::UserId, "eve@contoso.com"),
            (Field::MailboxOwnerUpn, "Test1@contoso.com"),
            (Field::ItemSubject, "-Name x -DeleteMessage True"),
        ]);
        assert!(cond(r#"{"field":"operation","in":["softdelete"]}"#)
            .unwrap()
            .holds(&r));
        assert!(cond(r#"{"field":"logon_type","not_in":["Owner"]}"#)
            .unwrap()
            .holds(&r));
        assert!(
            cond(r#"{"field":"subject","matches":"-deletemessage\\s+true"}"#)
                .unwrap()
                .holds(&r)
        );
        assert!(cond(r#"{"field":"ClientIPAddress","empty":true}"#)
            .unwrap()
            .holds(&r));
        assert!(
            cond(r#"{"field":"UserId","differs_from":"MailboxOwnerUPN"}"#)
                .unwrap()
                .holds(&r)
        );
        let owner = row(&[
            (Field::UserId, "test1@contoso.com"),
            (Field::MailboxOwnerUpn, "TEST1@contoso.com"),
        ]);
        assert!(
            !cond(r#"{"field":"UserId","differs_from":"MailboxOwnerUPN"}"#)
                .unwrap()
                .holds(&owner)
        );
        let any = cond(r#"{"any":[{"field":"operation","in":["x"]},{"field":"logon_type","in":["delegate"]}]}"#)
            .unwrap();
        assert!(any.holds(&r));
    }

    #[test]
    fn bad_conditions_explain() {
        let e = cond(r#"{"field":"operation"}"#).unwrap_err();
        assert!(e.to_string().contains("exactly one test"), "{e}");
        let e = cond(r#"{"field":"operation","in":["a"],"matches":"b"}"#).unwrap_err();
        assert!(e.to_string().contains("exactly one test"), "{e}");
        let e = cond(r#"{"field":"subject","matches":"("}"#).unwrap_err();
        assert!(
            format!("{e:#}").contains("not a valid regular expression"),
            "{e:#}"
        );
        assert!(cond(r#"{"fields":"x"}"#).is_err());
        let e = cond(r#"{"any":[],"field":"x"}"#).unwrap_err();
        assert!(e.to_string().contains("nothing else"), "{e}");
    }
}
