//! JSON exports end to end: PowerShell `ConvertTo-Json` dumps of `Search-MailboxAuditLog`
//! (5.1 and 7, every shape and breakage), `Search-UnifiedAuditLog` dumps, JSON Lines,
//! and de-duplication against the CSV exports of the same events.
//! Fixtures: `testdata/json/` (made by `testdata/json/make_json_fixtures.py`, plus three
//! real files; see its README).

use crate::util::*;

/// Report column indexes (the seed script's order).
const SUBJECT: usize = 0;
const OPERATION: usize = 1;
const TIME: usize = 3;
const LOGON: usize = 11;

/// Searches `inputs` with `extra` options, compares the report with
/// `testdata/golden/NAME`, and returns the run and the report's rows.
fn golden(name: &str, extra: &[&str], inputs: &[&str]) -> (Run, Vec<Vec<String>>) {
    let mut args: Vec<&str> = extra.to_vec();
    args.extend_from_slice(inputs);
    let (run, report) = search_to_file(&args);
    let report = report.unwrap_or_else(|| panic!("no report; stderr:\n{}", run.stderr));
    assert!(
        report.starts_with(b"\xEF\xBB\xBF\"Subject\",\"Operation\""),
        "BOM + quoted header"
    );
    assert_golden(name, &report);
    (run, report_rows(&report))
}

/// Asserts that `json` and `csv` rows are the same events, in the same order, with the
/// same columns; only the subject of events with several source items differs: the
/// dump has each item, so the report shows the first one's (as the seed script does),
/// where the CSV only has the comma-joined list (kept whole).
fn same_rows_but_first_item_subjects(json: &[Vec<String>], csv: &[Vec<String>]) -> usize {
    assert_eq!(json.len(), csv.len());
    let mut first_item_only = 0;
    for (j, c) in json.iter().zip(csv) {
        assert_eq!(j[1..], c[1..], "row {j:?}");
        if j[SUBJECT] != c[SUBJECT] {
            assert!(
                c[SUBJECT].starts_with(&format!("{}, ", j[SUBJECT])),
                "{:?} vs {:?}",
                j[SUBJECT],
                c[SUBJECT]
            );
            first_item_only += 1;
        }
    }
    first_item_only
}

// ---- Search-MailboxAuditLog | ConvertTo-Json (docs/formats.md §B) ----

#[test]
fn windows_powershell_dump_utf16_depth4() {
    let (run, rows) = golden(
        "json_ps51_depth4_utf16.csv",
        &[],
        &["testdata/json/ps51_depth4_utf16.json"],
    );
    run.expect_code(0)
        .expect_stderr("UTF-16LE (BOM), 25 rows")
        .expect_stderr("21 Total entries Found")
        .expect_stderr("13  = rows written");
    // LogonType enum numbers become names in the report.
    assert!(column(&rows, LOGON)
        .iter()
        .all(|l| ["Owner", "Admin", "Delegate"].contains(l)));
    // The seed's subject: the first source item's, left-trimmed.
    let soft = rows.iter().find(|r| r[OPERATION] == "SoftDelete").unwrap();
    assert_eq!(soft[SUBJECT], "Good News");
    assert_eq!(soft[TIME], "2017-04-12T22:16:45Z");
}

#[test]
fn windows_powershell_dump_gives_the_csv_exports_rows() {
    let (run, json) = rows_of(&["testdata/json/ps51_depth4_utf16.json"]);
    run.expect_code(0);
    let (_, csv) = rows_of(&["testdata/legacy/basic_en-US.csv"]);
    assert_eq!(same_rows_but_first_item_subjects(&json, &csv), 2);
}

#[test]
fn json_dump_and_csv_export_of_the_same_events_dedup() {
    for inputs in [
        [
            "testdata/json/ps51_depth4_utf16.json",
            "testdata/legacy/basic_en-US.csv",
        ],
        [
            "testdata/legacy/basic_en-US.csv",
            "testdata/json/ps51_depth4_utf16.json",
        ],
    ] {
        let (run, rows) = rows_of(&inputs);
        run.expect_code(0)
            .expect_stderr("50  rows read")
            .expect_stderr("13  - duplicates (same event in several exports)")
            .expect_stderr("13  = rows written");
        // The first input holding an event keeps it.
        let (_, first) = rows_of(&inputs[..1]);
        assert_eq!(rows, first);
    }
    // The other dumps against the CSV exports of their events.
    for (json, csv, dups) in [
        (
            "testdata/json/ps7_depth4.json",
            "testdata/legacy/iso_ps7_lf.csv",
            7,
        ),
        (
            "testdata/json/ps51_default_depth.json",
            "testdata/legacy/utf16le.csv",
            8,
        ),
        (
            "testdata/json/appended_arrays.json",
            "testdata/legacy/basic_en-US.csv",
            11,
        ),
        (
            "testdata/json/datetime_object.json",
            "testdata/legacy/basic_en-US.csv",
            6,
        ),
    ] {
        let (run, _) = rows_of(&[json, csv]);
        run.expect_code(0).expect_stderr(&format!(
            "{dups}  - duplicates (same event in several exports)"
        ));
    }
}

