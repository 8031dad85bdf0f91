//! The summary: what is counted, how it is built from the kept rows, how two summaries
//! merge, and its JSON form (the mergeable form `summary --merge` reads). How it is drawn
//! (text, CSV, the HTML page) is [`crate::output`]'s business.
//!
//! # Mergeable, exactly
//!
//! A [`Summary`] is a state, not a report: merging two of them ([`Summary::merge`]) gives
//! exactly the summary of both inputs together (provided they hold no event in common:
//! de-duplication happens within one run). Counts add; first and last seen take the
//! minimum and maximum; activity is kept per operation and per UTC hour, which sums, and
//! days are derived from hours. Distinct counts (users, mailboxes, client IPs per
//! operation and per logon type) cannot be added — two halves may share a user — so the
//! summary carries the **distinct sets themselves**, and merging takes their union. The
//! top tables likewise keep every value with its count, not just the first N: `--top`
//! applies when the tables are drawn.
//!
//! The price is size: a JSON summary grows with the number of distinct values, not with
//! the number of records. An operation seen by 5 users from 40 addresses stores 45 short
//! strings whatever its count; ten thousand mailboxes each touched by every operation
//! would store each address once per operation (tens of MB). Sketches (HyperLogLog)
//! would be smaller, but approximate; a responder comparing "how many IPs touched this
//! mailbox" needs the exact number and, often, the list itself.
//!
//! Empty values (a Transport record has no client IP) are counted in the top tables, as
//! `""` (shown `(none)`), but are not distinct users, mailboxes or addresses.
//!
//! Counts read from JSON may be anything up to 2^64 - 1: merging adds them with checked
//! arithmetic, and a sum that does not fit is refused with a message, never wrapped.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use anyhow::{anyhow, bail, ensure, Context, Result};
use serde::{Deserialize, Serialize};

use crate::datetime::{parse_time, ParsedTime, Timestamp};
use crate::filter::{Rule, RULE_COUNT};
use crate::funnel::Counts;
use crate::pipeline::Outcome;
use crate::record::OwnedRecord;
use crate::who::{self, Key};

mod columns;
mod networks;

pub use networks::{Networks, Place};

/// The values a summary counts: what `summary` keeps of each row.
pub const KEYS: [Key; 6] = [
    Key::Operation,
    Key::LogonType,
    Key::Actor,
    Key::Mailbox,
    Key::ClientIp,
    Key::ClientApp,
];

/// The `format` member of a JSON summary.
pub const FORMAT_NAME: &str = "mbxaudit-summary";
/// The `version` member of a JSON summary this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

const NANOS_PER_HOUR: i64 = 3_600 * 1_000_000_000;

/// The activity buckets (UTC): `summary --by`, `report --by`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Bucket {
    #[default]
    Day,
    Hour,
}

impl Bucket {
    /// Days or hours since the epoch of an hour index.
    pub fn of_hour(self, hour: i64) -> i64 {
        match self {
            Bucket::Day => hour.div_euclid(24),
            Bucket::Hour => hour,
        }
    }

    /// `2017-04-10`, or `2017-04-10 15:00`, for a day (hour) index.
    pub fn label_of(self, index: i64) -> String {
        match self {
            Bucket::Day => {
                let k = hour_key(index.saturating_mul(24));
                k.get(..10).unwrap_or(&k).to_string()
            }
            Bucket::Hour => {
                let k = hour_key(index);
                match (k.get(..10), k.get(11..)) {
                    (Some(day), Some(hour)) => format!("{day} {hour}:00"),
                    _ => k,
                }
            }
        }
    }
}

/// Everything a summary knows; see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// Always [`FORMAT_VERSION`].
    pub version: u32,
    /// The inputs summarised, as named to the user, in order.
    pub inputs: Vec<String>,
    /// The rules in force, one line each.
    pub filters: Vec<String>,
    /// Where every row read went.
    pub funnel: Funnel,
    /// Records summarised (after the rules and de-duplication).
    pub records: u64,
    /// Per operation.
    pub operations: BTreeMap<String, Group>,
    /// Per logon type (by name).
    pub logon_types: BTreeMap<String, Group>,
    /// Records per acting user.
    pub users: BTreeMap<String, u64>,
    /// Records per mailbox.
    pub mailboxes: BTreeMap<String, u64>,
    /// Records per client address (port removed).
    pub client_ips: BTreeMap<String, u64>,
    /// Records per client application (ClientInfoString before its first `;`).
    pub client_apps: BTreeMap<String, u64>,
    /// Per operation, records per UTC hour (`2017-04-10T15`).
    pub activity: BTreeMap<String, BTreeMap<String, u64>>,
    /// Where the client addresses are, with `--geoip` (absent without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networks: Option<Networks>,
}

