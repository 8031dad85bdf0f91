//! The three generic evaluators every rule runs on, and the [`Finding`]s they make.
//!
//! Rows come from the pipeline as columns ([`Table`]), sorted by time, so each group's
//! rows (indices into them, ascending) are in time order too. A condition on one value
//! is tested once per distinct value of its column, not once per row, and groups are
//! keyed by value numbers; rules run in parallel. An evaluator only decides which rows
//! are evidence of what; [`finish`] turns a set of evidence rows into a finding the same
//! way for all of them: severity (escalated by the rule's `escalate` entries), the `why`
//! sentence with its placeholders filled, the time span, the actor and the mailbox.
//!
//! - `match`: the rows that meet `when`, grouped by `group_by` and by the severity their
//!   escalations give them (a rule that forwards and one that does not are two findings).
//! - `threshold`: per group, a window of length `window` slides over the rows; wherever
//!   it holds at least `threshold` records, messages or distinct values, its rows are
//!   evidence; overlapping windows make one burst, one finding.
//! - `first_seen`: per group, the values seen in the first `baseline` of its rows are
//!   known; each value first seen later is a finding with every row that has it. Groups
//!   with too short a history (less than the baseline, or fewer than `min_baseline` rows
//!   in it) are not judged, and a note says how many.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use rayon::prelude::*;

use super::cond::{differ, Cond, Key};
use super::rules::{CountBy, Eval, Part, Rule, Severity};
use crate::datetime::Timestamp;
use crate::id_hash::{IdMap, IdSet};
use crate::pipeline::Table;
use crate::record::OwnedRecord;

/// Something a responder should look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    /// The rule's `why`, filled in.
    pub why: String,
    pub first: Timestamp,
    pub last: Timestamp,
    pub actor: String,
    pub mailbox: String,
    /// The evidence: indices into the rows, ascending (time order).
    pub rows: Vec<u32>,
}

/// All findings, worst first, and notes on what could not be judged.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub notes: Vec<String>,
}

/// The values every finding names (its `why` placeholders), besides its rule's own.
const NAMED: [Key; 8] = [
    Key::Actor,
    Key::Mailbox,
    Key::Operation,
    Key::LogonType,
    Key::ClientIp,
    Key::ClientApp,
    Key::Folder,
    Key::Subject,
];

/// The values `rules` read: what the pipeline keeps of each row for triage.
pub fn keys(rules: &[Rule]) -> Vec<Key> {
    let mut keys = NAMED.to_vec();
    for rule in rules {
        let mut conds: Vec<&Cond> = rule.when.iter().collect();
        conds.extend(rule.escalate.iter().flat_map(|e| e.when.iter()));
        for c in conds {
            c.keys(&mut keys);
        }
        keys.extend(rule.group_by.iter().copied());
        match &rule.eval {
            Eval::Match => {}
            Eval::Threshold { distinct, .. } => keys.extend(*distinct),
            Eval::FirstSeen { field, .. } => keys.push(*field),
        }
    }
    let mut seen = HashSet::new();
    keys.retain(|k| seen.insert(*k));
    keys
}

/// Runs every rule over `rows` (sorted by time).
pub fn evaluate(rules: &[Rule], rows: &Table) -> Evaluation {
    let view = View::new(rows);
    let per_rule: Vec<(Vec<Finding>, Option<String>)> =
        rules.par_iter().map(|r| run_rule(r, &view)).collect();
    let mut out = Evaluation::default();
    for (findings, note) in per_rule {
        out.findings.extend(findings);
        out.notes.extend(note);
    }
    out.findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.first.cmp(&b.first))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.actor.cmp(&b.actor))
            .then_with(|| a.mailbox.cmp(&b.mailbox))
            .then_with(|| a.rows.first().cmp(&b.rows.first()))
    });
    out
}

