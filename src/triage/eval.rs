//! The three generic evaluators every rule runs on, and the [`Finding`]s they make.
//!
//! Rows come from the pipeline sorted by time, so each group's rows (indices into them,
//! ascending) are in time order too. An evaluator only decides which rows are evidence
//! of what; [`finish`] turns a set of evidence rows into a finding the same way for all
//! of them: severity (escalated by the rule's `escalate` entries), the `why` sentence
//! with its placeholders filled, the time span, the actor and the mailbox.
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
use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use super::cond::{all_hold, Key};
use super::rules::{CountBy, Eval, Part, Rule, Severity};
use crate::datetime::Timestamp;
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

/// Runs every rule over `rows` (sorted by time).
pub fn evaluate(rules: &[Rule], rows: &[OwnedRecord]) -> Evaluation {
    let per_rule: Vec<(Vec<Finding>, Option<String>)> =
        rules.par_iter().map(|r| run_rule(r, rows)).collect();
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

/// Rows of one group, in time order, and its key as first seen.
type Groups = Vec<Vec<u32>>;

/// Groups `selected` rows by the rule's `group_by` keys (case-insensitive), in order of
/// each group's first row.
fn group(rule: &Rule, rows: &[OwnedRecord], selected: &[u32], extra: Option<Key>) -> Groups {
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    let mut groups: Groups = Vec::new();
    for &i in selected {
        let row = &rows[i as usize];
        let mut key: Vec<String> = rule
            .group_by
            .iter()
            .map(|k| k.value(row).to_lowercase())
            .collect();
        if let Some(k) = extra {
            key.push(k.value(row).to_lowercase());
        }
        let at = *index.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[at].push(i);
    }
    groups
}

fn run_rule(rule: &Rule, rows: &[OwnedRecord]) -> (Vec<Finding>, Option<String>) {
    let selected: Vec<u32> = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| all_hold(&rule.when, r))
        .filter_map(|(i, _)| u32::try_from(i).ok())
        .collect();
    match &rule.eval {
        Eval::Match => (run_match(rule, rows, &selected), None),
        Eval::Threshold {
            threshold,
            window,
            count,
            distinct,
        } => {
            let selected: Vec<u32> = match distinct {
                Some(k) => selected
                    .into_iter()
                    .filter(|&i| !k.value(&rows[i as usize]).is_empty())
                    .collect(),
                None => selected,
            };
            let mut out = Vec::new();
            for g in group(rule, rows, &selected, None) {
                let spec = Window {
                    threshold: *threshold,
                    nanos: window.nanos,
                    count: *count,
                    distinct: *distinct,
                };
                for (s, e, peak) in bursts(&g, rows, &spec) {
                    let evidence = g[s..=e].to_vec();
                    let mut extra = vec![
                        ("threshold", threshold.to_string()),
                        ("window", window.label()),
                        ("peak", peak.to_string()),
                    ];
                    if let Some(k) = distinct {
                        let values = distinct_values(&evidence, rows, *k);
                        extra.push(("distinct_values", list(&values, 8)));
                    }
                    out.push(finish(rule, rows, evidence, &extra));
                }
            }
            (out, None)
        }
        Eval::FirstSeen {
            field,
            baseline,
            min_baseline,
        } => {
            let selected: Vec<u32> = selected
                .into_iter()
                .filter(|&i| !field.value(&rows[i as usize]).is_empty())
                .collect();
            let groups = group(rule, rows, &selected, None);
            let total = groups.len();
            let mut unjudged = 0;
            let mut out = Vec::new();
            for g in groups {
                match first_seen(&g, rows, *field, baseline.nanos, *min_baseline) {
                    None => unjudged += 1,
                    Some(news) => {
                        for (value, evidence, base_records, base_values) in news {
                            let extra = [
                                ("value", value),
                                ("field", field.name().to_string()),
                                ("baseline", baseline.label()),
                                ("baseline_records", base_records.to_string()),
                                ("baseline_values", base_values.to_string()),
                            ];
                            out.push(finish(rule, rows, evidence, &extra));
                        }
                    }
                }
            }
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

/// The severity a row's escalations give it, and which escalations hold.
fn level(rule: &Rule, row: &OwnedRecord) -> (Severity, Vec<usize>) {
    let mut sev = rule.severity;
    let mut which = Vec::new();
    for (i, e) in rule.escalate.iter().enumerate() {
        if all_hold(&e.when, row) {
            sev = sev.max(e.severity);
            which.push(i);
        }
    }
    (sev, which)
}

fn run_match(rule: &Rule, rows: &[OwnedRecord], selected: &[u32]) -> Vec<Finding> {
    if rule.escalate.is_empty() {
        return group(rule, rows, selected, None)
            .into_iter()
            .map(|g| finish(rule, rows, g, &[]))
            .collect();
    }
    // Split each group by the severity its rows reach.
    let mut by_level: Vec<(Severity, u32)> = selected
        .iter()
        .map(|&i| (level(rule, &rows[i as usize]).0, i))
        .collect();
    by_level.sort_by_key(|&(s, i)| (s, i));
    let mut out = Vec::new();
    for chunk in by_level.chunk_by(|a, b| a.0 == b.0) {
        let ids: Vec<u32> = chunk.iter().map(|&(_, i)| i).collect();
        for g in group(rule, rows, &ids, None) {
            out.push(finish(rule, rows, g, &[]));
        }
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

fn weight(row: &OwnedRecord) -> u64 {
    row.items.len().max(1) as u64
}

/// The bursts of group `g`: `(first, last, peak)` positions in `g` where a window of
/// `spec.nanos` holds at least `spec.threshold`; overlapping windows are merged.
fn bursts(g: &[u32], rows: &[OwnedRecord], spec: &Window) -> Vec<(usize, usize, u64)> {
    let time = |k: usize| rows[g[k] as usize].time.0;
    let mut out: Vec<(usize, usize, u64)> = Vec::new();
    let mut start = 0usize;
    let mut sum = 0u64;
    let mut values: HashMap<String, u64> = HashMap::new();
    let value = |k: usize| -> String {
        spec.distinct
            .map(|key| key.value(&rows[g[k] as usize]).to_lowercase())
            .unwrap_or_default()
    };
    for end in 0..g.len() {
        match spec.count {
            CountBy::Records => sum += 1,
            CountBy::Items => sum += weight(&rows[g[end] as usize]),
            CountBy::Distinct => *values.entry(value(end)).or_default() += 1,
        }
        while time(end).saturating_sub(time(start)) > spec.nanos {
            match spec.count {
                CountBy::Records => sum -= 1,
                CountBy::Items => sum -= weight(&rows[g[start] as usize]),
                CountBy::Distinct => {
                    let v = value(start);
                    if let Some(n) = values.get_mut(&v) {
                        *n -= 1;
                        if *n == 0 {
                            values.remove(&v);
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

fn first_seen(
    g: &[u32],
    rows: &[OwnedRecord],
    field: Key,
    baseline: i64,
    min: u64,
) -> Option<News> {
    let (&first, &last) = (g.first()?, g.last()?);
    let end = rows[first as usize].time.0.saturating_add(baseline);
    if rows[last as usize].time.0 < end {
        return None;
    }
    let split = g.partition_point(|&i| rows[i as usize].time.0 < end);
    if (split as u64) < min {
        return None;
    }
    let known: HashSet<String> = g[..split]
        .iter()
        .map(|&i| field.value(&rows[i as usize]).to_lowercase())
        .collect();
    let mut order: Vec<String> = Vec::new();
    let mut found: HashMap<String, (String, Vec<u32>)> = HashMap::new();
    for &i in &g[split..] {
        let v = field.value(&rows[i as usize]);
        let lower = v.to_lowercase();
        if known.contains(&lower) {
            continue;
        }
        found
            .entry(lower.clone())
            .or_insert_with(|| {
                order.push(lower);
                (v.into_owned(), Vec::new())
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
fn distinct_values(ids: &[u32], rows: &[OwnedRecord], key: Key) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for &i in ids {
        let v = key.value(&rows[i as usize]);
        if !v.is_empty() && seen.insert(v.to_lowercase()) {
            out.push(v.into_owned());
        }
    }
    out
}

/// `a, b, c and 4 more`; `(none)` for no values.
fn list(values: &[String], max: usize) -> String {
    if values.is_empty() {
        return "(none)".into();
    }
    let shown: Vec<&str> = values.iter().take(max).map(String::as_str).collect();
    let more = values.len() - shown.len();
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Long values (subjects: admin cmdlets' parameters) are cut for the sentence.
fn cut(value: String, max: usize) -> String {
    if value.chars().count() <= max {
        return value;
    }
    let mut s: String = value.chars().take(max).collect();
    s.push('…');
    s
}

/// Makes the finding of `rule` whose evidence is `ids`; `extra` are the evaluator's own
/// placeholders.
fn finish(rule: &Rule, rows: &[OwnedRecord], ids: Vec<u32>, extra: &[(&str, String)]) -> Finding {
    let row = |i: &u32| &rows[*i as usize];
    let first = ids.first().map_or(Timestamp(0), |i| row(i).time);
    let last = ids.last().map_or(Timestamp(0), |i| row(i).time);
    let mut severity = rule.severity;
    let mut reasons: Vec<usize> = Vec::new();
    if !rule.escalate.is_empty() {
        for i in &ids {
            let (s, which) = level(rule, row(i));
            severity = severity.max(s);
            for w in which {
                if !reasons.contains(&w) {
                    reasons.push(w);
                }
            }
        }
    }
    reasons.sort_unstable();
    let values = |k: Key| distinct_values(&ids, rows, k);
    let actors = values(Key::Actor);
    let mailboxes = values(Key::Mailbox);
    let actor = list(&actors, 3);
    let subjects = || {
        let s: Vec<String> = values(Key::Subject)
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
                "items" => ids.iter().map(|i| weight(row(i))).sum::<u64>().to_string(),
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
mod tests {
    use super::*;
    use crate::record::{AuditRecord, Escape, Field, RawField, SourcePos};
    use crate::triage::rules::{Rule, RuleSpec};

    const MIN: i64 = 60_000_000_000;

    fn row(minute: i64, fields: &[(Field, &str)]) -> OwnedRecord {
        let mut r = AuditRecord::default();
        for (f, v) in fields {
            r.set(*f, RawField::new(v.as_bytes(), Escape::None));
        }
        let line = u64::try_from(minute).unwrap_or(0) + 2;
        r.to_owned_record(Timestamp(minute * MIN), SourcePos { file: 0, line }, false)
            .0
    }

    fn rule(json: &str) -> Rule {
        let spec: RuleSpec = serde_json::from_str(json).unwrap();
        Rule::compile(&spec).unwrap()
    }

    #[test]
    fn threshold_merges_overlapping_windows() {
        let r = rule(
            r#"{"id":"t","title":"T","severity":"low","kind":"threshold","group_by":["actor"],
               "threshold":3,"window":"10m","why":"{peak} of {count} by {actor} in {window}"}"#,
        );
        // Burst at minutes 0,1,2,3 (one finding), lone rows at 30 and 60, burst 100..102.
        let mut rows: Vec<OwnedRecord> = [0, 1, 2, 3, 30, 60, 100, 101, 102]
            .iter()
            .map(|&m| row(m, &[(Field::LogonUserDisplayName, "Eve")]))
            .collect();
        rows.push(row(103, &[(Field::LogonUserDisplayName, "Bob")]));
        let ev = evaluate(&[r], &rows);
        assert_eq!(ev.findings.len(), 2, "{:?}", ev.findings);
        assert_eq!(ev.findings[0].rows, vec![0, 1, 2, 3]);
        assert_eq!(ev.findings[0].why, "4 of 4 by Eve in 10m");
        assert_eq!(ev.findings[1].rows, vec![6, 7, 8]);
    }

    #[test]
    fn threshold_counts_distinct_values() {
        let r = rule(
            r#"{"id":"ips","title":"T","severity":"low","kind":"threshold","count":"distinct",
               "distinct":"client_ip","threshold":3,"window":"1h","why":"{peak}: {distinct_values}"}"#,
        );
        let ips = ["192.0.2.1", "192.0.2.1:5000", "192.0.2.2", "", "192.0.2.3"];
        let rows: Vec<OwnedRecord> = ips
            .iter()
            .enumerate()
            .map(|(m, ip)| row(m as i64, &[(Field::ClientIpAddress, ip)]))
            .collect();
        let ev = evaluate(&[r], &rows);
        assert_eq!(ev.findings.len(), 1);
        assert_eq!(ev.findings[0].why, "3: 192.0.2.1, 192.0.2.2, 192.0.2.3");
        assert_eq!(
            ev.findings[0].rows,
            vec![0, 1, 2, 4],
            "the empty one is no evidence"
        );
    }

    #[test]
    fn first_seen_after_baseline() {
        let r = rule(
            r#"{"id":"n","title":"T","severity":"low","kind":"first_seen","group_by":["mailbox"],
               "field":"client_ip","baseline":"1h","min_baseline":2,
               "why":"{value} after {baseline} ({baseline_records}/{baseline_values}), {count}"}"#,
        );
        let m = (Field::MailboxOwnerUpn, "m@x");
        let rows = vec![
            row(0, &[m, (Field::ClientIpAddress, "192.0.2.1")]),
            row(10, &[m, (Field::ClientIpAddress, "192.0.2.2")]),
            row(70, &[m, (Field::ClientIpAddress, "192.0.2.1")]),
            row(80, &[m, (Field::ClientIpAddress, "203.0.113.9")]),
            row(90, &[m, (Field::ClientIpAddress, "203.0.113.9:443")]),
            // Too short a history: not judged.
            row(
                5,
                &[
                    (Field::MailboxOwnerUpn, "other@x"),
                    (Field::ClientIpAddress, "1.1.1.1"),
                ],
            ),
        ];
        let mut rows = rows;
        rows.sort_by_key(|r| r.time);
        let ev = evaluate(&[r], &rows);
        assert_eq!(ev.findings.len(), 1);
        assert_eq!(ev.findings[0].why, "203.0.113.9 after 1h (2/2), 2");
        assert_eq!(ev.notes.len(), 1);
        assert!(
            ev.notes[0].contains("1 of 2 groups (mailbox) not judged"),
            "{}",
            ev.notes[0]
        );
    }

    #[test]
    fn match_splits_by_escalated_severity() {
        let r = rule(
            r#"{"id":"m","title":"T","severity":"medium","kind":"match","group_by":["actor"],
               "when":[{"field":"operation","in":["New-InboxRule"]}],
               "escalate":[{"severity":"high","reason":"forwards",
                            "when":[{"field":"subject","matches":"-ForwardTo\\s"}]}],
               "why":"{count} {operations}{reason}"}"#,
        );
        let rows = vec![
            row(
                0,
                &[
                    (Field::Operation, "New-InboxRule"),
                    (Field::ItemSubject, "-Name a"),
                ],
            ),
            row(
                1,
                &[
                    (Field::Operation, "New-InboxRule"),
                    (Field::ItemSubject, "-ForwardTo x"),
                ],
            ),
            row(2, &[(Field::Operation, "Set-InboxRule")]),
        ];
        let ev = evaluate(&[r], &rows);
        assert_eq!(ev.findings.len(), 2);
        assert_eq!(ev.findings[0].severity, Severity::High);
        assert_eq!(ev.findings[0].why, "1 New-InboxRule; forwards");
        assert_eq!(ev.findings[1].severity, Severity::Medium);
        assert_eq!(ev.findings[1].why, "1 New-InboxRule");
    }

    #[test]
    fn lists_are_capped() {
        let v: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        assert_eq!(list(&v, 3), "0, 1, 2 and 2 more");
        assert_eq!(list(&[], 3), "(none)");
        assert_eq!(cut("abcdef".into(), 3), "abc…");
    }
}