/// The records of one operation (or logon type).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub count: u64,
    #[serde(with = "iso")]
    pub first: Timestamp,
    #[serde(with = "iso")]
    pub last: Timestamp,
    pub users: BTreeSet<String>,
    pub mailboxes: BTreeSet<String>,
    pub client_ips: BTreeSet<String>,
}

/// The funnel of [`Counts`], in JSON: rules by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Funnel {
    pub read: u64,
    pub malformed: u64,
    /// Rows of files rejected as a whole once read; left out of the JSON when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rejected: u64,
    /// Records dropped per rule, by rule name (every rule listed, even at 0).
    pub dropped: BTreeMap<String, u64>,
    pub matched: u64,
    pub duplicates: u64,
    /// Of the duplicates, those found in exports of other columns; left out when 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub other_shapes: u64,
    pub skipped_workloads: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// `a + b`, or an error naming `what` when the sum does not fit in 64 bits.
fn add(a: u64, b: u64, what: &str) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| {
        anyhow!(
            "{what}: {a} + {b} is too large to count (over {}); the summaries cannot be \
             merged (were they edited?)",
            u64::MAX
        )
    })
}

/// The sum of `values`, `None` when it does not fit in 64 bits.
fn total(values: impl IntoIterator<Item = u64>) -> Option<u64> {
    values
        .into_iter()
        .try_fold(0u64, |sum, n| sum.checked_add(n))
}

/// A rule's name in JSON (stable: not `Debug`).
fn rule_key(rule: Rule) -> &'static str {
    match rule {
        Rule::RecordType => "record_type",
        Rule::DateWindow => "date_window",
        Rule::LogonType => "logon_type",
        Rule::Mailbox => "mailbox",
        Rule::FolderBind => "folder_bind",
        Rule::Operation => "operation",
        Rule::User => "user",
        Rule::ClientIp => "client_ip",
        Rule::Subject => "subject",
    }
}

impl Funnel {
    pub fn from_counts(c: &Counts) -> Funnel {
        Funnel {
            read: c.read,
            malformed: c.malformed,
            rejected: c.rejected,
            dropped: Rule::ALL
                .iter()
                .map(|&r| (rule_key(r).to_string(), c.dropped_by(r)))
                .collect(),
            matched: c.matched,
            duplicates: c.duplicates,
            other_shapes: c.other_shapes,
            skipped_workloads: c.skipped_workloads.clone(),
        }
    }

    /// Back to [`Counts`], to print; unknown rule names are an error.
    pub fn to_counts(&self) -> Result<Counts> {
        let mut dropped = [0u64; RULE_COUNT];
        for (name, &n) in &self.dropped {
            let Some(rule) = Rule::ALL.iter().find(|&&r| rule_key(r) == name) else {
                bail!("funnel: unknown rule '{name}'");
            };
            dropped[*rule as usize] = n;
        }
        let c = Counts {
            read: self.read,
            malformed: self.malformed,
            rejected: self.rejected,
            dropped,
            matched: self.matched,
            duplicates: self.duplicates,
            other_shapes: self.other_shapes,
            skipped_workloads: self.skipped_workloads.clone(),
        };
        ensure!(
            c.matched >= c.duplicates && c.duplicates >= c.other_shapes && c.adds_up(),
            "funnel: the counts do not add up"
        );
        Ok(c)
    }

    fn add(&mut self, other: &Funnel) -> Result<()> {
        self.read = add(self.read, other.read, "rows read")?;
        self.malformed = add(self.malformed, other.malformed, "malformed rows")?;
        self.rejected = add(self.rejected, other.rejected, "rows of rejected files")?;
        add_counts(&mut self.dropped, &other.dropped, "rows dropped by")?;
        self.matched = add(self.matched, other.matched, "rows matched")?;
        self.duplicates = add(self.duplicates, other.duplicates, "duplicates")?;
        self.other_shapes = add(self.other_shapes, other.other_shapes, "duplicates")?;
        add_counts(
            &mut self.skipped_workloads,
            &other.skipped_workloads,
            "skipped records of",
        )
    }
}