/// [`evaluate`] over rows in memory (sorted by time).
pub fn evaluate_rows(rules: &[Rule], rows: &[OwnedRecord]) -> Evaluation {
    let table = Table::from_records(
        &keys(rules),
        rows,
        |r| r.time,
        |r| r.pos,
        |r| u32::try_from(r.items.len()).unwrap_or(u32::MAX),
    );
    evaluate(rules, &table)
}

/// The table, with each column's values numbered by their lower-cased form on demand.
struct View<'t> {
    t: &'t Table,
    lower: Vec<OnceLock<Vec<u32>>>,
}

impl<'t> View<'t> {
    fn new(t: &'t Table) -> View<'t> {
        View {
            t,
            lower: t.keys().iter().map(|_| OnceLock::new()).collect(),
        }
    }

    fn time(&self, row: u32) -> i64 {
        self.t.time(row as usize).0
    }

    fn value(&self, key: Key, row: u32) -> &'t str {
        match self.t.column(key) {
            Some(c) => self.t.text(c, self.t.id(c, row as usize)),
            None => "",
        }
    }

    /// For each row, the number of `key`'s value lower-cased (the same for values that
    /// differ in case only; `u32::MAX` when the table does not keep `key`), with the
    /// column looked up once.
    fn lower_of(&self, key: Key) -> impl Fn(u32) -> u32 + '_ {
        let col = self.t.column(key).map(|c| (c, self.lower_ids(c)));
        move |row| {
            col.map_or(u32::MAX, |(c, lower)| {
                lower[self.t.id(c, row as usize) as usize]
            })
        }
    }

    /// Column `c`'s value numbers by lower-cased form (see [`Table::lower_ids`]).
    fn lower_ids(&self, c: usize) -> &[u32] {
        self.lower[c].get_or_init(|| self.t.lower_ids(c))
    }

    fn weight(&self, row: u32) -> u64 {
        u64::from(self.t.items(row as usize).max(1))
    }
}

/// A rule's conditions, compiled against the table: each test on one value remembers
/// its answer per value number.
enum Test {
    Leaf(usize),
    Differs(Key, Key),
    Any(Vec<Test>),
    /// The row was tagged with this rule when it was read.
    Tagged(u32),
}

struct Tests<'r> {
    /// Each leaf's condition and column.
    leaves: Vec<(&'r Cond, Option<usize>)>,
    /// Per leaf, per value number: 0 not yet tested, 1 false, 2 true. Shared by the
    /// threads judging a rule's rows and groups: two that test the same value at once
    /// store the same answer.
    memo: Vec<OnceLock<Box<[AtomicU8]>>>,
}

impl<'r> Tests<'r> {
    fn new() -> Tests<'r> {
        Tests {
            leaves: Vec::new(),
            memo: Vec::new(),
        }
    }

    fn compile(&mut self, cond: &'r Cond, t: &Table) -> Test {
        match cond {
            Cond::DiffersFrom(a, b) => Test::Differs(*a, *b),
            Cond::Any(list) => Test::Any(list.iter().map(|c| self.compile(c, t)).collect()),
            Cond::Tagged(n) => Test::Tagged(*n),
            _ => {
                let col = cond.key().and_then(|k| t.column(k));
                self.leaves.push((cond, col));
                self.memo.push(OnceLock::new());
                Test::Leaf(self.leaves.len() - 1)
            }
        }
    }

    fn all(&mut self, conds: &'r [Cond], t: &Table) -> Vec<Test> {
        conds.iter().map(|c| self.compile(c, t)).collect()
    }

    fn holds(&self, test: &Test, v: &View<'_>, row: u32) -> bool {
        match test {
            Test::Leaf(i) => {
                let (cond, col) = self.leaves[*i];
                let Some(col) = col else {
                    return cond.test("");
                };
                let id = v.t.id(col, row as usize);
                let memo = self.memo[*i]
                    .get_or_init(|| (0..v.t.distinct(col)).map(|_| AtomicU8::new(0)).collect());
                let Some(slot) = memo.get(id as usize) else {
                    return cond.test(v.t.text(col, id));
                };
                match slot.load(Ordering::Relaxed) {
                    1 => false,
                    2 => true,
                    _ => {
                        let yes = cond.test(v.t.text(col, id));
                        slot.store(1 + u8::from(yes), Ordering::Relaxed);
                        yes
                    }
                }
            }
            Test::Differs(a, b) => differ(v.value(*a, row), v.value(*b, row)),
            Test::Any(list) => list.iter().any(|t| self.holds(t, v, row)),
            Test::Tagged(n) => v.t.tags(row as usize).binary_search(n).is_ok(),
        }
    }

    fn all_hold(&self, tests: &[Test], v: &View<'_>, row: u32) -> bool {
        tests.iter().all(|t| self.holds(t, v, row))
    }
}

