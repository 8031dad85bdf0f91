//! Issue 13: `search --format xlsx|parquet`, read back with real readers (calamine for
//! XLSX, the parquet crate for Parquet) and compared cell by cell with the CSV report
//! (`--raw-cells`); a report longer than an Excel sheet; cells longer than an Excel cell;
//! the same bytes from the same inputs. The reading helpers serve
//! [`crate::workbook_reports`] too (summary, findings and report workbooks).

use std::io::Read;
use std::path::Path;

use calamine::{open_workbook, Data, Reader, Xlsx};
use mbxaudit::datetime::{parse_time, ParsedTime};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field as PField;

use crate::util::*;

/// Every kind of input, with every record kept.
pub(crate) const ALL_INPUTS: [&str; 4] = [
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
pub(crate) enum V {
    Empty,
    Text(String),
    Num(f64),
    /// A date-time cell: nanoseconds since the epoch (UTC).
    Time(i64),
}

/// Undoes the `_xHHHH_` escapes of control characters, as Excel does on reading
/// (calamine leaves them).
pub(crate) fn unescape(s: &str) -> String {
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
pub(crate) fn serial_nanos(serial: f64) -> i64 {
    const DAY: i64 = 86_400_000_000_000;
    let days = serial.floor();
    (days as i64 - 25_569) * DAY + ((serial - days) * DAY as f64).round() as i64
}

pub(crate) fn value(d: &Data) -> V {
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
pub(crate) fn read_book(path: &Path) -> Vec<(String, Vec<Vec<V>>)> {
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

pub(crate) fn sheet<'a>(book: &'a [(String, Vec<Vec<V>>)], name: &str) -> &'a [Vec<V>] {
    &book
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no sheet {name}"))
        .1
}

/// The text of the entry `name` of a workbook's zip container.
pub(crate) fn zip_entry(path: &Path, name: &str) -> String {
    let file = std::fs::File::open(path).expect("open");
    let mut zip = zip::ZipArchive::new(file).expect("zip");
    let mut xml = String::new();
    zip.by_name(name)
        .expect("zip entry")
        .read_to_string(&mut xml)
        .expect("read entry");
    xml
}

/// The XML of sheet number `n` (from 1).
pub(crate) fn sheet_xml(path: &Path, n: usize) -> String {
    zip_entry(path, &format!("xl/worksheets/sheet{n}.xml"))
}

/// Column letters of column `i` (from 0).
pub(crate) fn letters(mut i: usize) -> String {
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
pub(crate) fn assert_table_shape(path: &Path, n: usize, columns: usize, rows: usize) {
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
pub(crate) fn assert_instant(v: &V, iso: &str) {
    let V::Time(ns) = v else {
        panic!("{v:?} is not a date-time ({iso})")
    };
    let diff = (ns - nanos_of_iso(iso)).abs();
    assert!(diff <= 1_000, "{v:?} is not {iso} ({diff} ns off)");
}

pub(crate) fn nanos_of_iso(s: &str) -> i64 {
    match parse_time(s.as_bytes()) {
        Ok(ParsedTime::Utc(t)) => t.0,
        other => panic!("'{s}' is not an ISO time: {other:?}"),
    }
}

/// Runs mbxaudit in `dir` with fixture paths made absolute; returns the run.
pub(crate) fn run(dir: &Path, args: &[&str]) -> Run {
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
pub(crate) fn raw_csv(dir: &Path, args: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
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
pub(crate) fn assert_report_equals_csv(report: &[Vec<V>], header: &[String], rows: &[Vec<String>]) {
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
    let reader = SerializedFileReader::new(file).expect("parquet");
    let groups: Vec<i64> = reader
        .metadata()
        .row_groups()
        .iter()
        .map(|g| g.num_rows())
        .collect();
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

/// The file's columns: name, type (physical, logical, repetition, as the parquet crate
/// says them), values.
fn read_parquet(path: &Path) -> (Vec<String>, Vec<(String, Vec<PValue>)>) {
    let file = std::fs::File::open(path).expect("open parquet");
    let reader = SerializedFileReader::new(file).expect("parquet reader");
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let types: Vec<String> = schema
        .columns()
        .iter()
        .map(|c| {
            format!(
                "{:?} {:?} {:?}",
                c.physical_type(),
                c.logical_type_ref(),
                c.self_type().get_basic_info().repetition()
            )
        })
        .collect();
    let mut columns: Vec<(String, Vec<PValue>)> = schema
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), Vec::new()))
        .collect();
    for row in reader.get_row_iter(None).expect("rows") {
        let row = row.expect("row");
        for (j, (_, field)) in row.get_column_iter().enumerate() {
            columns[j].1.push(match field {
                PField::Str(s) => PValue::Text(s.clone()),
                PField::TimestampMicros(t) => PValue::Micros(*t),
                PField::Long(n) => PValue::Int(*n),
                other => panic!("unexpected value {other:?}"),
            });
        }
    }
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
                "LastAccessed" => {
                    "INT64 Some(Timestamp(TimestampType { is_adjusted_to_u_t_c: true, unit: MICROS })) REQUIRED"
                }
                "SourceLine" => "INT64 None REQUIRED",
                _ => "BYTE_ARRAY Some(String) REQUIRED",
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
