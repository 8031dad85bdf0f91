//! Issue 13: `summary --format xlsx`, `triage --format xlsx` and `report --xlsx`, read back
//! with calamine and compared with the JSON summary, the JSON findings and the search
//! report; goldens of small workbooks' cells (not bytes).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::util::*;
use crate::workbooks::*;

// ---------------------------------------------------------------------------------------
// summary --format xlsx
// ---------------------------------------------------------------------------------------

fn text(v: &V) -> &str {
    match v {
        V::Text(s) => s,
        other => panic!("{other:?} is not text"),
    }
}

fn num(v: &V) -> f64 {
    match v {
        V::Num(n) => *n,
        other => panic!("{other:?} is not a number"),
    }
}

fn time(v: &V) -> i64 {
    match v {
        V::Time(t) => *t,
        other => panic!("{other:?} is not a date-time"),
    }
}

/// A JSON summary's key as the tables show it.
fn label(k: &str) -> &str {
    if k.is_empty() {
        "(none)"
    } else {
        k
    }
}

/// A group table (Operations, Logon types) equals the JSON's groups.
fn assert_groups(rows: &[Vec<V>], groups: &Value, records: f64) {
    let groups = groups.as_object().expect("groups");
    assert_eq!(rows.len() - 1, groups.len());
    for row in &rows[1..] {
        let (key, g) = groups
            .iter()
            .find(|(k, _)| label(k) == text(&row[0]))
            .expect("group in JSON");
        let count = g["count"].as_f64().expect("count");
        assert_eq!(num(&row[1]), count, "{key}");
        assert!(
            (num(&row[2]) - count / records).abs() < 0.0005,
            "{key}: share"
        );
        assert_instant(&row[3], g["first"].as_str().expect("first"));
        assert_instant(&row[4], g["last"].as_str().expect("last"));
        for (col, set) in [(5, "users"), (6, "mailboxes"), (7, "client_ips")] {
            let n = g[set].as_array().expect("set").len() as f64;
            assert_eq!(num(&row[col]), n, "{key}: {set}");
        }
    }
}

/// A top table equals the JSON's counts (all of them: --top 0).
fn assert_top(rows: &[Vec<V>], map: &Value) {
    let map = map.as_object().expect("map");
    assert_eq!(rows.len() - 1, map.len());
    for row in &rows[1..] {
        let (_, n) = map
            .iter()
            .find(|(k, _)| label(k) == text(&row[0]))
            .expect("value in JSON");
        assert_eq!(num(&row[1]), n.as_f64().expect("count"));
    }
}

