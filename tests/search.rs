//! `mbxaudit search` end to end: every format trap, every rule, every output-safety rule.

use crate::util::*;

/// Report column indexes (the seed script's order).
const SUBJECT: usize = 0;
const OPERATION: usize = 1;
const USER: usize = 2;
const TIME: usize = 3;
const IP: usize = 7;
const LOGON: usize = 11;
const CROSS: usize = 14;

/// Searches one fixture with default options and compares the report with its golden.
fn golden_search(fixture: &str, extra: &[&str]) -> Run {
    let path = format!("testdata/legacy/{fixture}");
    let mut args: Vec<&str> = extra.to_vec();
    args.push(&path);
    let (run, report) = search_to_file(&args);
    let report = report.unwrap_or_else(|| panic!("no report; stderr:\n{}", run.stderr));
    assert!(
        report.starts_with(b"\xEF\xBB\xBF\"Subject\",\"Operation\""),
        "BOM + quoted header"
    );
    let name = match extra.is_empty() {
        true => fixture.to_string(),
        false => format!(
            "{}{}",
            fixture.trim_end_matches(".csv"),
            extra.join("").replace(['-', ' ', '/', ':', '+'], "_") + ".csv"
        ),
    };
    assert_golden(&name, &report);
    run
}

// ---- formats (docs/formats.md §A) ----

#[test]
fn basic_en_us_export() {
    let run = golden_search("basic_en-US.csv", &[]);
    run.expect_code(0)
        .expect_stderr("25 rows, dates month/day/year (proved by the dates)")
        .expect_stderr("21 Total entries Found")
        .expect_stderr("Filtered to 13 Entries")
        .expect_stderr("13  = rows written");
}

#[test]
fn report_rows_are_sorted_and_follow_the_script_rules() {
    let (run, rows) = rows_of(&["testdata/legacy/basic_en-US.csv"]);
    run.expect_code(0);
    let times = column(&rows, TIME);
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "ascending by time");
    for r in &rows {
        assert_ne!(r[OPERATION], "FolderBind");
        assert!(["Owner", "Admin", "Delegate"].contains(&r[LOGON].as_str()));
        if ["SendAs", "Create", "Update"].contains(&r[OPERATION].as_str()) {
            assert_eq!(r[CROSS], "N/A");
        } else {
            assert!(r[CROSS] == "True" || r[CROSS] == "False");
        }
    }
    let subjects = column(&rows, SUBJECT);
    assert!(
        subjects.contains(&"Good News, Invoice, March 2017"),
        "source list kept whole, left-trimmed"
    );
    assert!(subjects.contains(&"He said \"hi\""));
    assert!(subjects.contains(&"Résumé – Jürgen Müller"));
    assert!(subjects.contains(&"Wire transfer\r\nURGENT"));
}

#[test]
fn type_line_without_bom() {
    golden_search("typeline_nobom.csv", &[])
        .expect_code(0)
        .expect_stderr("13 rows");
}

#[test]
fn utf16_le_with_type_line() {
    let run = golden_search("utf16le.csv", &[]);
    run.expect_code(0).expect_stderr("UTF-16LE (BOM), 10 rows");
}

#[test]
fn utf16_be() {
    golden_search("utf16be.csv", &[])
        .expect_code(0)
        .expect_stderr("UTF-16BE (BOM), 9 rows");
}

#[test]
fn utf16_decodes_every_row_and_characters_beyond_the_bmp() {
    // Surrogate pairs (an emoji in a subject) must come out as one character.
    let (_, rows) = rows_of(&[
        "--logon-types",
        "all",
        "--include-folder-bind",
        "testdata/legacy/utf16le.csv",
    ]);
    assert_eq!(rows.len(), 10);
    assert!(
        rows.iter()
            .any(|r| r[SUBJECT].contains('\u{1F4CE}')
                || r[SUBJECT].chars().any(|c| c as u32 > 0xFFFF))
    );
}