/// Adds the counts of `from` to those of `into`, key by key (`what` names them in an
/// error).
fn add_counts(
    into: &mut BTreeMap<String, u64>,
    from: &BTreeMap<String, u64>,
    what: &str,
) -> Result<()> {
    for (k, v) in from {
        match into.get_mut(k) {
            Some(n) => *n = add(*n, *v, &format!("{what} '{k}'"))?,
            None => {
                into.insert(k.clone(), *v);
            }
        }
    }
    Ok(())
}

impl Group {
    fn merge(&mut self, other: Group, name: &str) -> Result<()> {
        self.count = add(self.count, other.count, &format!("records of '{name}'"))?;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.users.extend(other.users);
        self.mailboxes.extend(other.mailboxes);
        self.client_ips.extend(other.client_ips);
        Ok(())
    }
}

fn merge_groups(into: &mut BTreeMap<String, Group>, from: BTreeMap<String, Group>) -> Result<()> {
    for (k, g) in from {
        match into.get_mut(&k) {
            Some(mine) => mine.merge(g, &k)?,
            None => {
                into.insert(k, g);
            }
        }
    }
    Ok(())
}

/// A group while rows are counted: borrowed keys, no allocation per row.
struct GroupBuilder<'a> {
    count: u64,
    first: Timestamp,
    last: Timestamp,
    users: HashSet<&'a str>,
    mailboxes: HashSet<&'a str>,
    client_ips: HashSet<Cow<'a, str>>,
}

impl<'a> GroupBuilder<'a> {
    fn new(t: Timestamp) -> Self {
        GroupBuilder {
            count: 0,
            first: t,
            last: t,
            users: HashSet::new(),
            mailboxes: HashSet::new(),
            client_ips: HashSet::new(),
        }
    }

    fn add(&mut self, t: Timestamp, user: &'a str, mailbox: &'a str, ip: Cow<'a, str>) {
        self.count += 1;
        self.first = self.first.min(t);
        self.last = self.last.max(t);
        if !user.is_empty() {
            self.users.insert(user);
        }
        if !mailbox.is_empty() {
            self.mailboxes.insert(mailbox);
        }
        if !ip.is_empty() && !self.client_ips.contains(&ip) {
            self.client_ips.insert(ip);
        }
    }

    fn build(self) -> Group {
        Group {
            count: self.count,
            first: self.first,
            last: self.last,
            users: self.users.into_iter().map(str::to_owned).collect(),
            mailboxes: self.mailboxes.into_iter().map(str::to_owned).collect(),
            client_ips: self.client_ips.into_iter().map(Cow::into_owned).collect(),
        }
    }
}

fn bump<'a>(map: &mut HashMap<Cow<'a, str>, u64>, key: Cow<'a, str>) {
    *map.entry(key).or_default() += 1;
}

fn owned_counts(map: HashMap<Cow<'_, str>, u64>) -> BTreeMap<String, u64> {
    map.into_iter().map(|(k, v)| (k.into_owned(), v)).collect()
}

/// `2017-04-10T15`: the UTC hour `index` hours after the epoch.
pub fn hour_key(index: i64) -> String {
    let mut iso = Timestamp(index.saturating_mul(NANOS_PER_HOUR)).to_iso();
    iso.truncate(13);
    iso
}

/// The hour index of a key written by [`hour_key`]; `None` for anything else.
pub fn hour_index(key: &str) -> Option<i64> {
    let b = key.as_bytes();
    if b.len() != 13 || b.get(10) != Some(&b'T') {
        return None;
    }
    match parse_time(format!("{key}:00:00Z").as_bytes()) {
        Ok(ParsedTime::Utc(t)) if t.0.rem_euclid(NANOS_PER_HOUR) == 0 => {
            Some(t.0.div_euclid(NANOS_PER_HOUR))
        }
        _ => None,
    }
}

impl Summary {
    /// An empty summary of nothing.
    pub fn empty() -> Summary {
        Summary {
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            inputs: Vec::new(),
            filters: Vec::new(),
            funnel: Funnel::from_counts(&Counts::default()),
            records: 0,
            operations: BTreeMap::new(),
            logon_types: BTreeMap::new(),
            users: BTreeMap::new(),
            mailboxes: BTreeMap::new(),
            client_ips: BTreeMap::new(),
            client_apps: BTreeMap::new(),
            activity: BTreeMap::new(),
            networks: None,
        }
    }

    /// The summary of a search's outcome (kept as columns holding [`KEYS`]); `filters`
    /// are the rules in force.
    pub fn build(outcome: &Outcome, filters: &[String]) -> Summary {
        let mut s = match outcome.table() {
            Some(t) => Summary::of_table(t),
            None => Summary::of_rows(&outcome.rows().unwrap_or_default()),
        };
        s.inputs = outcome.files.iter().map(|f| f.origin.display()).collect();
        s.filters = filters.to_vec();
        s.funnel = Funnel::from_counts(&outcome.totals);
        s
    }

