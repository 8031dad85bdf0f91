//! Issue 15 items 1 and 13: one event exported in several column sets (the seed
//! script's report, raw exports with and without `Identity`, a narrower export, a JSON
//! dump, a report of ours read back) is written once, from the export with the most
//! columns; two events that differ in a column both exports hold stay two.

use std::path::{Path, PathBuf};

use crate::util::{full_rows_in, mbxaudit_in, root, tempdir, testdata};

const REPORT: &str = "legacy/AuditLogResults170427_101500.csv";
const WITH_ID: &str = "legacy/basic_en-US.csv";
const NO_ID: &str = "legacy/rps_overlap_noidentity_a.csv";
const DUMP: &str = "json/ps51_depth4_utf16.json";

/// One written row: LastAccessed, Operation, Subject, the file it came from (name only).
type Event = (String, String, String, String);

/// Runs `search ARGS --columns full --format jsonl --stdout` in `dir`; the rows and the
/// messages.
fn events_in(dir: &Path, args: &[&str]) -> (Vec<Event>, String) {
    let (run, rows) = full_rows_in(dir, args);
    assert!(run.code == 0 || run.code == 1, "stderr:\n{}", run.stderr);
    let rows = rows
        .iter()
        .map(|v| {
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            let file = s("SourceFile")
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .into();
            (s("LastAccessed"), s("Operation"), s("Subject"), file)
        })
        .collect();
    (rows, run.stderr)
}

fn events(args: &[&str]) -> (Vec<Event>, String) {
    events_in(&root(), args)
}

fn path(rel: &str) -> String {
    testdata(rel).to_string_lossy().into_owned()
}

/// Writes the columns `keep` of `from`'s header and rows (changed by `edit`) to `to`.
fn narrower(from: &str, keep: &[&str], to: &Path, edit: impl Fn(&mut Vec<String>)) -> PathBuf {
    let bytes = std::fs::read(testdata(from)).expect("fixture");
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut r = csv::ReaderBuilder::new().from_reader(bytes);
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let cols: Vec<usize> = keep
        .iter()
        .map(|k| header.iter().position(|h| h == k).expect("column"))
        .collect();
    let mut w = csv::Writer::from_path(to).expect("write");
    w.write_record(keep).expect("write");
    for rec in r.records() {
        let rec = rec.expect("row");
        let mut row: Vec<String> = cols.iter().map(|&c| rec[c].to_string()).collect();
        edit(&mut row);
        w.write_record(&row).expect("write");
    }
    w.flush().expect("write");
    to.to_path_buf()
}

/// The columns of onprem2013_subset.csv (a local Exchange 2013 shell's export), with
/// ItemSubject: a raw export narrower than both raw ones.
const SUBSET: &[&str] = &[
    "LastAccessed",
    "Operation",
    "OperationResult",
    "LogonType",
    "LogonUserDisplayName",
    "LogonUserSid",
    "ItemSubject",
    "FolderPathName",
    "FolderId",
    "DestFolderPathName",
    "ClientInfoString",
    "ClientIPAddress",
    "ClientMachineName",
    "ClientProcessName",
    "ClientVersion",
    "ExternalAccess",
    "CrossMailboxOperation",
    "MailboxOwnerUPN",
    "MailboxResolvedOwnerName",
    "OriginatingServer",
    "Identity",
];

/// No two rows are one event (the same instant, operation and subject).
fn assert_once(rows: &[Event]) {
    let mut seen: Vec<_> = rows.iter().map(|r| (&r.0, &r.1, &r.2)).collect();
    seen.sort();
    let n = seen.len();
    seen.dedup();
    assert_eq!(seen.len(), n, "an event written twice: {rows:#?}");
}

#[test]
fn issue_15_the_good_news_events_are_written_once_from_the_widest_export() {
    let (rows, stderr) = events(&["--subject", "Good News", &path("legacy")]);
    assert_once(&rows);
    let create: Vec<_> = rows
        .iter()
        .filter(|r| r.0 == "2017-04-27T08:30:27Z" && r.1 == "Create")
        .collect();
    // rps_overlap_b.csv has Identity and the most columns.
    assert_eq!(create.len(), 1, "{rows:#?}");
    assert_eq!(create[0].3, "rps_overlap_b.csv");
    assert!(
        stderr.contains("same event in exports of other columns")
            && stderr.contains("the record with more columns was kept"),
        "{stderr}"
    );
}