#[test]
fn semicolon_delimited_german_dates() {
    golden_search("semicolon_de-DE.csv", &[])
        .expect_code(0)
        .expect_stderr("(';' delimited)")
        .expect_stderr("dates day/month/year (proved by the dates)");
}

#[test]
fn day_first_proved_by_the_last_line() {
    golden_search("dayfirst_en-GB.csv", &[])
        .expect_code(0)
        .expect_stderr("dates day/month/year (proved by the dates)");
}

#[test]
fn ambiguous_dates_default_to_month_first_with_a_warning() {
    let run = golden_search("ambiguous_dates.csv", &[]);
    run.expect_code(0)
        .expect_stderr("day/month order cannot be proved")
        .expect_stderr("--date-order dmy")
        .expect_stderr("dates month/day/year (assumed (no proof))");
}

#[test]
fn ambiguous_dates_read_day_first_when_told() {
    let (run, mdy) = rows_of(&["testdata/legacy/ambiguous_dates.csv"]);
    run.expect_code(0);
    let (run, dmy) = rows_of(&["--date-order", "dmy", "testdata/legacy/ambiguous_dates.csv"]);
    run.expect_code(0).expect_stderr("(--date-order)");
    assert_eq!(mdy.len(), dmy.len());
    assert_ne!(column(&mdy, TIME), column(&dmy, TIME));
    // 4/10/2017 is April 10 as mdy and October 4 as dmy.
    assert!(column(&mdy, TIME).iter().all(|t| t.starts_with("2017-0")));
}

#[test]
fn conflicting_dates_reject_the_file() {
    let (run, report) = search_to_file(&["testdata/legacy/conflicting_dates.csv"]);
    run.expect_code(1)
        .expect_stderr("both month-first (line 12: '4/13/2017 7:05:00 AM') and day-first (line 13: '13/4/2017 9:12:18 AM')")
        .expect_stderr("--date-order");
    assert_eq!(report_rows(&report.expect("report with header")).len(), 0);
}

#[test]
fn conflicting_dates_with_an_order_report_the_rest_as_malformed() {
    let (run, rows) = rows_of(&[
        "--date-order",
        "mdy",
        "--logon-types",
        "all",
        "--include-folder-bind",
        "testdata/legacy/conflicting_dates.csv",
    ]);
    run.expect_code(1)
        .expect_stderr("conflicting_dates.csv:13: LastAccessed '13/4/2017 9:12:18 AM'");
    assert_eq!(rows.len(), 11);
}

#[test]
fn multi_line_fields_and_no_final_newline() {
    golden_search("multiline_fields.csv", &["--include-folder-bind"])
        .expect_code(0)
        .expect_stderr("10 rows");
}

#[test]
fn on_prem_subset_lower_case_headers_iso_dates() {
    golden_search("onprem2013_subset.csv", &["--tz", "+02:00"])
        .expect_code(0)
        .expect_stderr("12 rows");
}

#[test]
fn iso_dates_from_powershell_7() {
    golden_search("iso_ps7_lf.csv", &[])
        .expect_code(0)
        .expect_stderr("10 rows");
}

#[test]
fn twelve_hour_clock_edges() {
    let (run, rows) = rows_of(&[
        "--include-folder-bind",
        "--logon-types",
        "all",
        "testdata/legacy/twelve_hour_edge.csv",
    ]);
    run.expect_code(0);
    assert_eq!(rows.len(), 8);
    let times = column(&rows, TIME);
    assert!(
        times.iter().any(|t| t.ends_with("T00:05:00Z")),
        "12:05 AM is 00:05: {times:?}"
    );
    assert!(
        times.iter().any(|t| t.ends_with("T12:30:00Z")),
        "12:30 PM is 12:30: {times:?}"
    );
    assert!(
        times.iter().any(|t| t.ends_with("T23:59:59Z")),
        "11:59:59 PM: {times:?}"
    );
}