#[test]
fn summary_workbook_equals_json_summary() {
    for input in [
        "testdata/legacy/basic_en-US.csv",
        "testdata/ual",
        "testdata/triage",
    ] {
        let dir = tempdir();
        run(
            dir.path(),
            &["summary", "--format", "json", "-o", "s.json", input],
        );
        let r = run(
            dir.path(),
            &[
                "summary", "--format", "xlsx", "--top", "0", "-o", "s.xlsx", input,
            ],
        );
        assert!(r.code <= 1, "{}", r.stderr);
        let json: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("s.json")).expect("json"))
                .expect("json");
        let book = read_book(&dir.path().join("s.xlsx"));
        let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "Summary",
                "Operations",
                "Logon types",
                "Top users",
                "Top mailboxes",
                "Top client IPs",
                "Top client apps",
                "Activity per day"
            ]
        );
        let records = json["records"].as_f64().expect("records");
        let items: Vec<(&str, &V)> = sheet(&book, "Summary")[1..]
            .iter()
            .map(|r| (text(&r[0]), &r[1]))
            .collect();
        let one = |name: &str| items.iter().find(|(n, _)| *n == name).expect(name).1;
        assert_eq!(num(one("Records")), records);
        assert_eq!(
            num(one("Rows read")),
            json["funnel"]["read"].as_f64().expect("read")
        );
        assert_eq!(
            num(one("Duplicates")),
            json["funnel"]["duplicates"].as_f64().expect("dups")
        );
        let inputs: Vec<&str> = items
            .iter()
            .filter(|(n, _)| *n == "Input")
            .map(|(_, v)| text(v))
            .collect();
        let json_inputs: Vec<&str> = json["inputs"]
            .as_array()
            .expect("inputs")
            .iter()
            .map(|v| v.as_str().expect("input"))
            .collect();
        assert_eq!(inputs, json_inputs);
        let rules: Vec<&str> = items
            .iter()
            .filter(|(n, _)| *n == "Rule")
            .map(|(_, v)| text(v))
            .collect();
        let json_rules: Vec<&str> = json["filters"]
            .as_array()
            .expect("filters")
            .iter()
            .map(|v| v.as_str().expect("rule"))
            .collect();
        assert_eq!(rules, json_rules);
        assert_groups(sheet(&book, "Operations"), &json["operations"], records);
        assert_groups(sheet(&book, "Logon types"), &json["logon_types"], records);
        assert_top(sheet(&book, "Top users"), &json["users"]);
        assert_top(sheet(&book, "Top mailboxes"), &json["mailboxes"]);
        assert_top(sheet(&book, "Top client IPs"), &json["client_ips"]);
        assert_top(sheet(&book, "Top client apps"), &json["client_apps"]);
        // Activity: per day and operation, the sum of the JSON's hours.
        let activity = sheet(&book, "Activity per day");
        let mut want: BTreeMap<(String, String), f64> = BTreeMap::new();
        for (op, hours) in json["activity"].as_object().expect("activity") {
            for (hour, n) in hours.as_object().expect("hours") {
                *want
                    .entry((hour[..10].to_string(), label(op).to_string()))
                    .or_default() += n.as_f64().expect("n");
            }
        }
        let mut got: BTreeMap<(String, String), f64> = BTreeMap::new();
        for row in &activity[1..] {
            let day = time(&row[0]);
            let iso = mbxaudit::datetime::Timestamp(day).to_iso();
            for (col, head) in activity[0].iter().enumerate().skip(2) {
                if num(&row[col]) > 0.0 {
                    got.insert(
                        (iso[..10].to_string(), text(head).to_string()),
                        num(&row[col]),
                    );
                }
            }
            let total: f64 = row[2..].iter().map(num).sum();
            assert_eq!(num(&row[1]), total, "total of {iso}");
        }
        assert_eq!(got, want, "{input}: activity");
    }
}

// ---------------------------------------------------------------------------------------
// triage --format xlsx, report --xlsx
// ---------------------------------------------------------------------------------------

/// The Findings and Evidence sheets equal the JSON findings; the Evidence rows' report
/// columns equal the search report's rows of the same places.
fn assert_findings_equal_json(
    book: &[(String, Vec<Vec<V>>)],
    json: &Value,
    csv: &(Vec<String>, Vec<Vec<String>>),
) {
    let findings = json["findings"].as_array().expect("findings");
    let sheet_rows = sheet(book, "Findings");
    assert_eq!(sheet_rows.len() - 1, findings.len());
    let mut evidence = Vec::new();
    for (i, (row, f)) in sheet_rows[1..].iter().zip(findings).enumerate() {
        let s = |k: &str| f[k].as_str().expect(k).to_string();
        assert_eq!(num(&row[0]), (i + 1) as f64);
        for (col, key) in [
            (1, "severity"),
            (2, "rule"),
            (3, "title"),
            (4, "why"),
            (7, "actor"),
            (8, "mailbox"),
        ] {
            let want = s(key);
            if want.is_empty() {
                assert_eq!(row[col], V::Empty);
            } else {
                assert_eq!(text(&row[col]), want, "finding {i}: {key}");
            }
        }
        assert_instant(&row[5], &s("first"));
        assert_instant(&row[6], &s("last"));
        assert_eq!(num(&row[9]), f["records"].as_f64().expect("records"));
        let places: Vec<&str> = f["evidence"]
            .as_array()
            .expect("evidence")
            .iter()
            .map(|p| p.as_str().expect("place"))
            .collect();
        assert_eq!(text(&row[10]), places.join(" "));
        for p in places {
            evidence.push((i + 1, s("severity"), s("rule"), p.to_string()));
        }
    }
    let (header, rows) = csv;
    let by_place: BTreeMap<String, &Vec<String>> = rows
        .iter()
        .map(|r| {
            (
                format!("{}:{}", r[header.len() - 2], r[header.len() - 1]),
                r,
            )
        })
        .collect();
    let sheet_rows = sheet(book, "Evidence");
    assert_eq!(sheet_rows.len() - 1, evidence.len());
    for (row, (n, sev, rule, place)) in sheet_rows[1..].iter().zip(&evidence) {
        assert_eq!(num(&row[0]), *n as f64);
        assert_eq!(
            (text(&row[1]), text(&row[2]), text(&row[3])),
            (sev.as_str(), rule.as_str(), place.as_str())
        );
        let report = by_place
            .get(place)
            .unwrap_or_else(|| panic!("{place} not in the report"));
        let mut want_header: Vec<String> = header[..15].to_vec();
        want_header.push("CellsCut".into());
        let got: Vec<Vec<V>> = vec![sheet_rows[0][4..].to_vec(), row[4..].to_vec()];
        assert_report_equals_csv(&got, &want_header[..15], &[report[..15].to_vec()]);
    }
}