/// A rule's compiled `when` and escalations.
struct Compiled<'r> {
    tests: Tests<'r>,
    when: Vec<Test>,
    escalate: Vec<Vec<Test>>,
}

impl<'r> Compiled<'r> {
    fn new(rule: &'r Rule, t: &Table) -> Compiled<'r> {
        let mut tests = Tests::new();
        let when = tests.all(&rule.when, t);
        let escalate = rule
            .escalate
            .iter()
            .map(|e| tests.all(&e.when, t))
            .collect();
        Compiled {
            tests,
            when,
            escalate,
        }
    }

    /// The severity a row's escalations give it, and which escalations hold.
    fn level(&self, rule: &Rule, v: &View<'_>, row: u32) -> (Severity, Vec<usize>) {
        let mut sev = rule.severity;
        let mut which = Vec::new();
        for (i, e) in self.escalate.iter().enumerate() {
            if self.tests.all_hold(e, v, row) {
                sev = sev.max(rule.escalate[i].severity);
                which.push(i);
            }
        }
        (sev, which)
    }
}

/// Rows of one group, in time order.
type Groups = Vec<Vec<u32>>;

/// Groups `selected` rows by the rule's `group_by` keys (case-insensitive), in order of
/// each group's first row. A group's key is its keys' lower-cased value numbers: up to
/// four (every built-in rule) packed in one `u128`, which hashes and compares in one step
/// (a key of four numbers and a length cost ~3% of a whole legacy triage), more in a
/// `Vec`.
fn group(rule: &Rule, v: &View<'_>, selected: &[u32]) -> Groups {
    let lower: Vec<_> = rule.group_by.iter().map(|k| v.lower_of(*k)).collect();
    if lower.len() <= 4 {
        group_by_key(selected, |i| {
            lower
                .iter()
                .fold(0u128, |k, lower| (k << 32) | u128::from(lower(i)))
        })
    } else {
        group_by_key(selected, |i| {
            lower.iter().map(|lower| lower(i)).collect::<Vec<u32>>()
        })
    }
}

/// [`group`] with each row's key given by `key`.
fn group_by_key<K: std::hash::Hash + Eq>(selected: &[u32], key: impl Fn(u32) -> K) -> Groups {
    let mut index: IdMap<K, usize> = IdMap::default();
    let mut groups: Groups = Vec::new();
    for &i in selected {
        let at = *index.entry(key(i)).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[at].push(i);
    }
    groups
}

/// Rows per piece of work when rows or groups are shared out between threads.
const MIN_ROWS: usize = 4096;

fn run_rule(rule: &Rule, v: &View<'_>) -> (Vec<Finding>, Option<String>) {
    let c = Compiled::new(rule, v.t);
    let selected: Vec<u32> = (0..v.t.len() as u32)
        .into_par_iter()
        .with_min_len(MIN_ROWS)
        .filter(|&i| c.tests.all_hold(&c.when, v, i))
        .collect();
    match &rule.eval {
        Eval::Match => (run_match(rule, &c, v, &selected), None),
        Eval::Threshold {
            threshold,
            window,
            count,
            distinct,
        } => {
            let selected: Vec<u32> = match distinct {
                Some(k) => selected
                    .into_iter()
                    .filter(|&i| !v.value(*k, i).is_empty())
                    .collect(),
                None => selected,
            };
            let spec = Window {
                threshold: *threshold,
                nanos: window.nanos,
                count: *count,
                distinct: *distinct,
            };
            // Each group on its own; the findings in the order of the groups.
            let out = group(rule, v, &selected)
                .par_iter()
                .flat_map_iter(|g| {
                    let found: Vec<Finding> = bursts(g, v, &spec)
                        .into_iter()
                        .map(|(s, e, peak)| {
                            let evidence = g[s..=e].to_vec();
                            let mut extra = vec![
                                ("threshold", threshold.to_string()),
                                ("window", window.label()),
                                ("peak", peak.to_string()),
                            ];
                            if let Some(k) = distinct {
                                let values = distinct_values(&evidence, v, *k);
                                extra.push(("distinct_values", list(&values, 8)));
                            }
                            finish(rule, &c, v, evidence, &extra)
                        })
                        .collect();
                    found
                })
                .collect();
            (out, None)
        }
        Eval::FirstSeen {
            field,
            baseline,
            min_baseline,
        } => {
            let selected: Vec<u32> = selected
                .into_iter()
                .filter(|&i| !v.value(*field, i).is_empty())
                .collect();
            let groups = group(rule, v, &selected);
            let total = groups.len();
            // Per group: `None` when it is not judged, else its findings.
            let judged: Vec<Option<Vec<Finding>>> = groups
                .par_iter()
                .map(|g| {
                    let news = first_seen(g, v, *field, baseline.nanos, *min_baseline)?;
                    let found = news
                        .into_iter()
                        .map(|(value, evidence, base_records, base_values)| {
                            let extra = [
                                ("value", value),
                                ("field", field.name().to_string()),
                                ("baseline", baseline.label()),
                                ("baseline_records", base_records.to_string()),
                                ("baseline_values", base_values.to_string()),
                            ];
                            finish(rule, &c, v, evidence, &extra)
                        })
                        .collect();
                    Some(found)
                })
                .collect();
            let unjudged = judged.iter().filter(|j| j.is_none()).count();
            let out: Vec<Finding> = judged.into_iter().flatten().flatten().collect();
            let note = (unjudged > 0).then(|| {
                format!(
                    "{}: {unjudged} of {total} group{} ({}) not judged: less than {} of records, \
                     or fewer than {min_baseline} records in that baseline",
                    rule.id,
                    if total == 1 { "" } else { "s" },
                    group_names(rule),
                    baseline.label(),
                )
            });
            (out, note)
        }
    }
}

fn group_names(rule: &Rule) -> String {
    if rule.group_by.is_empty() {
        "all records".into()
    } else {
        rule.group_by
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn run_match(rule: &Rule, c: &Compiled<'_>, v: &View<'_>, selected: &[u32]) -> Vec<Finding> {
    let finish_all = |groups: Groups| -> Vec<Finding> {
        groups
            .into_par_iter()
            .map(|g| finish(rule, c, v, g, &[]))
            .collect()
    };
    if rule.escalate.is_empty() {
        return finish_all(group(rule, v, selected));
    }
    // Split each group by the severity its rows reach.
    let mut by_level: Vec<(Severity, u32)> = selected
        .par_iter()
        .with_min_len(MIN_ROWS)
        .map(|&i| (c.level(rule, v, i).0, i))
        .collect();
    by_level.sort_by_key(|&(s, i)| (s, i));
    let mut out = Vec::new();
    for chunk in by_level.chunk_by(|a, b| a.0 == b.0) {
        let ids: Vec<u32> = chunk.iter().map(|&(_, i)| i).collect();
        out.extend(finish_all(group(rule, v, &ids)));
    }
    out
}

/// What a threshold rule measures.
struct Window {
    threshold: u64,
    nanos: i64,
    count: CountBy,
    distinct: Option<Key>,
}

/// The bursts of group `g`: `(first, last, peak)` positions in `g` where a window of
/// `spec.nanos` holds at least `spec.threshold`; overlapping windows are merged.
fn bursts(g: &[u32], v: &View<'_>, spec: &Window) -> Vec<(usize, usize, u64)> {
    let time = |k: usize| v.time(g[k]);
    let mut out: Vec<(usize, usize, u64)> = Vec::new();
    let mut start = 0usize;
    let mut sum = 0u64;
    let mut values: IdMap<u32, u64> = IdMap::default();
    let lower = spec.distinct.map(|key| v.lower_of(key));
    let value = |k: usize| -> u32 { lower.as_ref().map_or(0, |lower| lower(g[k])) };
    for end in 0..g.len() {
        match spec.count {
            CountBy::Records => sum += 1,
            CountBy::Items => sum += v.weight(g[end]),
            CountBy::Distinct => *values.entry(value(end)).or_default() += 1,
        }
        while time(end).saturating_sub(time(start)) > spec.nanos {
            match spec.count {
                CountBy::Records => sum -= 1,
                CountBy::Items => sum -= v.weight(g[start]),
                CountBy::Distinct => {
                    let key = value(start);
                    if let Some(n) = values.get_mut(&key) {
                        *n -= 1;
                        if *n == 0 {
                            values.remove(&key);
                        }
                    }
                }
            }
            start += 1;
        }
        let measure = match spec.count {
            CountBy::Distinct => values.len() as u64,
            _ => sum,
        };
        if measure >= spec.threshold {
            match out.last_mut() {
                Some(b) if start <= b.1 => {
                    b.1 = end;
                    b.2 = b.2.max(measure);
                }
                _ => out.push((start, end, measure)),
            }
        }
    }
    out
}

/// New values after the baseline: `(value, rows, baseline records, baseline values)`;
/// `None` when the group's history is too short to judge.
type News = Vec<(String, Vec<u32>, usize, usize)>;

fn first_seen(g: &[u32], v: &View<'_>, field: Key, baseline: i64, min: u64) -> Option<News> {
    let (&first, &last) = (g.first()?, g.last()?);
    let end = v.time(first).saturating_add(baseline);
    if v.time(last) < end {
        return None;
    }
    let split = g.partition_point(|&i| v.time(i) < end);
    if (split as u64) < min {
        return None;
    }
    let lower = v.lower_of(field);
    let known: IdSet<u32> = g[..split].iter().map(|&i| lower(i)).collect();
    let mut order: Vec<u32> = Vec::new();
    let mut found: IdMap<u32, (String, Vec<u32>)> = IdMap::default();
    for &i in &g[split..] {
        let lower = lower(i);
        if known.contains(&lower) {
            continue;
        }
        found
            .entry(lower)
            .or_insert_with(|| {
                order.push(lower);
                (v.value(field, i).to_owned(), Vec::new())
            })
            .1
            .push(i);
    }
    Some(
        order
            .into_iter()
            .filter_map(|k| found.remove(&k))
            .map(|(value, ids)| (value, ids, split, known.len()))
            .collect(),
    )
}

/// The distinct non-empty values of `key` over `ids`, in order of first appearance
/// (the first spelling kept).
fn distinct_values<'t>(ids: &[u32], v: &View<'t>, key: Key) -> Vec<&'t str> {
    let Some(c) = v.t.column(key) else {
        return Vec::new();
    };
    let lower = v.lower_ids(c);
    let mut seen = IdSet::default();
    let mut out = Vec::new();
    for &i in ids {
        let id = v.t.id(c, i as usize);
        let value = v.t.text(c, id);
        if !value.is_empty() && seen.insert(lower[id as usize]) {
            out.push(value);
        }
    }
    out
}

/// `a, b, c and 4 more`; `(none)` for no values.
fn list<S: AsRef<str>>(values: &[S], max: usize) -> String {
    if values.is_empty() {
        return "(none)".into();
    }
    let shown: Vec<&str> = values.iter().take(max).map(AsRef::as_ref).collect();
    let more = values.len() - shown.len();
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Long values (subjects: admin cmdlets' parameters) are cut for the sentence.
fn cut(value: &str, max: usize) -> Cow<'_, str> {
    if value.chars().count() <= max {
        return Cow::Borrowed(value);
    }
    let mut s: String = value.chars().take(max).collect();
    s.push('…');
    Cow::Owned(s)
}

/// Makes the finding of `rule` whose evidence is `ids`; `extra` are the evaluator's own
/// placeholders.
fn finish(
    rule: &Rule,
    c: &Compiled<'_>,
    v: &View<'_>,
    ids: Vec<u32>,
    extra: &[(&str, String)],
) -> Finding {
    let first = ids.first().map_or(Timestamp(0), |&i| Timestamp(v.time(i)));
    let last = ids.last().map_or(Timestamp(0), |&i| Timestamp(v.time(i)));
    let mut severity = rule.severity;
    let mut reasons: Vec<usize> = Vec::new();
    if !rule.escalate.is_empty() {
        for &i in &ids {
            let (s, which) = c.level(rule, v, i);
            severity = severity.max(s);
            for w in which {
                if !reasons.contains(&w) {
                    reasons.push(w);
                }
            }
        }
    }
    reasons.sort_unstable();
    let values = |k: Key| distinct_values(&ids, v, k);
    let actors = values(Key::Actor);
    let mailboxes = values(Key::Mailbox);
    let actor = list(&actors, 3);
    let subjects = || {
        let s: Vec<Cow<'_, str>> = values(Key::Subject)
            .into_iter()
            .map(|s| cut(s, 160))
            .collect();
        list(&s, 3)
    };
    let mailbox = list(&mailboxes, 3);
    let mut why = String::new();
    for part in &rule.why {
        let text: Cow<'_, str> = match part {
            Part::Text(t) => Cow::Borrowed(t),
            Part::Slot(name) => Cow::Owned(match name.as_str() {
                "count" => ids.len().to_string(),
                "records" => match ids.len() {
                    1 => "1 record".to_string(),
                    n => format!("{n} records"),
                },
                "when" if first == last => format!("at {}", first.to_iso()),
                "when" => format!("from {} to {}", first.to_iso(), last.to_iso()),
                "items" => ids.iter().map(|&i| v.weight(i)).sum::<u64>().to_string(),
                "first" => first.to_iso(),
                "last" => last.to_iso(),
                "actor" | "actors" => actor.clone(),
                "mailbox" => mailbox.clone(),
                "operations" => list(&values(Key::Operation), 5),
                "logon_types" => list(&values(Key::LogonType), 5),
                "client_ips" => list(&values(Key::ClientIp), 5),
                "client_apps" => list(&values(Key::ClientApp), 5),
                "folders" => list(&values(Key::Folder), 5),
                "subjects" => subjects(),
                "detail" if values(Key::Subject).is_empty() => String::new(),
                "detail" => format!(": {}", subjects()),
                "reason" if reasons.is_empty() => String::new(),
                "reason" => {
                    let r: Vec<&str> = reasons
                        .iter()
                        .map(|&i| rule.escalate[i].reason.as_str())
                        .collect();
                    format!("; {}", r.join(", "))
                }
                other => extra
                    .iter()
                    .find(|(n, _)| *n == other)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
            }),
        };
        why.push_str(&text);
    }
    Finding {
        rule: rule.id.clone(),
        title: rule.title.clone(),
        severity,
        why,
        first,
        last,
        actor,
        mailbox,
        rows: ids,
    }
}

#[cfg(test)]
mod tests;