#[test]
fn script_report_is_read_back() {
    golden_search("AuditLogResults170427_101500.csv", &[])
        .expect_code(0)
        .expect_stderr("report CSV (AuditLogResults)")
        .expect_stderr("15 rows");
}

#[test]
fn our_report_reads_back_to_itself() {
    let (_, first) = search_to_file(&["testdata/legacy/basic_en-US.csv"]);
    let dir = tempdir();
    let again = dir.path().join("again.csv");
    std::fs::write(&again, first.as_ref().unwrap()).unwrap();
    let (run, second) = search_to_file(&[again.to_str().unwrap()]);
    run.expect_code(0);
    assert_eq!(first, second);
}

#[test]
fn header_only_and_empty_files() {
    let (run, rows) = rows_of(&[
        "testdata/legacy/header_only.csv",
        "testdata/legacy/empty.csv",
    ]);
    run.expect_code(0)
        .expect_stderr("empty file")
        .expect_stderr("0 entries in the report");
    assert!(rows.is_empty());
}

#[test]
fn missing_required_column_is_named() {
    let (run, report) = search_to_file(&["testdata/legacy/missing_lastaccessed.csv"]);
    run.expect_code(1)
        .expect_stderr("missing_lastaccessed.csv: missing required column 'LastAccessed'");
    assert!(report_rows(&report.unwrap()).is_empty());
}

#[test]
fn not_an_export_named_is_an_error_walked_is_skipped() {
    let run = search_to_file(&["testdata/legacy/not_an_export.csv"]).0;
    run.expect_code(1)
        .expect_stderr("not a mailbox audit export");
    let dir = tempdir();
    std::fs::copy(
        testdata("legacy/not_an_export.csv"),
        dir.path().join("x.csv"),
    )
    .unwrap();
    std::fs::copy(testdata("legacy/basic_en-US.csv"), dir.path().join("y.bin")).unwrap();
    let (run, rows) = rows_of(&[dir.path().to_str().unwrap()]);
    run.expect_code(0)
        .expect_stderr("skipped")
        .expect_stderr("x.csv: not a mailbox audit export");
    assert_eq!(rows.len(), 13, "y.bin recognised by content, not name");
}

#[test]
fn malformed_rows_are_reported_with_file_and_line() {
    let run = golden_search("malformed_rows.csv", &[]);
    run.expect_code(1)
        .expect_stderr("malformed_rows.csv:4: expected 55 fields as in the header, found 20")
        .expect_stderr("malformed_rows.csv:6: expected 55 fields as in the header, found 56")
        .expect_stderr("malformed_rows.csv:8: LastAccessed 'not a date'")
        .expect_stderr("malformed_rows.csv:10: LastAccessed ''")
        .expect_stderr("malformed_rows.csv:12: invalid UTF-8 replaced with U+FFFD (row kept)")
        .expect_stderr("4  - malformed");
}

#[test]
fn strict_stops_on_malformed_rows() {
    let (run, report) = search_to_file(&["--strict", "testdata/legacy/malformed_rows.csv"]);
    run.expect_code(2).expect_stderr("--strict");
    assert!(report.is_none());
}

#[test]
fn invalid_utf8_is_kept_as_replacement_character() {
    let (_, rows) = rows_of(&[
        "--include-folder-bind",
        "testdata/legacy/malformed_rows.csv",
    ]);
    assert!(rows.iter().any(|r| r[SUBJECT].contains('\u{FFFD}')));
}

// ---- merge and dedup ----

#[test]
fn overlapping_exports_are_deduplicated_by_identity() {
    let (run, report) = search_to_file(&[
        "--include-folder-bind",
        "testdata/legacy/rps_overlap_a.csv",
        "testdata/legacy/rps_overlap_b.csv",
    ]);
    run.expect_code(0)
        .expect_stderr("7  - duplicates")
        .expect_stderr("27  = rows written");
    assert_golden("rps_overlap_merged.csv", &report.unwrap());
}