/// The search report of the rows triage reads (admin records, FolderBind kept).
fn triage_rows_csv(dir: &Path, inputs: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut args = vec![
        "--columns",
        "full",
        "--record-types",
        "admin",
        "--include-folder-bind",
    ];
    args.extend(inputs);
    raw_csv(dir, &args)
}

#[test]
fn findings_workbook_equals_json_findings() {
    let dir = tempdir();
    run(
        dir.path(),
        &[
            "triage",
            "--format",
            "json",
            "-o",
            "t.json",
            "testdata/triage",
        ],
    )
    .expect_code(0);
    run(
        dir.path(),
        &[
            "triage",
            "--format",
            "xlsx",
            "-o",
            "t.xlsx",
            "testdata/triage",
        ],
    )
    .expect_code(0);
    let json: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("t.json")).expect("json"))
            .expect("json");
    let path = dir.path().join("t.xlsx");
    let book = read_book(&path);
    assert_eq!(
        book.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["Findings", "Evidence"]
    );
    assert!(
        json["findings"].as_array().expect("findings").len() >= 10,
        "fixtures fire"
    );
    assert_findings_equal_json(
        &book,
        &json,
        &triage_rows_csv(dir.path(), &["testdata/triage"]),
    );
    let findings = sheet(&book, "Findings").len() - 1;
    assert_table_shape(&path, 1, 11, findings);
    // Severity cells are coloured (a fill per severity).
    let styles = zip_entry(&path, "xl/styles.xml");
    for rgb in ["FFC00000", "FFFFC000"] {
        assert!(styles.contains(rgb), "no fill {rgb}");
    }
    // Without -o a workbook is refused.
    run(
        dir.path(),
        &["triage", "--format", "xlsx", "testdata/triage"],
    )
    .expect_code(2)
    .expect_stderr("give a file with -o FILE");
}

