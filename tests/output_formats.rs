//! `search --format csv|jsonl|json|table|timesketch`, `--columns script|full`,
//! `--newest-first`, and the generated completions and manual pages.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::util::*;

/// A JSON object with its keys in the order written (serde_json's `Map` sorts them).
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Searches with `args` (fixture paths relative to the repository) and returns the
/// report's bytes.
fn report(args: &[&str]) -> Vec<u8> {
    let (run, bytes) = search_to_file(args);
    run.expect_code(0);
    bytes.unwrap_or_else(|| panic!("no report; stderr:\n{}", run.stderr))
}

/// The CSV header, BOM dropped.
fn csv_header(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut r = csv::ReaderBuilder::new().from_reader(bytes);
    r.headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect()
}

fn jsonl_objects(bytes: &[u8]) -> Vec<Map<String, Value>> {
    jsonl_ordered(bytes)
        .into_iter()
        .map(|o| o.0.into_iter().collect())
        .collect()
}

/// JSON Lines, re-read with serde_json, keys in the order written.
fn jsonl_ordered(bytes: &[u8]) -> Vec<Ordered> {
    std::str::from_utf8(bytes)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

const BASIC: &str = "testdata/legacy/basic_en-US.csv";

// ---- golden files, one per format ----

#[test]
fn golden_full_csv() {
    let bytes = report(&["--columns", "full", BASIC]);
    let header = csv_header(&bytes);
    assert_eq!(header.len(), 31);
    assert_eq!(&header[29..], ["SourceFile", "SourceLine"]);
    assert_golden("format_basic_en-US__full.csv", &bytes);
}

#[test]
fn golden_jsonl() {
    assert_golden(
        "format_basic_en-US.jsonl",
        &report(&["--format", "jsonl", BASIC]),
    );
}

#[test]
fn golden_json_full_newest_first() {
    assert_golden(
        "format_basic_en-US__full_newest_first.json",
        &report(&[
            "--format",
            "json",
            "--columns",
            "full",
            "--newest-first",
            BASIC,
        ]),
    );
}

#[test]
fn golden_table() {
    let bytes = report(&["--format", "table", BASIC]);
    let text = String::from_utf8(bytes.clone()).expect("UTF-8");
    assert!(!text.contains('\r'), "control characters escaped");
    assert!(text.contains("Wire transfer\\r\\nURGENT"));
    assert!(text.contains('…'), "long cells cut");
    assert_golden("format_basic_en-US.txt", &bytes);
}

#[test]
fn golden_timesketch() {
    let bytes = report(&["--format", "timesketch", BASIC]);
    assert!(
        bytes.starts_with(b"\"message\",\"datetime\",\"timestamp_desc\",\"timestamp\",\"Subject\"")
    );
    let rows = report_rows(&bytes);
    assert_eq!(rows.len(), 13);
    assert_eq!(
        rows[0][..4],
        [
            "MessageBind by Eve Attacker on CONTOSO\\test1 from 203.0.113.7: Good News",
            "2017-04-10T15:23:40+00:00",
            "Mailbox audit: LastAccessed",
            "1491837820000000",
        ]
    );
    assert_golden("format_basic_en-US.timesketch.csv", &bytes);
}

#[test]
fn golden_timesketch_unified_audit_log_expanded() {
    let bytes = report(&[
        "--format",
        "timesketch",
        "--expand-items",
        "testdata/ual/mailitemsaccessed_throttled.csv",
    ]);
    let rows = report_rows(&bytes);
    assert!(rows
        .iter()
        .all(|r| r[2] == "Unified audit log: CreationTime"));
    assert_golden(
        "format_ual_mailitemsaccessed_throttled__expand_items.timesketch.csv",
        &bytes,
    );
}

#[test]
fn golden_jsonl_unified_audit_log_full() {
    assert_golden(
        "format_ual_purview_classic__full.jsonl",
        &report(&[
            "--format",
            "jsonl",
            "--columns",
            "full",
            "--record-types",
            "all",
            "testdata/ual/purview_classic.csv",
        ]),
    );
}

// ---- JSON gives the same records as the CSV ----

fn same_records_as_csv(extra: &[&str], input: &str) {
    let mut csv_args = vec!["--raw-cells"];
    csv_args.extend_from_slice(extra);
    csv_args.push(input);
    let csv = report(&csv_args);
    let header = csv_header(&csv);
    let rows = report_rows(&csv);

    let mut json_args = vec!["--format", "jsonl"];
    json_args.extend_from_slice(extra);
    json_args.push(input);
    let jsonl = report(&json_args);
    let ordered = jsonl_ordered(&jsonl);
    assert_eq!(ordered.len(), rows.len(), "{input}: one object per row");
    for (o, row) in ordered.iter().zip(&rows) {
        let keys: Vec<&String> = o.0.iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            header.iter().collect::<Vec<_>>(),
            "keys = columns, in order"
        );
        for ((k, v), cell) in o.0.iter().zip(row) {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) if k == "SourceLine" => n.to_string(),
                other => panic!("{k}: unexpected {other}"),
            };
            assert_eq!(&text, cell, "{input}: {k}");
        }
    }

    let mut array_args = vec!["--format", "json"];
    array_args.extend_from_slice(extra);
    array_args.push(input);
    let array: Vec<Map<String, Value>> =
        serde_json::from_slice(&report(&array_args)).expect("one JSON array");
    assert_eq!(
        array,
        jsonl_objects(&jsonl),
        "{input}: json = jsonl in an array"
    );
}