#[test]
fn overlapping_exports_without_identity_dedup_on_all_fields() {
    let (run, rows) = rows_of(&[
        "--include-folder-bind",
        "testdata/legacy/rps_overlap_noidentity_b.csv",
        "testdata/legacy/rps_overlap_noidentity_a.csv",
    ]);
    run.expect_code(0)
        .expect_stderr("7  - duplicates")
        .expect_stderr("27  = rows written");
    let (_, with_identity) = rows_of(&[
        "--include-folder-bind",
        "testdata/legacy/rps_overlap_a.csv",
        "testdata/legacy/rps_overlap_b.csv",
    ]);
    assert_eq!(rows, with_identity);
}

#[test]
fn funnel_adds_up_over_many_inputs() {
    let (run, _) = search_to_file(&["--logon-types", "all", "testdata/legacy/"]);
    // conflicting_dates, missing_lastaccessed, not_an_export and malformed rows: exit 1.
    run.expect_code(1)
        .expect_stderr("rows read")
        .expect_stderr("= rows written");
    let mut numbers = run
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("Funnel"))
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap().parse::<u64>().unwrap());
    let read = numbers.next().unwrap();
    let rest: Vec<u64> = numbers.collect();
    let (written, dropped) = rest.split_last().unwrap();
    assert_eq!(
        read,
        written + dropped.iter().sum::<u64>(),
        "{}",
        run.stderr
    );
}

// ---- rules ----

#[test]
fn include_folder_bind() {
    let (_, rows) = rows_of(&["--include-folder-bind", "testdata/legacy/basic_en-US.csv"]);
    assert_eq!(rows.len(), 21);
    assert!(column(&rows, OPERATION).contains(&"FolderBind"));
}

#[test]
fn subject_regex_and_exact() {
    let (run, rows) = rows_of(&["--subject", "Good News", "testdata/legacy/basic_en-US.csv"]);
    run.expect_code(0)
        .expect_stderr("Searching for Subject: Good News");
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| r[SUBJECT].to_lowercase().contains("good news")));
    assert!(column(&rows, SUBJECT).contains(&"RE: Good News"));
    let (_, exact) = rows_of(&[
        "--subject",
        "good news",
        "--subject-exact",
        "testdata/legacy/basic_en-US.csv",
    ]);
    assert!(exact.iter().all(|r| r[SUBJECT] == "Good News"), "{exact:?}");
    assert!(!exact.is_empty());
}

#[test]
fn subject_unicode_case_folding() {
    let (_, rows) = rows_of(&[
        "--subject",
        "RÉSUMÉ – JÜRGEN",
        "testdata/legacy/basic_en-US.csv",
    ]);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r[SUBJECT] == "Résumé – Jürgen Müller"));
}

#[test]
fn subject_that_is_not_a_regex_is_compared_exactly() {
    let (run, rows) = rows_of(&[
        "--subject",
        "He said \"hi",
        "testdata/legacy/basic_en-US.csv",
    ]);
    run.expect_code(0);
    assert!(
        !rows.is_empty(),
        "a quote is no regex syntax: a substring match"
    );
    let (run, rows) = rows_of(&[
        "--subject",
        "(Quarterly results",
        "testdata/legacy/basic_en-US.csv",
    ]);
    run.expect_stderr("not a valid regular expression");
    assert!(rows.is_empty());
    let (_, rows) = rows_of(&[
        "--subject",
        "Invoice, March 2017 (",
        "--subject-exact",
        "testdata/legacy/basic_en-US.csv",
    ]);
    assert!(rows.is_empty());
}

#[test]
fn logon_types() {
    let (_, all) = rows_of(&["--logon-types", "all", "testdata/legacy/basic_en-US.csv"]);
    assert_eq!(all.len(), 15);
    let (_, owner) = rows_of(&["--logon-types", "owner", "testdata/legacy/basic_en-US.csv"]);
    assert!(!owner.is_empty());
    assert!(owner.iter().all(|r| r[LOGON] == "Owner"));
    let run = mbxaudit(&[
        "search",
        "--logon-types",
        "Guest",
        "--stdout",
        "testdata/legacy/basic_en-US.csv",
    ]);
    run.expect_code(2)
        .expect_stderr("unknown logon type 'Guest'");
}