#[test]
fn powershell_7_dump() {
    let (run, rows) = golden(
        "json_ps7_depth4.csv",
        &[],
        &["testdata/json/ps7_depth4.json"],
    );
    run.expect_code(0).expect_stderr("UTF-8, 10 rows");
    // ISO times with +02:00 are the same instants as the CSV's Z times.
    let (_, csv) = rows_of(&["testdata/legacy/iso_ps7_lf.csv"]);
    assert_eq!(same_rows_but_first_item_subjects(&rows, &csv), 1);
}

#[test]
fn default_depth_dump_takes_subjects_from_the_list() {
    let (run, rows) = golden(
        "json_ps51_default_depth.csv",
        &[],
        &["testdata/json/ps51_default_depth.json"],
    );
    run.expect_code(0);
    let (_, csv) = rows_of(&["testdata/legacy/utf16le.csv"]);
    assert_eq!(rows, csv, "type names in SourceItems are no data");
    assert!(column(&rows, SUBJECT).contains(&"Lunch \u{1F355} Friday?"));
}

#[test]
fn bare_object_and_subjects_of_every_source_item() {
    let (run, rows) = golden(
        "json_bare_object.csv",
        &[],
        &["testdata/json/bare_object.json"],
    );
    run.expect_code(0).expect_stderr("1  rows read");
    assert_eq!(column(&rows, SUBJECT), ["Good News"]);
    // --subject matches any source item, not only the first.
    let (run, rows) = rows_of(&["--subject", "^He said", "testdata/json/bare_object.json"]);
    run.expect_code(0);
    assert_eq!(column(&rows, OPERATION), ["HardDelete"]);
    // --expand-items: one row a source item.
    let (run, rows) = rows_of(&["--expand-items", "testdata/json/bare_object.json"]);
    run.expect_code(0);
    assert_eq!(column(&rows, SUBJECT), ["Good News", "He said \"hi\""]);
}

#[test]
fn arrays_appended_to_one_file() {
    let (run, rows) = golden(
        "json_appended_arrays.csv",
        &[],
        &["testdata/json/appended_arrays.json"],
    );
    run.expect_code(0)
        .expect_stderr("20 rows")
        .expect_stderr("11  = rows written");
    assert_eq!(
        rows.last().unwrap()[OPERATION],
        "Move",
        "the bare object (E20)"
    );
}

#[test]
fn date_objects_use_their_value() {
    let (run, rows) = golden(
        "json_datetime_object.csv",
        &[],
        &["testdata/json/datetime_object.json"],
    );
    run.expect_code(0).expect_stderr("12 rows");
    assert_eq!(rows[0][TIME], "2017-04-14T11:04:02Z");
    // --time-format original shows the value as written (unescaped).
    let (_, rows) = rows_of(&[
        "--time-format",
        "original",
        "testdata/json/datetime_object.json",
    ]);
    assert_eq!(rows[0][TIME], "/Date(1492167842000)/");
}

// ---- broken files ----

#[test]
fn truncated_dump_reports_the_cut_record_and_keeps_the_rest() {
    let (run, rows) = golden("json_truncated.csv", &[], &["testdata/json/truncated.json"]);
    run.expect_code(1)
        .expect_stderr(
            "truncated.json:246: truncated: the record that starts here is not closed at the end of the file",
        )
        .expect_stderr("1  - malformed");
    assert_eq!(rows.len(), 2);
    let (run, _) = rows_of(&["--strict", "testdata/json/truncated.json"]);
    run.expect_code(2);
}

#[test]
fn garbage_element_costs_only_itself() {
    let (run, rows) = golden(
        "json_garbage_element.csv",
        &[],
        &["testdata/json/garbage_element.json"],
    );
    run.expect_code(1)
        .expect_stderr(
            "garbage_element.json:124: not valid JSON: expected a member name in quotes (line 127)",
        )
        .expect_stderr("6 rows")
        .expect_stderr("1  - malformed");
    assert_eq!(column(&rows, OPERATION), ["SendAs", "Update"]);
}

