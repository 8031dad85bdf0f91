//! Issue 13: Excel workbooks and Parquet, read back with real readers (calamine for XLSX,
//! the parquet crate for Parquet) and compared cell by cell with the CSV report
//! (`--raw-cells`), the JSON summary and the JSON findings; goldens of small workbooks'
//! cells (not bytes); a report longer than an Excel sheet; cells longer than an Excel
//! cell; the same bytes from the same inputs.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use arrow_array::{Array, Int64Array, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, TimeUnit};
use calamine::{open_workbook, Data, Reader, Xlsx};
use mbxaudit::datetime::{parse_time, ParsedTime};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

use crate::util::*;

/// Every kind of input, with every record kept.
const ALL_INPUTS: [&str; 4] = [
    "testdata/legacy",
    "testdata/ual",
    "testdata/json",
    "testdata/triage",
];
const KEEP_ALL: [&str; 5] = [
    "--record-types",
    "all",
    "--logon-types",
    "all",
    "--include-folder-bind",
];

// ---------------------------------------------------------------------------------------
// Reading back
// ---------------------------------------------------------------------------------------

/// A cell as read back.
#[derive(Clone, Debug, PartialEq)]
enum V {
    Empty,
    Text(String),
    Num(f64),
    /// A date-time cell: nanoseconds since the epoch (UTC).
    Time(i64),
}

/// Undoes the `_xHHHH_` escapes of control characters, as Excel does on reading
/// (calamine leaves them).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("_x") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let code = tail
            .get(2..6)
            .filter(|_| tail.as_bytes().get(6) == Some(&b'_'))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32);
        match code {
            Some(c) => {
                out.push(c);
                rest = &tail[7..];
            }
            None => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Nanoseconds since the epoch of an Excel serial date.
fn serial_nanos(serial: f64) -> i64 {
    const DAY: i64 = 86_400_000_000_000;
    let days = serial.floor();
    (days as i64 - 25_569) * DAY + ((serial - days) * DAY as f64).round() as i64
}

fn value(d: &Data) -> V {
    match d {
        Data::Empty => V::Empty,
        Data::String(s) => V::Text(unescape(s)),
        Data::Float(f) => V::Num(*f),
        Data::Int(i) => V::Num(*i as f64),
        Data::DateTime(t) if t.is_datetime() => V::Time(serial_nanos(t.as_f64())),
        other => panic!("unexpected cell {other:?}"),
    }
}

/// Every sheet of a workbook, in order, as rows of values.
fn read_book(path: &Path) -> Vec<(String, Vec<Vec<V>>)> {
    let mut book: Xlsx<_> = open_workbook(path).expect("calamine opens the workbook");
    let names = book.sheet_names();
    names
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).expect("sheet");
            assert_eq!(range.start(), Some((0, 0)), "{name}: starts at A1");
            let rows = range
                .rows()
                .map(|r| r.iter().map(value).collect())
                .collect();
            (name, rows)
        })
        .collect()
}

fn sheet<'a>(book: &'a [(String, Vec<Vec<V>>)], name: &str) -> &'a [Vec<V>] {
    &book
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no sheet {name}"))
        .1
}

/// The XML of sheet number `n` (from 1).
fn sheet_xml(path: &Path, n: usize) -> String {
    let file = std::fs::File::open(path).expect("open");
    let mut zip = zip::ZipArchive::new(file).expect("zip");
    let mut xml = String::new();
    zip.by_name(&format!("xl/worksheets/sheet{n}.xml"))
        .expect("sheet xml")
        .read_to_string(&mut xml)
        .expect("read xml");
    xml
}

/// Column letters of column `i` (from 0).
fn letters(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ascii")
}

/// Sheet `n` has its header frozen (pane at A2) and an autofilter over `columns`
/// columns and `rows` data rows.
fn assert_table_shape(path: &Path, n: usize, columns: usize, rows: usize) {
    let xml = sheet_xml(path, n);
    assert!(
        xml.contains(
            r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
        ),
        "sheet {n}: header not frozen at A2"
    );
    let filter = format!(
        r#"<autoFilter ref="A1:{}{}"/>"#,
        letters(columns - 1),
        rows + 1
    );
    assert!(xml.contains(&filter), "sheet {n}: no {filter}");
}