#[test]
fn mailbox_filter() {
    let (_, rows) = rows_of(&[
        "--mailbox",
        "TEST1@contoso.com",
        "testdata/legacy/basic_en-US.csv",
    ]);
    assert_eq!(rows.len(), 13);
    let (_, rows) = rows_of(&[
        "--mailbox",
        "contoso\\TEST1",
        "testdata/legacy/basic_en-US.csv",
    ]);
    assert_eq!(rows.len(), 13);
    let (run, rows) = rows_of(&[
        "--mailbox",
        "someone@else.com",
        "testdata/legacy/basic_en-US.csv",
    ]);
    run.expect_code(0).expect_stderr("0 Total entries Found");
    assert!(rows.is_empty());
}

#[test]
fn operation_user_and_ip_filters() {
    let (_, rows) = rows_of(&[
        "--operation",
        "harddelete,SoftDelete",
        "testdata/legacy/basic_en-US.csv",
    ]);
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| r[OPERATION] == "HardDelete" || r[OPERATION] == "SoftDelete"));
    let (_, rows) = rows_of(&[
        "--exclude-operation",
        "MessageBind",
        "testdata/legacy/basic_en-US.csv",
    ]);
    assert!(!rows.is_empty() && rows.iter().all(|r| r[OPERATION] != "MessageBind"));
    let (_, rows) = rows_of(&["--user", "eve attacker", "testdata/legacy/basic_en-US.csv"]);
    assert!(!rows.is_empty() && rows.iter().all(|r| r[USER] == "Eve Attacker"));
    let (_, by_ip) = rows_of(&["--ip", "203.0.113.0/24", "testdata/legacy/basic_en-US.csv"]);
    assert_eq!(column(&by_ip, USER), column(&rows, USER));
    assert!(by_ip.iter().all(|r| r[IP] == "203.0.113.7"));
    let (_, none) = rows_of(&["--ip", "203.0.113.8", "testdata/legacy/basic_en-US.csv"]);
    assert!(none.is_empty());
}

#[test]
fn date_window_end_date_includes_the_whole_day() {
    // basic_en-US has events on 4/10 and 4/20 (09:15:08) and later.
    let (run, rows) = rows_of(&[
        "--start-date",
        "04/12/17",
        "--end-date",
        "04/20/17",
        "testdata/legacy/basic_en-US.csv",
    ]);
    run.expect_code(0).expect_stderr(
        "Date window (UTC): from 2017-04-12T00:00:00Z up to (not including) 2017-04-21T00:00:00Z",
    );
    let times = column(&rows, TIME);
    assert!(times.iter().all(
        |t| t.as_bytes() >= b"2017-04-12".as_slice() && t.as_bytes() < b"2017-04-21".as_slice()
    ));
    assert!(
        times.iter().any(|t| t.starts_with("2017-04-20")),
        "the end day is included: {times:?}"
    );
    let (_, iso) = rows_of(&[
        "--start-date",
        "2017-04-12",
        "--end-date",
        "2017-04-20",
        "testdata/legacy/basic_en-US.csv",
    ]);
    assert_eq!(rows, iso);
    let (_, timed) = rows_of(&[
        "--end-date",
        "2017-04-20T09:15:08",
        "testdata/legacy/basic_en-US.csv",
    ]);
    assert_eq!(
        timed.last().unwrap()[TIME],
        "2017-04-20T09:15:08Z",
        "an end with a time is inclusive"
    );
}

#[test]
fn bad_dates_and_empty_windows_are_refused() {
    mbxaudit(&[
        "search",
        "--start-date",
        "yesterday",
        "--stdout",
        "testdata/legacy/basic_en-US.csv",
    ])
    .expect_code(2)
    .expect_stderr("--start-date");
    mbxaudit(&[
        "search",
        "--start-date",
        "2017-05-01",
        "--end-date",
        "2017-04-01",
        "--stdout",
        "testdata/legacy/basic_en-US.csv",
    ])
    .expect_code(2)
    .expect_stderr("not after --start-date");
}