#[test]
fn json_lines_resume_at_the_next_line_and_stdin_works() {
    let dir = tempdir();
    let text = std::fs::read_to_string(testdata("json/ps7_depth4.json")).unwrap();
    let records: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let mut lines: Vec<String> = records.iter().map(|r| r.to_string()).collect();
    lines.insert(3, "{\"Operation\": \"Cut\", \"LastAcc".into());
    lines.insert(6, "not json at all".into());
    let jsonl = lines.join("\r\n");
    let path = dir.path().join("dump.jsonl");
    std::fs::write(&path, &jsonl).unwrap();
    let (run, from_file) = rows_of(&[path.to_str().unwrap()]);
    run.expect_code(1)
        .expect_stderr("dump.jsonl:4: truncated: the record that starts here is not closed at the end of the line")
        .expect_stderr("dump.jsonl:7: unexpected text between JSON values: 'not json at all'")
        .expect_stderr("12 rows");
    let (_, pretty) = rows_of(&["testdata/json/ps7_depth4.json"]);
    assert_eq!(from_file, pretty);
    let run = mbxaudit_in(
        dir.path(),
        &["search", "--stdout", "-"],
        Some(jsonl.as_bytes()),
    );
    run.expect_code(1).expect_stderr("<stdin>:4: truncated");
    assert_eq!(report_rows(&run.stdout), pretty);
}

#[test]
fn many_chunks_give_the_same_report_at_any_thread_count() {
    // More than one 4 MiB chunk: 250 copies of a dump, a broken value in the middle.
    let dir = tempdir();
    let one = std::fs::read_to_string(testdata("json/ps7_depth4.json")).unwrap();
    let mut text = String::new();
    for i in 0..250 {
        text.push_str(&one.replace("RgAAAAD2", &format!("Rg{i:04}D2")));
        if i == 125 {
            text.push_str("[{\"Operation\": oops}]\n");
        }
    }
    let path = dir.path().join("big.json");
    std::fs::write(&path, &text).unwrap();
    let p = path.to_str().unwrap();
    let (one_thread, a) = search_to_file(&["-j", "1", p]);
    let (three, b) = search_to_file(&["-j", "3", p]);
    one_thread
        .expect_code(1)
        .expect_stderr("2501 rows")
        .expect_stderr(&format!(
            "big.json:{}: not valid JSON: unexpected character",
            126 * one.lines().count() + 1
        ));
    let without_output = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("Posting results"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        without_output(&one_thread.stderr),
        without_output(&three.stderr)
    );
    assert_eq!(a.unwrap(), b.unwrap());
}

// ---- Search-UnifiedAuditLog | ConvertTo-Json, AuditData JSON (docs/formats.md §D) ----

#[test]
fn unified_audit_log_dump_with_audit_data_strings() {
    let (run, rows) = golden(
        "json_ual_ps51_auditdata_string.csv",
        &["--record-types", "all"],
        &["testdata/json/ual_ps51_auditdata_string.json"],
    );
    run.expect_code(0).expect_stderr("11 rows").expect_stderr(
        "ual_ps51_auditdata_string.json:122: AuditData (3062 characters) cannot be read",
    );
    // The cut record is reported from the wrapper's own members.
    let cut = rows
        .iter()
        .find(|r| r[TIME] == "2024-03-05T09:30:00Z")
        .expect("the cut record");
    assert_eq!(cut[OPERATION], "MailItemsAccessed");
    // The same records as the CSV export: all duplicates.
    let (run, rows) = rows_of(&[
        "testdata/ual/sua_mailbox.csv",
        "testdata/json/ual_ps51_auditdata_string.json",
    ]);
    run.expect_code(0)
        .expect_stderr("7  - duplicates (same event in several exports)");
    assert_eq!(rows.len(), 7 + 1);
}

#[test]
fn real_unified_audit_log_dumps_and_json_lines() {
    let (run, rows) = golden(
        "json_real__record_types_admin.csv",
        &["--record-types", "admin"],
        &[
            "testdata/json/t1114.003_rule_mail_forward_same_dest.json",
            "testdata/json/t1564.008_rule_mark_as_read_move.json",
            "testdata/json/t1114.003_Forward_Rule_Multi_Users_Same_Forward_dest.json",
        ],
    );
    // The JSON Lines file holds two records twice.
    run.expect_code(0)
        .expect_stderr("2  - duplicates (same event in several exports)");
    assert_eq!(
        column(&rows, OPERATION),
        [
            "Set-Mailbox",
            "Set-Mailbox",
            "Set-Mailbox",
            "New-InboxRule",
            "New-InboxRule",
            "New-InboxRule"
        ]
    );
    // Admin cmdlets are no mailbox records: skipped (and counted) by default.
    let (run, rows) = rows_of(&["testdata/json/t1564.008_rule_mark_as_read_move.json"]);
    run.expect_code(0).expect_stderr("1  - other record types");
    assert!(rows.is_empty());
}