    /// Places the client addresses with `--geoip`'s databases (see [`Networks`]).
    pub fn locate(&mut self, geo: &crate::enrich::Enricher) {
        self.networks = Some(Networks::locate(geo, self.client_ips.keys()));
    }

    /// The counted part of a summary (no inputs, filters or funnel).
    pub fn of_rows(rows: &[OwnedRecord]) -> Summary {
        let mut ops: HashMap<&str, GroupBuilder<'_>> = HashMap::new();
        let mut logons: HashMap<&str, GroupBuilder<'_>> = HashMap::new();
        let mut users = HashMap::new();
        let mut mailboxes = HashMap::new();
        let mut ips = HashMap::new();
        let mut apps = HashMap::new();
        let mut hours: HashMap<(&str, i64), u64> = HashMap::new();
        for row in rows {
            let t = row.time;
            let (op, logon) = (who::operation(row), who::logon_type(row));
            let (user, mailbox, ip) = (who::user(row), who::mailbox(row), who::client_ip(row));
            ops.entry(op)
                .or_insert_with(|| GroupBuilder::new(t))
                .add(t, user, mailbox, ip.clone());
            logons
                .entry(logon)
                .or_insert_with(|| GroupBuilder::new(t))
                .add(t, user, mailbox, ip.clone());
            bump(&mut users, Cow::Borrowed(user));
            bump(&mut mailboxes, Cow::Borrowed(mailbox));
            bump(&mut ips, ip);
            bump(&mut apps, Cow::Borrowed(who::client_app(row)));
            *hours
                .entry((op, t.0.div_euclid(NANOS_PER_HOUR)))
                .or_default() += 1;
        }
        let mut activity: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for ((op, hour), n) in hours {
            activity
                .entry(op.to_owned())
                .or_default()
                .insert(hour_key(hour), n);
        }
        let groups = |m: HashMap<&str, GroupBuilder<'_>>| {
            m.into_iter()
                .map(|(k, g)| (k.to_owned(), g.build()))
                .collect()
        };
        Summary {
            records: rows.len() as u64,
            operations: groups(ops),
            logon_types: groups(logons),
            users: owned_counts(users),
            mailboxes: owned_counts(mailboxes),
            client_ips: owned_counts(ips),
            client_apps: owned_counts(apps),
            activity,
            ..Summary::empty()
        }
    }

    /// Adds `other` (the summary of other, disjoint inputs) to this one. Returns warnings
    /// (e.g. the parts were made with different rules); an error when a count would not
    /// fit in 64 bits (`self` is then partly merged: drop it).
    pub fn merge(&mut self, other: Summary) -> Result<Vec<String>> {
        let mut warnings = Vec::new();
        if self.filters != other.filters {
            warnings.push(format!(
                "the summaries were made with different rules ({} / {}); the merged summary lists both",
                self.filters.join("; "),
                other.filters.join("; ")
            ));
            for f in &other.filters {
                if !self.filters.contains(f) {
                    self.filters.push(f.clone());
                }
            }
        }
        let dup: Vec<&String> = other
            .inputs
            .iter()
            .filter(|i| self.inputs.contains(i))
            .collect();
        if !dup.is_empty() {
            warnings.push(format!(
                "{} summarised twice: its records are counted twice",
                dup.iter()
                    .map(|s| format!("'{s}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        self.inputs.extend(other.inputs);
        self.funnel.add(&other.funnel)?;
        self.records = add(self.records, other.records, "records")?;
        merge_groups(&mut self.operations, other.operations)?;
        merge_groups(&mut self.logon_types, other.logon_types)?;
        add_counts(&mut self.users, &other.users, "records of user")?;
        add_counts(&mut self.mailboxes, &other.mailboxes, "records of mailbox")?;
        add_counts(&mut self.client_ips, &other.client_ips, "records from")?;
        add_counts(&mut self.client_apps, &other.client_apps, "records of app")?;
        for (op, hours) in other.activity {
            let what = format!("records of '{op}' in hour");
            add_counts(self.activity.entry(op).or_default(), &hours, &what)?;
        }
        match (&mut self.networks, other.networks) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (None, None) => {}
            (mine, theirs) => {
                warnings.push(
                    "only some of the summaries were made with --geoip: the addresses of the \
                     others count as unplaced in the countries and networks tables"
                        .into(),
                );
                let mut all = mine.take().unwrap_or_default();
                all.merge(theirs.unwrap_or_default());
                *mine = Some(all);
            }
        }
        Ok(warnings)
    }

    /// The first and last event of all.
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        let first = self.operations.values().map(|g| g.first).min()?;
        let last = self.operations.values().map(|g| g.last).max()?;
        Some((first, last))
    }

    /// Reads a JSON summary and checks that it is one, whole and consistent.
    pub fn from_json(bytes: &[u8]) -> Result<Summary> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let s: Summary = serde_json::from_slice(bytes)
            .context("not an mbxaudit JSON summary (mbxaudit summary --format json)")?;
        ensure!(
            s.format == FORMAT_NAME,
            "not an mbxaudit summary (format '{}')",
            s.format
        );
        ensure!(
            s.version == FORMAT_VERSION,
            "summary version {} (this mbxaudit reads version {FORMAT_VERSION})",
            s.version
        );
        s.check().context("inconsistent summary (edited or cut?)")?;
        Ok(s)
    }

    /// The summary as pretty JSON, with a final newline.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut out = serde_json::to_vec_pretty(self).context("cannot write the summary")?;
        out.push(b'\n');
        Ok(out)
    }

    /// Every table adds up to the number of records.
    fn check(&self) -> Result<()> {
        let counts = self.funnel.to_counts()?;
        ensure!(
            counts.written() == self.records,
            "funnel writes {} records, the summary holds {}",
            counts.written(),
            self.records
        );
        let counts = |m: &BTreeMap<String, u64>| total(m.values().copied());
        let groups = |m: &BTreeMap<String, Group>| total(m.values().map(|g| g.count));
        for (name, n) in [
            ("operations", groups(&self.operations)),
            ("logon_types", groups(&self.logon_types)),
            ("users", counts(&self.users)),
            ("mailboxes", counts(&self.mailboxes)),
            ("client_ips", counts(&self.client_ips)),
            ("client_apps", counts(&self.client_apps)),
        ] {
            let Some(n) = n else {
                bail!("{name} count more records than 64 bits hold");
            };
            ensure!(
                n == self.records,
                "{name} count {n} records, not {}",
                self.records
            );
        }
        for (name, g) in self.operations.iter().chain(&self.logon_types) {
            ensure!(
                g.count > 0 && g.first <= g.last,
                "'{name}': no records or first after last"
            );
        }
        ensure!(
            self.activity.len() == self.operations.len(),
            "activity and operations name different operations"
        );
        for (op, hours) in &self.activity {
            let Some(g) = self.operations.get(op) else {
                bail!("activity of '{op}', which is not among the operations");
            };
            let n = counts(hours);
            ensure!(
                n == Some(g.count),
                "activity of '{op}' counts {} records, not {}",
                n.map_or("more".to_string(), |n| n.to_string()),
                g.count
            );
            if let Some(bad) = hours.keys().find(|k| hour_index(k).is_none()) {
                bail!("'{bad}' is not an hour (2017-04-10T15)");
            }
        }
        Ok(())
    }
}