#[test]
fn report_workbook_holds_findings_tables_and_timeline() {
    let dir = tempdir();
    let r = run(
        dir.path(),
        &[
            "report",
            "--xlsx",
            "r.xlsx",
            "--html",
            "r.html",
            "--by",
            "day",
            "testdata/triage",
        ],
    );
    r.expect_code(0);
    assert!(dir.path().join("r.html").exists(), "--html too");
    run(
        dir.path(),
        &[
            "report",
            "--xlsx",
            "again.xlsx",
            "--by",
            "day",
            "testdata/triage",
        ],
    )
    .expect_code(0);
    run(
        dir.path(),
        &[
            "triage",
            "--format",
            "json",
            "-o",
            "t.json",
            "testdata/triage",
        ],
    )
    .expect_code(0);
    let args = [
        "--record-types",
        "admin",
        "--include-folder-bind",
        "--top",
        "50",
        "--by",
        "day",
        "-o",
    ];
    let mut s = vec!["summary", "--format", "xlsx"];
    s.extend(args);
    s.extend(["s.xlsx", "testdata/triage"]);
    run(dir.path(), &s).expect_code(0);
    let bytes = std::fs::read(dir.path().join("r.xlsx")).expect("workbook");
    assert_eq!(
        bytes,
        std::fs::read(dir.path().join("again.xlsx")).expect("again"),
        "same bytes"
    );

    let book = read_book(&dir.path().join("r.xlsx"));
    let names: Vec<&str> = book.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Overview",
            "Findings",
            "Evidence",
            "Operations",
            "Logon types",
            "Top users",
            "Top mailboxes",
            "Top client IPs",
            "Top client apps",
            "Activity per day",
            "Inputs",
            "Timeline"
        ]
    );
    let json: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("t.json")).expect("json"))
            .expect("json");
    let csv = triage_rows_csv(dir.path(), &["testdata/triage"]);
    assert_findings_equal_json(&book, &json, &csv);
    // The summary tables are summary's.
    let summary = read_book(&dir.path().join("s.xlsx"));
    for name in &names[3..10] {
        assert_eq!(sheet(&book, name), sheet(&summary, name), "{name}");
    }
    // The timeline is the report's rows, oldest first, with the findings they prove.
    let timeline = sheet(&book, "Timeline");
    let (header, rows) = &csv;
    assert_eq!(timeline.len() - 1, rows.len());
    let mut cols: Vec<usize> = (0..15).collect();
    cols.extend([header.len() - 2, header.len() - 1]);
    let want_header: Vec<String> = cols.iter().map(|&c| header[c].clone()).collect();
    let picked: Vec<Vec<String>> = rows
        .iter()
        .map(|r| cols.iter().map(|&c| r[c].clone()).collect())
        .collect();
    let got: Vec<Vec<V>> = timeline.iter().map(|r| r[1..].to_vec()).collect();
    assert_report_equals_csv(&got, &want_header, &picked);
    let marked = timeline[1..].iter().filter(|r| r[0] != V::Empty).count();
    let overview = sheet(&book, "Overview");
    assert_eq!(
        overview[2],
        vec![
            V::Text("Records in the timeline".into()),
            V::Num(rows.len() as f64)
        ]
    );
    assert!(
        marked > 0 && marked < rows.len(),
        "evidence marked: {marked}"
    );
}

// ---------------------------------------------------------------------------------------
// Goldens: the cells of small workbooks
// ---------------------------------------------------------------------------------------

/// Every sheet's cells as text: `#` numbers (to 6 decimals), `@` date-times (ISO, to the
/// millisecond), text with its control characters shown.
fn dump(book: &[(String, Vec<Vec<V>>)]) -> String {
    let mut out = String::new();
    for (name, rows) in book {
        out.push_str(&format!("== {name}\n"));
        for row in rows {
            let cells: Vec<String> = row
                .iter()
                .map(|v| match v {
                    V::Empty => String::new(),
                    V::Text(s) => s.escape_debug().to_string(),
                    V::Num(n) => format!("#{}", (n * 1e6).round() / 1e6),
                    V::Time(t) => {
                        // To the millisecond, Excel's own precision.
                        let ms = (t + 500_000).div_euclid(1_000_000) * 1_000_000;
                        format!("@{}", mbxaudit::datetime::Timestamp(ms).to_iso())
                    }
                })
                .collect();
            out.push_str(cells.join("\t").trim_end());
            out.push('\n');
        }
    }
    out
}

fn golden_book(name: &str, args: &[&str], file: &str) {
    let dir = tempdir();
    run(dir.path(), args).expect_code(0);
    assert_golden(name, dump(&read_book(&dir.path().join(file))).as_bytes());
}

#[test]
fn golden_workbooks() {
    golden_book(
        "xlsx_basic_en-US.txt",
        &[
            "search",
            "--format",
            "xlsx",
            "-o",
            "r.xlsx",
            "testdata/legacy/basic_en-US.csv",
        ],
        "r.xlsx",
    );
    golden_book(
        "xlsx_summary_basic_en-US.txt",
        &[
            "summary",
            "--format",
            "xlsx",
            "-o",
            "s.xlsx",
            "testdata/legacy/basic_en-US.csv",
        ],
        "s.xlsx",
    );
    let story = [
        "testdata/triage/inbox_rule_fires.csv",
        "testdata/triage/forwarding_fires.jsonl",
        "testdata/triage/html_escape.csv",
    ];
    let mut t = vec!["triage", "--format", "xlsx", "-o", "t.xlsx"];
    t.extend(story);
    golden_book("xlsx_triage_story.txt", &t, "t.xlsx");
    let mut r = vec!["report", "--xlsx", "r.xlsx"];
    r.extend(story);
    golden_book("xlsx_report_story.txt", &r, "r.xlsx");
}