#[test]
fn jsonl_reads_back_as_the_csv_records() {
    for input in [
        BASIC,
        "testdata/legacy/multiline_fields.csv",
        "testdata/legacy/utf16le.csv",
        "testdata/ual/purview_classic.csv",
        "testdata/ual/exchangeitemgroup.csv",
    ] {
        same_records_as_csv(&["--logon-types", "all", "--include-folder-bind"], input);
        same_records_as_csv(&["--columns", "full", "--record-types", "all"], input);
    }
    same_records_as_csv(
        &["--expand-items", "--columns", "full"],
        "testdata/ual/mailitemsaccessed_throttled.csv",
    );
}

#[test]
fn json_is_never_neutralised_for_excel() {
    let dir = tempdir();
    let input = dir.path().join("formula.csv");
    std::fs::write(
        &input,
        "Operation,LogonType,ItemSubject,LastAccessed\r\nHardDelete,Owner,=HYPERLINK(\"x\"),2017-04-10T15:22:11Z\r\n",
    )
    .expect("write input");
    let input = input.to_str().expect("utf-8");
    let objects = jsonl_objects(&report(&["--format", "jsonl", input]));
    assert_eq!(objects[0]["Subject"], "=HYPERLINK(\"x\")");
    let csv = report_rows(&report(&[input]));
    assert_eq!(csv[0][0], "'=HYPERLINK(\"x\")");
    let ts = report_rows(&report(&["--format", "timesketch", input]));
    assert_eq!(
        ts[0][4], "'=HYPERLINK(\"x\")",
        "timesketch follows the CSV rule"
    );
    let raw = report_rows(&report(&["--format", "timesketch", "--raw-cells", input]));
    assert_eq!(raw[0][4], "=HYPERLINK(\"x\")");
}

// ---- order and provenance ----

#[test]
fn newest_first_reverses_the_report() {
    let args = ["--include-folder-bind", "--logon-types", "all", BASIC];
    let oldest = report_rows(&report(&args));
    let mut newest_args = vec!["--newest-first"];
    newest_args.extend_from_slice(&args);
    let mut newest = report_rows(&report(&newest_args));
    newest.reverse();
    assert_eq!(newest, oldest);
}

#[test]
fn source_file_and_line_point_at_the_record() {
    let inputs = [
        "testdata/legacy/rps_overlap_a.csv",
        "testdata/legacy/rps_overlap_b.csv",
    ];
    let mut args = vec!["--format", "jsonl", "--columns", "full"];
    args.extend_from_slice(&inputs);
    let objects = jsonl_objects(&report(&args));
    assert!(!objects.is_empty());
    let mut files = std::collections::BTreeSet::new();
    for o in &objects {
        let file = o["SourceFile"].as_str().expect("SourceFile");
        let line = o["SourceLine"].as_u64().expect("SourceLine") as usize;
        files.insert(file.to_string());
        let text = std::fs::read_to_string(file).expect("read source");
        let identity = o["Identity"].as_str().expect("Identity");
        // The record starts on that line (a quoted field may span the next few).
        let at = text
            .lines()
            .position(|l| l.contains(identity))
            .expect("identity in the source")
            + 1;
        assert!(
            (line..line + 3).contains(&at),
            "{file}:{line} starts the record of {identity} (found on line {at})"
        );
    }
    assert_eq!(files.len(), 2, "rows from both inputs");
}

#[test]
fn default_file_names_follow_the_format() {
    let dir = tempdir();
    let input = testdata("legacy/basic_en-US.csv");
    let input = input.to_str().expect("utf-8");
    for (format, ext) in [
        ("jsonl", ".jsonl"),
        ("json", ".json"),
        ("timesketch", ".timesketch.csv"),
    ] {
        mbxaudit_in(
            dir.path(),
            &["search", "-q", "--format", format, input],
            None,
        )
        .expect_code(0);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("AuditLogResults") && n.ends_with(ext)),
            "{format}: {names:?}"
        );
        for n in names {
            std::fs::remove_file(dir.path().join(n)).expect("clean");
        }
    }
    // A table goes to the terminal unless told otherwise.
    let run = mbxaudit_in(
        dir.path(),
        &["search", "-q", "--format", "table", input],
        None,
    );
    run.expect_code(0);
    assert!(run.stdout.starts_with(b"Subject "));
    assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
}

// ---- completions and manual ----

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = mbxaudit(&["completions", shell]);
        run.expect_code(0);
        let text = String::from_utf8_lossy(&run.stdout);
        assert!(text.len() > 500, "{shell}: {text}");
        assert!(
            text.contains("summary") && text.contains("newest-first"),
            "{shell}"
        );
    }
    mbxaudit(&["completions", "tcsh"]).expect_code(2);
}

#[test]
fn manual_pages() {
    let run = mbxaudit(&["man"]);
    run.expect_code(0);
    let page = String::from_utf8_lossy(&run.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH mbxaudit"),
        "{page}"
    );
    assert!(page.contains("summary"));
    let run = mbxaudit(&["man", "summary"]);
    run.expect_code(0);
    let page = String::from_utf8_lossy(&run.stdout);
    assert!(page.contains(".TH mbxaudit-summary"), "{page}");
    assert!(page.contains("merge"));
    mbxaudit(&["man", "nope"])
        .expect_code(2)
        .expect_stderr("no subcommand 'nope'");
}
