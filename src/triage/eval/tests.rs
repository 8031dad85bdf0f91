//! The evaluators on small tables built by hand.

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
    let ev = evaluate_rows(&[r], &rows);
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
    let ev = evaluate_rows(&[r], &rows);
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
    let ev = evaluate_rows(&[r], &rows);
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
    let ev = evaluate_rows(&[r], &rows);
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
    assert_eq!(list::<&str>(&[], 3), "(none)");
    assert_eq!(cut("abcdef", 3), "abc…");
    assert_eq!(cut("abc", 3), "abc");
}

#[test]
fn groups_of_one_two_and_three_keys_tell_their_values_apart() {
    // Two keys packed into one word: (Eve, Bob), (Bob, Eve), (Eve, Eve) and (Bob, Bob)
    // are four groups (each column numbers its values apart, so the last two are 0, 1
    // and 1, 0), and case does not count; with three keys, the third tells groups apart.
    let (eve, bob) = ("eve@x", "bob@x");
    let rows: Vec<OwnedRecord> = [
        (eve, bob, "a"),
        (bob, eve, "a"),
        ("EVE@x", bob, "b"),
        (bob, eve, "b"),
        (eve, eve, "c"),
        (bob, bob, "c"),
    ]
    .iter()
    .enumerate()
    .map(|(m, &(actor, mailbox, folder))| {
        row(
            m as i64,
            &[
                (Field::LogonUserDisplayName, actor),
                (Field::MailboxOwnerUpn, mailbox),
                (Field::FolderPathName, folder),
            ],
        )
    })
    .collect();
    let groups = |keys: &str| {
        let r = rule(&format!(
            r#"{{"id":"g","title":"T","severity":"low","kind":"match","group_by":[{keys}],
               "why":"{{count}}"}}"#
        ));
        let ev = evaluate_rows(&[r], &rows);
        let mut found: Vec<Vec<u32>> = ev.findings.iter().map(|f| f.rows.clone()).collect();
        found.sort();
        found
    };
    let pairs = vec![vec![0, 2], vec![1, 3], vec![4], vec![5]];
    assert_eq!(groups(""), vec![vec![0, 1, 2, 3, 4, 5]]);
    assert_eq!(groups(r#""actor""#), vec![vec![0, 2, 4], vec![1, 3, 5]]);
    assert_eq!(groups(r#""actor","mailbox""#), pairs);
    assert_eq!(groups(r#""mailbox","actor""#), pairs);
    assert_eq!(
        groups(r#""actor","mailbox","folder""#),
        (0..6).map(|r| vec![r]).collect::<Vec<_>>()
    );
}