/// `v` is a date-time cell holding the instant `iso`, to Excel's precision (a time is a
/// day fraction in a double: ~1 µs at today's dates).
fn assert_instant(v: &V, iso: &str) {
    let V::Time(ns) = v else {
        panic!("{v:?} is not a date-time ({iso})")
    };
    let diff = (ns - nanos_of_iso(iso)).abs();
    assert!(diff <= 1_000, "{v:?} is not {iso} ({diff} ns off)");
}

fn nanos_of_iso(s: &str) -> i64 {
    match parse_time(s.as_bytes()) {
        Ok(ParsedTime::Utc(t)) => t.0,
        other => panic!("'{s}' is not an ISO time: {other:?}"),
    }
}

/// Runs mbxaudit in `dir` with fixture paths made absolute; returns the run.
fn run(dir: &Path, args: &[&str]) -> Run {
    let full: Vec<String> = args
        .iter()
        .map(|a| {
            if a.starts_with("testdata") {
                root().join(a).to_string_lossy().into_owned()
            } else {
                a.to_string()
            }
        })
        .collect();
    let refs: Vec<&str> = full.iter().map(String::as_str).collect();
    mbxaudit_in(dir, &refs, None)
}

/// The CSV report (`--raw-cells`) of `args`: header and rows.
fn raw_csv(dir: &Path, args: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut full = vec!["search", "--raw-cells", "-o", "raw.csv"];
    full.extend(args);
    let code = run(dir, &full).code;
    assert!(code <= 1, "csv run failed");
    let bytes = std::fs::read(dir.join("raw.csv")).expect("csv report");
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut r = csv::ReaderBuilder::new().from_reader(text);
    let header = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    (header, report_rows(&bytes))
}

// ---------------------------------------------------------------------------------------
// search --format xlsx
// ---------------------------------------------------------------------------------------

/// The Report sheet equals the `--raw-cells` CSV report cell by cell: same header (then
/// CellsCut), text equal, LastAccessed the same instant, SourceLine the same number.
fn assert_report_equals_csv(report: &[Vec<V>], header: &[String], rows: &[Vec<String>]) {
    let mut expected_header: Vec<V> = header.iter().map(|h| V::Text(h.clone())).collect();
    expected_header.push(V::Text("CellsCut".into()));
    assert_eq!(report[0], expected_header);
    assert_eq!(report.len() - 1, rows.len(), "rows");
    for (i, (got, want)) in report[1..].iter().zip(rows).enumerate() {
        for (j, name) in header.iter().enumerate() {
            let cell = &got[j];
            let text = &want[j];
            match name.as_str() {
                "LastAccessed" => assert_instant(cell, text),
                "SourceLine" => assert_eq!(*cell, V::Num(text.parse().expect("line")), "row {i}"),
                _ if text.is_empty() => assert_eq!(*cell, V::Empty, "row {i} {name}"),
                _ => assert_eq!(*cell, V::Text(text.clone()), "row {i} {name}"),
            }
        }
        assert_eq!(got[header.len()], V::Empty, "row {i}: nothing cut");
    }
}

#[test]
fn xlsx_report_equals_raw_csv_report() {
    for columns in ["script", "full"] {
        for input in ALL_INPUTS {
            let dir = tempdir();
            let mut args = vec!["--columns", columns];
            args.extend(KEEP_ALL);
            args.push(input);
            let (header, rows) = raw_csv(dir.path(), &args);
            assert!(!rows.is_empty(), "{input}: no rows");
            let mut x = vec!["search", "--format", "xlsx", "-o", "r.xlsx"];
            x.extend(&args);
            assert!(run(dir.path(), &x).code <= 1);
            let path = dir.path().join("r.xlsx");
            let book = read_book(&path);
            assert_eq!(book.len(), 1, "one sheet");
            assert_eq!(book[0].0, "Report");
            assert_report_equals_csv(&book[0].1, &header, &rows);
            assert_table_shape(&path, 1, header.len() + 1, rows.len());
        }
    }
}

#[test]
fn xlsx_formula_like_cells_are_text_and_unprefixed() {
    let dir = tempdir();
    let export = export(3, true, |i| {
        ["=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)"][i].to_string()
    });
    std::fs::write(dir.path().join("in.csv"), export).expect("write");
    let run = run(
        dir.path(),
        &["search", "--format", "xlsx", "-o", "r.xlsx", "in.csv"],
    );
    run.expect_code(0);
    assert!(!run.stderr.contains("prefixed"), "{}", run.stderr);
    let book = read_book(&dir.path().join("r.xlsx"));
    let subjects: Vec<&V> = book[0].1[1..].iter().map(|r| &r[0]).collect();
    assert_eq!(
        subjects,
        [
            &V::Text("=HYPERLINK(\"http://x\")".into()),
            &V::Text("+1".into()),
            &V::Text("@SUM(A1)".into())
        ]
    );
    let xml = sheet_xml(&dir.path().join("r.xlsx"), 1);
    assert!(!xml.contains("<f>"), "no formula in the sheet");
}