#[test]
fn issue_15_every_pair_of_shapes_merges_to_one_row() {
    let dir = tempdir();
    let subset = narrower(WITH_ID, SUBSET, &dir.path().join("subset.csv"), |_| {});
    let subset = subset.to_string_lossy().into_owned();
    let shapes = [
        ("report", path(REPORT)),
        ("with Identity", path(WITH_ID)),
        ("without Identity", path(NO_ID)),
        ("subset", subset),
        ("JSON dump", path(DUMP)),
    ];
    // E02 (MessageBind, ItemSubject) is in every file; E19 (HardDelete, two source
    // items: the report shows the first) in all but the subset, which lacks its subjects.
    for (i, (a, fa)) in shapes.iter().enumerate() {
        for (b, fb) in &shapes[i + 1..] {
            for (first, second) in [(fa, fb), (fb, fa)] {
                let (rows, _) = events(&["--subject", "Good News", first, second]);
                let count =
                    |time: &str, op: &str| rows.iter().filter(|r| r.0 == time && r.1 == op).count();
                assert_eq!(count("2017-04-10T15:23:40Z", "MessageBind"), 1, "{a} + {b}");
                if *a != "subset" && *b != "subset" {
                    assert_eq!(count("2017-04-17T16:46:55Z", "HardDelete"), 1, "{a} + {b}");
                }
                assert_once(&rows);
            }
        }
    }
    // The widest export's row is kept, whatever the order.
    let (rows, _) = events(&["--subject", "Good News", &path(REPORT), &path(NO_ID)]);
    assert!(
        rows.iter()
            .all(|r| r.3 != "AuditLogResults170427_101500.csv" || r.1 == "Create"),
        "{rows:#?}"
    );
}

#[test]
fn issue_15_events_that_differ_in_a_column_both_hold_stay_two() {
    let dir = tempdir();
    let all: Vec<String> = {
        let bytes = std::fs::read(testdata(NO_ID)).expect("fixture");
        let bytes = bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(&bytes)
            .to_vec();
        let mut r = csv::ReaderBuilder::new().from_reader(&bytes[..]);
        r.headers()
            .expect("header")
            .iter()
            .map(String::from)
            .collect()
    };
    // Another column set: every column but SessionId.
    let fewer: Vec<&str> = all
        .iter()
        .map(String::as_str)
        .filter(|c| *c != "SessionId")
        .collect();
    let item = fewer.iter().position(|c| *c == "ItemId").expect("ItemId");
    let search = |edit: bool| {
        let name = if edit {
            "other_item.csv"
        } else {
            "same_item.csv"
        };
        narrower(NO_ID, &fewer, &dir.path().join(name), |row| {
            if edit && !row[item].is_empty() {
                row[item].push('X');
            }
        });
        let (rows, _) = events_in(dir.path(), &["--subject", "Good News", &path(NO_ID), name]);
        rows.iter()
            .filter(|r| r.0 == "2017-04-10T15:23:40Z" && r.1 == "MessageBind")
            .count()
    };
    // The 15 report columns and the time agree; only ItemId differs.
    assert_eq!(search(true), 2);
    assert_eq!(search(false), 1);
}

#[test]
fn issue_15_spilled_rows_give_the_same_report_and_summaries_count_the_event_once() {
    let legacy = path("legacy");
    let base = ["search", "--subject", "Good News", "--stdout", &legacy];
    let whole = mbxaudit_in(&root(), &base, None);
    let mut spilled_args = base.to_vec();
    spilled_args.extend(["--memory-limit", "1"]);
    let spilled = mbxaudit_in(&root(), &spilled_args, None);
    assert_eq!(whole.stdout, spilled.stdout);
    assert!(
        spilled.stderr.contains("outgrew --memory-limit"),
        "{}",
        spilled.stderr
    );
    assert!(!whole.stdout.is_empty());

    let dir = tempdir();
    let out = dir.path().join("s.json");
    let inputs = [
        REPORT,
        "legacy/rps_overlap_b.csv",
        "legacy/rps_overlap_noidentity_b.csv",
    ];
    let mut args = vec![
        "summary",
        "--subject",
        "Good News",
        "--format",
        "json",
        "-o",
    ];
    let out_s = out.to_string_lossy().into_owned();
    args.push(&out_s);
    let inputs: Vec<String> = inputs.iter().map(|i| path(i)).collect();
    args.extend(inputs.iter().map(String::as_str));
    let run = mbxaudit_in(dir.path(), &args, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("summary")).expect("JSON");
    // The Create event is in all three files; the report's four other Good News rows
    // are events of rps_overlap_a, not read here.
    assert_eq!(summary["funnel"]["other_shapes"], 4);
    assert_eq!(summary["records"], 5, "{summary}");
}