/// Timestamps in JSON as ISO 8601 UTC, read back exactly (nanoseconds kept).
mod iso {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::datetime::{parse_time, ParsedTime, Timestamp};

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_iso())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        match parse_time(text.as_bytes()) {
            Ok(ParsedTime::Utc(t)) => Ok(t),
            _ => Err(serde::de::Error::custom(format!(
                "'{text}' is not an ISO 8601 UTC time"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_keys_round_trip() {
        for h in [0, 1, 413_000, -5] {
            assert_eq!(hour_index(&hour_key(h)), Some(h), "{}", hour_key(h));
        }
        assert_eq!(hour_key(413_055), "2017-02-13T15");
        assert_eq!(hour_index("2017-04-10"), None);
        assert_eq!(hour_index("2017-04-10T25"), None);
        assert_eq!(hour_index("2017-04-10 15"), None);
    }

    #[test]
    fn empty_summary_round_trips() {
        let s = Summary::empty();
        assert_eq!(Summary::from_json(&s.to_json().unwrap()).unwrap(), s);
    }

    #[test]
    fn rejects_other_json() {
        let e = Summary::from_json(b"{\"a\":1}").unwrap_err();
        assert!(format!("{e:#}").contains("not an mbxaudit JSON summary"));
        let mut s = Summary::empty();
        s.records = 3;
        let e = Summary::from_json(&s.to_json().unwrap()).unwrap_err();
        assert!(format!("{e:#}").contains("inconsistent"), "{e:#}");
    }
}