#[test]
fn time_zone_shifts_local_times() {
    let (_, utc) = rows_of(&["testdata/legacy/basic_en-US.csv"]);
    let (run, plus2) = rows_of(&["--tz", "+02:00", "testdata/legacy/basic_en-US.csv"]);
    run.expect_stderr("read as +02:00");
    assert_eq!(utc[0][TIME], "2017-04-10T15:23:40Z");
    assert_eq!(plus2[0][TIME], "2017-04-10T13:23:40Z");
    let (_, berlin) = rows_of(&["--tz", "Europe/Berlin", "testdata/legacy/basic_en-US.csv"]);
    assert_eq!(berlin, plus2, "CEST is +02:00 in April");
    mbxaudit(&[
        "search",
        "--tz",
        "Mars/Olympus",
        "--stdout",
        "testdata/legacy/basic_en-US.csv",
    ])
    .expect_code(2);
}

#[test]
fn time_format_original() {
    let (_, rows) = rows_of(&[
        "--time-format",
        "original",
        "testdata/legacy/basic_en-US.csv",
    ]);
    assert_eq!(rows[0][TIME], "4/10/2017 3:23:40 PM");
}

// ---- output ----

#[test]
fn stdout_and_return_object_write_the_report_without_bom() {
    let run = mbxaudit(&["search", "--stdout", "testdata/legacy/basic_en-US.csv"]);
    run.expect_code(0)
        .expect_stderr("Writing results to standard output");
    let (_, file) = search_to_file(&["testdata/legacy/basic_en-US.csv"]);
    assert_eq!(
        b"\xEF\xBB\xBF"
            .iter()
            .chain(&run.stdout)
            .copied()
            .collect::<Vec<_>>(),
        file.unwrap()
    );
    let alias = mbxaudit(&[
        "search",
        "--return-object",
        "testdata/legacy/basic_en-US.csv",
    ]);
    assert_eq!(alias.stdout, run.stdout);
}

#[test]
fn stdin_is_read() {
    let bytes = std::fs::read(testdata("legacy/utf16le.csv")).unwrap();
    let piped = mbxaudit_in(&root(), &["search", "--stdout", "-"], Some(&bytes));
    piped.expect_code(0).expect_stderr("read <stdin>");
    let named = mbxaudit(&["search", "--stdout", "testdata/legacy/utf16le.csv"]);
    assert_eq!(piped.stdout, named.stdout);
}

#[test]
fn default_file_name_and_no_clobber() {
    let dir = tempdir();
    let input = testdata("legacy/basic_en-US.csv");
    let run = mbxaudit_in(dir.path(), &["search", input.to_str().unwrap()], None);
    run.expect_code(0)
        .expect_stderr("Posting results to file: AuditLogResults");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let name = &names[0];
    assert!(
        name.len() == "AuditLogResults170410_152211.csv".len()
            && name.starts_with("AuditLogResults")
            && name.ends_with(".csv")
            && name[15..28].chars().enumerate().all(|(i, c)| if i == 6 {
                c == '_'
            } else {
                c.is_ascii_digit()
            }),
        "{name}"
    );
}

#[test]
fn existing_output_needs_force() {
    let dir = tempdir();
    let out = dir.path().join("r.csv");
    std::fs::write(&out, b"keep me").unwrap();
    let input = testdata("legacy/basic_en-US.csv");
    let args = [
        "search",
        "-o",
        out.to_str().unwrap(),
        input.to_str().unwrap(),
    ];
    mbxaudit(&args)
        .expect_code(2)
        .expect_stderr("already exists; use --force");
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    let mut forced = args.to_vec();
    forced.push("--force");
    mbxaudit(&forced).expect_code(0);
    assert!(std::fs::read(&out).unwrap().starts_with(b"\xEF\xBB\xBF"));
}