#[test]
fn issue_13_an_old_report_read_with_an_overlapping_export_does_not_double_events() {
    let dir = tempdir();
    let (a, b) = (
        path("legacy/rps_overlap_a.csv"),
        path("legacy/rps_overlap_b.csv"),
    );
    let (exports, _) = events_in(dir.path(), &[&a, &b]);
    for columns in ["script", "full"] {
        let old = format!("old_{columns}.csv");
        let run = mbxaudit_in(
            dir.path(),
            &["search", "--columns", columns, "-o", &old, &a],
            None,
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let (rows, _) = events_in(dir.path(), &[&old, &b]);
        assert_once(&rows);
        assert_eq!(rows.len(), exports.len(), "{columns}: {rows:#?}");
    }
}

/// Cross-shape signatures stay in memory: past half of `--memory-limit` (at least 1 MiB)
/// the rule is skipped with a warning and exact duplicates are still removed. Within the
/// budget the same exports merge.
#[test]
fn signatures_past_their_memory_budget_skip_the_rule_and_say_so() {
    let dir = tempdir();
    const EVENTS: usize = 4000;
    let extra: Vec<String> = (0..30).map(|c| format!("Extra{c}")).collect();
    let mut wide =
        String::from("Operation,LastAccessed,LogonType,LogonUserDisplayName,ItemSubject");
    for e in &extra {
        wide.push(',');
        wide.push_str(e);
    }
    wide.push('\n');
    let mut narrow = String::from("Operation,LastAccessed,LogonType,LogonUserDisplayName\n");
    for n in 0..EVENTS {
        let time = format!(
            "2017-04-{:02}T{:02}:{:02}:{:02}Z",
            1 + n / 3600 % 28,
            n / 60 % 24,
            n % 60,
            n % 59
        );
        wide.push_str(&format!("Update,{time},Owner,Test User 1,note {n}"));
        for c in 0..extra.len() {
            wide.push_str(&format!(",value {n} {c}"));
        }
        wide.push('\n');
        narrow.push_str(&format!("Update,{time},Owner,Test User 1\n"));
    }
    std::fs::write(dir.path().join("wide.csv"), wide).unwrap();
    std::fs::write(dir.path().join("narrow.csv"), narrow).unwrap();
    let run = |limit: &[&str]| {
        let mut args = vec![
            "search",
            "--logon-types",
            "all",
            "--stdout",
            "wide.csv",
            "narrow.csv",
        ];
        args.extend_from_slice(limit);
        let r = mbxaudit_in(dir.path(), &args, None);
        r.expect_code(0);
        let rows = String::from_utf8_lossy(&r.stdout).lines().count() - 1;
        (rows, r.stderr)
    };
    let (merged, stderr) = run(&[]);
    assert_eq!(merged, EVENTS, "{stderr}");
    assert!(!stderr.contains("were not compared"), "{stderr}");
    let (kept, stderr) = run(&["--memory-limit", "1"]);
    assert_eq!(kept, 2 * EVENTS, "{stderr}");
    assert!(
        stderr.contains(
            "warning: events exported in files of different column sets were not compared"
        ),
        "{stderr}"
    );
}

/// Files of one header hold one shape: their rows are not signed, so a multi-file archive
/// of one export is not held to the signatures' budget (no warning even at the smallest
/// limit), while exact duplicates across the files are still removed.
#[test]
fn files_of_one_header_are_not_signed() {
    let dir = tempdir();
    const EVENTS: usize = 4000;
    // Wide enough that signing both files' rows would pass the smallest budget (1 MiB).
    let extra: String = (0..30).map(|c| format!(",Extra{c}")).collect();
    let header =
        format!("Operation,LastAccessed,LogonType,LogonUserDisplayName,ItemSubject{extra}\n");
    let header = header.as_str();
    let mut day1 =
        format!("\u{feff}#TYPE Selected.System.Management.Automation.PSObject\r\n{header}");
    let mut day2 = String::from(header);
    day1 = day1.replace(header, &header.replace('\n', "\r\n"));
    day2 = day2.replace('\n', "\r\n");
    for n in 0..EVENTS {
        let row = format!(
            "Update,2017-04-01T{:02}:{:02}:{:02}Z,Owner,Test User 1,note {n}{}\r\n",
            n / 3600,
            n / 60 % 60,
            n % 60,
            ",value".repeat(30)
        );
        day1.push_str(&row);
        // The second file repeats the first's last half: exact duplicates.
        if n >= EVENTS / 2 {
            day2.push_str(&row);
        }
    }
    std::fs::write(dir.path().join("day1.csv"), day1).unwrap();
    std::fs::write(dir.path().join("day2.csv"), day2).unwrap();
    let r = mbxaudit_in(
        dir.path(),
        &[
            "search",
            "--logon-types",
            "all",
            "--memory-limit",
            "1",
            "--stdout",
            "day1.csv",
            "day2.csv",
        ],
        None,
    );
    r.expect_code(0);
    let rows = String::from_utf8_lossy(&r.stdout).lines().count() - 1;
    assert_eq!(rows, EVENTS, "{}", r.stderr);
    assert!(!r.stderr.contains("were not compared"), "{}", r.stderr);
}