#[test]
fn xlsx_cells_over_excel_limit_are_cut_flagged_and_counted() {
    let dir = tempdir();
    let long = "é".repeat(40_000);
    let export = export(3, true, |i| {
        if i == 1 {
            long.clone()
        } else {
            format!("s{i}")
        }
    });
    std::fs::write(dir.path().join("in.csv"), export).expect("write");
    let r = run(
        dir.path(),
        &["search", "--format", "xlsx", "-o", "r.xlsx", "in.csv"],
    );
    r.expect_code(0).expect_stderr(
        "warning: 1 cell longer than Excel's 32767 characters cut to fit; the rows name them \
         in column CellsCut",
    );
    let book = read_book(&dir.path().join("r.xlsx"));
    let rows = &book[0].1;
    let flag = rows[0].len() - 1;
    assert_eq!(rows[2][0], V::Text("é".repeat(32_767)));
    assert_eq!(
        rows[2][flag],
        V::Text("Subject: 40000 characters, cut to 32767".into())
    );
    assert_eq!(rows[1][flag], V::Empty);
    // Parquet keeps it whole.
    run(
        dir.path(),
        &["search", "--format", "parquet", "-o", "r.parquet", "in.csv"],
    )
    .expect_code(0);
    let (_, columns) = read_parquet(&dir.path().join("r.parquet"));
    assert_eq!(columns[0].1[1], PValue::Text(long));
}

/// A report of more rows than an Excel sheet holds continues on `Report (2)`, and the run
/// says so; the same report as Parquet is cut into row groups of 128k rows.
#[test]
fn xlsx_report_past_a_sheet_continues_on_the_next() {
    const ROWS: usize = 1_048_575 + 5;
    let dir = tempdir();
    let input = dir.path().join("big.csv");
    std::fs::write(&input, export(ROWS, false, |i| format!("s{i}"))).expect("write");
    let r = run(
        dir.path(),
        &["search", "--format", "xlsx", "-o", "r.xlsx", "big.csv"],
    );
    r.expect_code(0).expect_stderr(
        "warning: 1048580 rows in 'Report', more than one Excel sheet holds (1048575 below \
         the header): they continue on 'Report (2)'.",
    );
    let path = dir.path().join("r.xlsx");
    let mut book: Xlsx<_> = open_workbook(&path).expect("open");
    assert_eq!(book.sheet_names(), ["Report", "Report (2)"]);
    // The first sheet is full (read from its dimension, not cell by cell).
    let dims = book
        .worksheet_cells_reader("Report")
        .expect("cells reader")
        .dimensions();
    assert_eq!((dims.start, dims.end), ((0, 0), (1_048_575, 15)));
    let second = book.worksheet_range("Report (2)").expect("sheet 2");
    let rows: Vec<Vec<V>> = second
        .rows()
        .map(|r| r.iter().map(value).collect())
        .collect();
    assert_eq!(rows[0][0], V::Text("Subject".into()), "header repeated");
    let subjects: Vec<V> = rows[1..].iter().map(|r| r[0].clone()).collect();
    let want: Vec<V> = (1_048_575..ROWS)
        .map(|i| V::Text(format!("s{i}")))
        .collect();
    assert_eq!(subjects, want);
    assert_table_shape(&path, 2, 16, 5);

    run(
        dir.path(),
        &[
            "search",
            "--format",
            "parquet",
            "-o",
            "r.parquet",
            "big.csv",
        ],
    )
    .expect_code(0);
    let file = std::fs::File::open(dir.path().join("r.parquet")).expect("open");
    let meta = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .metadata()
        .clone();
    let groups: Vec<i64> = meta.row_groups().iter().map(|g| g.num_rows()).collect();
    assert_eq!(
        groups,
        [131_072, 131_072, 131_072, 131_072, 131_072, 131_072, 131_072, 131_072, 4]
    );
}