#[test]
fn output_equal_to_an_input_is_refused() {
    let dir = tempdir();
    let input = dir.path().join("evidence.csv");
    std::fs::copy(testdata("legacy/basic_en-US.csv"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let i = input.to_str().unwrap();
    mbxaudit(&["search", "--force", "-o", i, i])
        .expect_code(2)
        .expect_stderr("also an input");
    // Through another spelling of the same path, and through a directory input.
    let other = dir.path().join(".").join("evidence.csv");
    mbxaudit(&[
        "search",
        "--force",
        "-o",
        other.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ])
    .expect_code(2)
    .expect_stderr("also an input");
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn inputs_are_never_written() {
    let dir = tempdir();
    let input = dir.path().join("e.csv");
    std::fs::copy(testdata("legacy/malformed_rows.csv"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let mut perms = std::fs::metadata(&input).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&input, perms).unwrap();
    mbxaudit(&["search", "--stdout", input.to_str().unwrap()]).expect_code(1);
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn missing_input_is_fatal() {
    mbxaudit(&["search", "--stdout", "testdata/legacy/nope.csv"])
        .expect_code(2)
        .expect_stderr("nope.csv': cannot open input");
}

#[test]
fn same_report_at_any_thread_count() {
    let one = mbxaudit(&[
        "search",
        "-j",
        "1",
        "--stdout",
        "--logon-types",
        "all",
        "testdata/legacy/",
    ]);
    let two = mbxaudit(&[
        "search",
        "-j",
        "2",
        "--stdout",
        "--logon-types",
        "all",
        "testdata/legacy/",
    ]);
    assert_eq!(one.stdout, two.stdout);
    assert!(!one.stdout.is_empty());
}

// ---- Excel safety (docs/formats.md §G) ----

#[test]
fn formula_cells_are_neutralised_unless_raw_cells() {
    let input = "testdata/ual/mailitemsaccessed_throttled.csv";
    let (run, rows) = rows_of(&["--expand-items", input]);
    run.expect_code(0).expect_stderr("prefixed with '");
    assert!(
        rows.iter()
            .any(|r| r[SUBJECT] == "'=HYPERLINK(\"http://evil.example\",\"open\")"),
        "{rows:?}"
    );
    assert!(rows.iter().all(|r| r.iter().all(|c| !c.starts_with('='))));
    let (_, raw) = rows_of(&["--raw-cells", "--expand-items", input]);
    assert!(raw
        .iter()
        .any(|r| r[SUBJECT] == "=HYPERLINK(\"http://evil.example\",\"open\")"));
}

#[test]
fn every_format_mixed_in_one_run() {
    // Legacy CSV, PowerShell JSON, UAL CSV and JSON Lines, real and crafted, in one call.
    let (run, report) = search_to_file(&[
        "--record-types",
        "all",
        "--logon-types",
        "all",
        "--include-folder-bind",
        "testdata/legacy/basic_en-US.csv",
        "testdata/legacy/rps_overlap_a.csv",
        "testdata/json/",
        "testdata/ual/",
    ]);
    // testdata/json holds a truncated dump and a garbage element: exit 1, all reported.
    run.expect_code(1).expect_stderr("= rows written");
    let rows = report_rows(&report.expect("a report"));
    let times = column(&rows, TIME);
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "one sorted report");
    let funnel: Vec<u64> = run
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("Funnel"))
        .skip(1)
        .filter(|l| !l.contains("of which"))
        .map(|l| l.split_whitespace().next().unwrap().parse::<u64>().unwrap())
        .collect();
    let (read, rest) = funnel.split_first().unwrap();
    let (written, dropped) = rest.split_last().unwrap();
    assert_eq!(
        *read,
        written + dropped.iter().sum::<u64>(),
        "{}",
        run.stderr
    );
    assert_eq!(*written as usize, rows.len());
    assert!(
        run.stderr.contains("duplicates"),
        "the same events in several exports"
    );
}