// ---------------------------------------------------------------------------------------
// search --format parquet
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum PValue {
    Text(String),
    Micros(i64),
    Int(i64),
}

/// The file's columns: name, Arrow type, values.
fn read_parquet(path: &Path) -> (Vec<DataType>, Vec<(String, Vec<PValue>)>) {
    let file = std::fs::File::open(path).expect("open parquet");
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet reader");
    let schema = builder.schema().clone();
    let mut columns: Vec<(String, Vec<PValue>)> = schema
        .fields()
        .iter()
        .map(|f| {
            assert!(!f.is_nullable(), "{} is required", f.name());
            (f.name().clone(), Vec::new())
        })
        .collect();
    for batch in builder.build().expect("reader") {
        let batch = batch.expect("batch");
        for (j, col) in batch.columns().iter().enumerate() {
            let any = col.as_any();
            let values = &mut columns[j].1;
            if let Some(a) = any.downcast_ref::<StringArray>() {
                values.extend((0..a.len()).map(|i| PValue::Text(a.value(i).to_string())));
            } else if let Some(a) = any.downcast_ref::<TimestampMicrosecondArray>() {
                values.extend((0..a.len()).map(|i| PValue::Micros(a.value(i))));
            } else if let Some(a) = any.downcast_ref::<Int64Array>() {
                values.extend((0..a.len()).map(|i| PValue::Int(a.value(i))));
            } else {
                panic!("unexpected column type {:?}", col.data_type());
            }
        }
    }
    let types = schema
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    (types, columns)
}

#[test]
fn parquet_equals_full_csv_report() {
    for input in ALL_INPUTS {
        let dir = tempdir();
        let mut args = vec!["--columns", "full"];
        args.extend(KEEP_ALL);
        args.push(input);
        let (header, rows) = raw_csv(dir.path(), &args);
        let mut p = vec!["search", "--format", "parquet", "-o", "r.parquet"];
        p.extend(&args);
        assert!(run(dir.path(), &p).code <= 1);
        let (types, columns) = read_parquet(&dir.path().join("r.parquet"));
        let names: Vec<&String> = columns.iter().map(|c| &c.0).collect();
        assert_eq!(names, header.iter().collect::<Vec<_>>());
        for (j, name) in header.iter().enumerate() {
            let want_type = match name.as_str() {
                "LastAccessed" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                "SourceLine" => DataType::Int64,
                _ => DataType::Utf8,
            };
            assert_eq!(types[j], want_type, "{name}");
            let values = &columns[j].1;
            assert_eq!(values.len(), rows.len(), "{input}: rows");
            for (i, row) in rows.iter().enumerate() {
                let want = match name.as_str() {
                    "LastAccessed" => PValue::Micros(nanos_of_iso(&row[j]).div_euclid(1_000)),
                    "SourceLine" => PValue::Int(row[j].parse().expect("line")),
                    _ => PValue::Text(row[j].clone()),
                };
                assert_eq!(values[i], want, "{input}: row {i} {name}");
            }
        }
    }
}

/// Standard output gets the same bytes as a file; the same run gives the same file.
#[test]
fn binary_reports_are_the_same_bytes_to_stdout_and_every_run() {
    for format in ["xlsx", "parquet"] {
        let dir = tempdir();
        let args = |out: &'static str| {
            vec![
                "search",
                "--format",
                format,
                "-o",
                out,
                "--columns",
                "full",
                "testdata/ual",
            ]
        };
        run(dir.path(), &args("a")).expect_code(0);
        let mut j1 = args("b");
        j1.extend(["-j", "1"]);
        run(dir.path(), &j1).expect_code(0);
        let piped = run(
            dir.path(),
            &[
                "search",
                "--format",
                format,
                "--stdout",
                "--columns",
                "full",
                "testdata/ual",
            ],
        );
        piped.expect_code(0);
        let a = std::fs::read(dir.path().join("a")).expect("a");
        assert_eq!(
            a,
            std::fs::read(dir.path().join("b")).expect("b"),
            "{format}: runs differ"
        );
        assert_eq!(a, piped.stdout, "{format}: stdout differs");
    }
}

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
    let styles = {
        let file = std::fs::File::open(&path).expect("open");
        let mut zip = zip::ZipArchive::new(file).expect("zip");
        let mut xml = String::new();
        zip.by_name("xl/styles.xml")
            .expect("styles")
            .read_to_string(&mut xml)
            .expect("read");
        xml
    };
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
