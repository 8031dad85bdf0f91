//! Evidence-grade runs: the manifest and damaged input (output safety and interrupted runs
//! are in `output_safety.rs`).
//!
//! Damaged inputs are made here, in temporary directories, from the fixtures or from a
//! small generated export: every case is read next to a good export, whose rows must all
//! reach the report (the rest of the input is still processed), and nothing may panic.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::*;

// ---- helpers ----

/// The good export read beside every damaged one (events of its own, none of them
/// duplicates of the damaged files'): 7 rows in the default report.
const GOOD: &str = "ual/sua_mailbox.csv";
const GOOD_ROWS: usize = 7;

/// Searches the damaged `bytes` (written as `name` in a temporary directory) together with
/// the good export; returns the run, the report's rows and the directory.
fn search_damaged(name: &str, bytes: &[u8], extra: &[&str]) -> (Run, Vec<Vec<String>>) {
    let dir = tempdir();
    std::fs::write(dir.path().join(name), bytes).expect("write input");
    let good = testdata(GOOD);
    let mut args = vec!["search", "-o", "report.csv"];
    args.extend_from_slice(extra);
    args.push(name);
    args.push(good.to_str().expect("utf-8 path"));
    let run = mbxaudit_in(dir.path(), &args, None);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}; stderr:\n{}",
        run.code,
        run.stderr
    );
    let report = std::fs::read(dir.path().join("report.csv")).expect("a report");
    (run, report_rows(&report))
}

/// Rows of the report with a cell that contains `needle`.
fn count_from(rows: &[Vec<String>], needle: &str) -> usize {
    rows.iter()
        .filter(|r| r.iter().any(|c| c.contains(needle)))
        .count()
}

// ---- manifest ----

fn manifest_of(dir: &Path, name: &str) -> Value {
    let bytes = std::fs::read(dir.join(name)).expect("manifest written");
    assert!(bytes.ends_with(b"}\n"));
    serde_json::from_slice(&bytes).expect("manifest is JSON")
}

#[test]
fn manifest_records_inputs_report_and_funnel() {
    let dir = tempdir();
    let inputs = [
        "legacy/rps_overlap_a.csv",
        "legacy/semicolon_de-DE.csv",
        "legacy/not_an_export.csv",
        "ual/sua_mailbox.csv",
    ];
    let paths: Vec<String> = inputs
        .iter()
        .map(|i| testdata(i).to_string_lossy().into_owned())
        .collect();
    let mut args = vec![
        "search",
        "-o",
        "r.csv",
        "--manifest",
        "auto",
        "--tz",
        "+02:00",
    ];
    args.extend(paths.iter().map(String::as_str));
    let run = mbxaudit_in(dir.path(), &args, None);
    run.expect_code(1) // not_an_export.csv
        .expect_stderr("Manifest (inputs and report with SHA-256): r.csv.manifest.json");
    let m = manifest_of(dir.path(), "r.csv.manifest.json");
    let report = std::fs::read(dir.path().join("r.csv")).unwrap();

    assert_eq!(m["tool"]["name"], "mbxaudit");
    assert_eq!(m["tool"]["version"], env!("CARGO_PKG_VERSION"));
    // The binary that made the report, hashed as run (tests/build_info.rs: the rest).
    let exe = std::fs::read(env!("CARGO_BIN_EXE_mbxaudit")).unwrap();
    assert_eq!(
        m["tool"]["executable"]["sha256"],
        mbxaudit::hash::sha256_hex(&exe)
    );
    let cmd: Vec<&str> = m["run"]["command_line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(&cmd[1..], &args[..]);
    for key in ["started", "finished"] {
        let t = m["run"][key].as_str().unwrap();
        assert!(
            t.len() == 24 && t.ends_with('Z') && t.as_bytes()[10] == b'T',
            "{t}"
        );
    }
    assert!(m["run"]["started"].as_str() <= m["run"]["finished"].as_str());
    assert!(m["run"]["threads"].as_u64().unwrap() >= 1);
    assert_eq!(m["settings"]["time_zone"], "+02:00");

    assert_eq!(m["report"]["path"], "r.csv");
    assert_eq!(m["report"]["sha256"], mbxaudit::hash::sha256_hex(&report));
    assert_eq!(m["report"]["bytes"], report.len() as u64);
    assert_eq!(
        m["report"]["lines"],
        report_rows(&report).len() as u64,
        "one line per record"
    );

    let files = m["inputs"].as_array().unwrap();
    assert_eq!(files.len(), inputs.len());
    for (f, input) in files.iter().zip(&inputs) {
        let bytes = fixture(input);
        assert_eq!(f["path"], testdata(input).to_string_lossy().as_ref());
        assert_eq!(f["size"], bytes.len() as u64);
        assert_eq!(f["sha256"], mbxaudit::hash::sha256_hex(&bytes), "{input}");
        assert_eq!(f["origin"], "named");
    }
    let (a, de, bad, ual) = (&files[0], &files[1], &files[2], &files[3]);
    assert_eq!(a["status"], "read");
    assert_eq!(a["format"], "Search-MailboxAuditLog CSV");
    assert_eq!(a["encoding"], "UTF-8 (BOM)");
    assert_eq!(a["date_order"], "month/day/year");
    assert_eq!(a["date_order_chosen_by"], "proved by the dates");
    assert_eq!(a["time_zone"], "+02:00");
    assert_eq!(a["rows_read"], 21);
    assert_eq!(a["funnel"]["dropped"]["folder_bind"], 8);
    assert_eq!(de["date_order"], "day/month/year");
    assert_eq!(de["format"], "Search-MailboxAuditLog CSV (';' delimited)");
    assert!(de["funnel"]["duplicates"].as_u64().unwrap() > 0);
    assert_eq!(bad["status"], "rejected");
    assert!(bad["reason"]
        .as_str()
        .unwrap()
        .starts_with("not a mailbox audit export"));
    assert_eq!(ual["format"], "Unified Audit Log CSV");
    assert_eq!(ual["time_zone"], "UTC (CreationTime)");

    // The funnel adds up, per input and in total, and matches the report.
    let t = &m["totals"];
    let sum = |v: &Value| {
        v.as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum::<u64>()
    };
    let read: u64 = files.iter().map(|f| f["rows_read"].as_u64().unwrap()).sum();
    assert_eq!(t["read"], read);
    assert_eq!(
        t["read"].as_u64().unwrap(),
        t["written"].as_u64().unwrap()
            + sum(&t["dropped"])
            + t["duplicates"].as_u64().unwrap()
            + t["malformed"].as_u64().unwrap()
    );
    assert_eq!(t["written"], report_rows(&report).len() as u64);
    assert_eq!(m["report"]["records"], t["written"]);
}

/// Extra arguments and environment of one run.
type ThreadsAsked<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);

#[test]
fn reports_and_manifests_are_identical_at_any_thread_count() {
    let dir = tempdir();
    // Big enough to be cut into several chunks per file.
    std::fs::write(
        dir.path().join("big.csv"),
        export(60_000, true, |i| format!("subject {i}")),
    )
    .unwrap();
    let legacy = testdata("legacy").to_string_lossy().into_owned();
    let ual = testdata("ual/sua_mailbox.jsonl")
        .to_string_lossy()
        .into_owned();
    let runs: [ThreadsAsked; 4] = [
        (&["-j", "1"], &[]),
        (&["-j", "2"], &[]),
        (&[], &[("RAYON_NUM_THREADS", "1")]),
        (&[], &[("RAYON_NUM_THREADS", "2")]),
    ];
    let mut seen: Vec<(Vec<u8>, Value, Value)> = Vec::new();
    for (threads, env) in runs {
        let mut args = vec![
            "search",
            "-o",
            "r.csv",
            "--manifest",
            "auto",
            "--force",
            "--logon-types",
            "all",
        ];
        args.extend_from_slice(threads);
        args.extend(["big.csv", legacy.as_str(), ual.as_str()]);
        mbxaudit_env(dir.path(), &args, env).expect_code(1); // legacy/ holds bad files
        let report = std::fs::read(dir.path().join("r.csv")).unwrap();
        let mut m = manifest_of(dir.path(), "r.csv.manifest.json");
        let run = m.as_object_mut().unwrap().remove("run").unwrap();
        seen.push((report, m, run));
    }
    let (report, manifest, run) = &seen[0];
    assert!(report_rows(report).len() > 60_000);
    for (other_report, other_manifest, other_run) in &seen[1..] {
        assert!(report == other_report, "reports differ");
        assert_eq!(manifest, other_manifest, "manifests differ outside `run`");
        assert_eq!(run["working_directory"], other_run["working_directory"]);
    }
    // Within `run`: the threads as asked, and the times.
    let threads: Vec<u64> = seen
        .iter()
        .map(|s| s.2["threads"].as_u64().unwrap())
        .collect();
    assert_eq!(threads, [1, 2, 1, 2]);
    assert_eq!(seen[2].2["command_line"], seen[3].2["command_line"]);
    assert!(run["started"].is_string() && run["finished"].is_string());
}

#[test]
fn manifest_of_a_report_on_stdout_and_of_stdin() {
    let dir = tempdir();
    let input = fixture(GOOD);
    let run = mbxaudit_in(
        dir.path(),
        &["search", "--stdout", "--manifest", "m.json", "-"],
        Some(&input),
    );
    run.expect_code(0);
    let m = manifest_of(dir.path(), "m.json");
    assert_eq!(m["report"]["path"], "<stdout>");
    assert_eq!(
        m["report"]["sha256"],
        mbxaudit::hash::sha256_hex(&run.stdout)
    );
    // Standard input is hashed as the scan reads it.
    let stdin = &m["inputs"][0];
    assert_eq!(stdin["origin"], "stdin");
    assert_eq!(stdin["size"], input.len() as u64);
    assert_eq!(stdin["sha256"], mbxaudit::hash::sha256_hex(&input));
    assert!(stdin["sha256_note"].is_null());
}

#[test]
fn manifest_targets_are_checked_before_reading() {
    let dir = tempdir();
    let input = dir.path().join("e.csv");
    std::fs::write(&input, fixture(GOOD)).unwrap();
    let i = input.to_str().unwrap();
    mbxaudit_in(
        dir.path(),
        &["search", "--stdout", "--manifest", "auto", i],
        None,
    )
    .expect_code(2)
    .expect_stderr("--manifest auto writes the manifest beside the report file");
    mbxaudit_in(
        dir.path(),
        &["search", "-o", "r.csv", "--manifest", "./r.csv", i],
        None,
    )
    .expect_code(2)
    .expect_stderr("is the report itself");
    mbxaudit_in(
        dir.path(),
        &["search", "-o", "r.csv", "--force", "--manifest", i, i],
        None,
    )
    .expect_code(2)
    .expect_stderr("also an input");
    std::fs::write(dir.path().join("m.json"), b"keep").unwrap();
    mbxaudit_in(
        dir.path(),
        &["search", "-o", "r.csv", "--manifest", "m.json", i],
        None,
    )
    .expect_code(2)
    .expect_stderr("'m.json' already exists");
    assert!(!dir.path().join("r.csv").exists(), "nothing written");
    assert_eq!(std::fs::read(dir.path().join("m.json")).unwrap(), b"keep");
}

// ---- damaged input ----

#[test]
fn truncated_mid_field() {
    // An unquoted export (PowerShell 7 `-UseQuotes Never`) cut inside row 6's subject.
    let full = export(10, false, |i| format!("subject number {i}"));
    let cut = line_start(&full, 7) + "SoftDelete,2017-04-10T00:00:05Z,subj".len();
    let (run, rows) = search_damaged("cut.csv", &full[..cut], &[]);
    run.expect_code(1).expect_stderr(
        "cut.csv:7: expected 5 fields as in the header, found 3; the file ends inside this \
         row, so it was probably cut short",
    );
    assert_eq!(count_from(&rows, "subject number"), 5);
    assert_eq!(rows.len(), 5 + GOOD_ROWS);
}

#[test]
fn truncated_mid_quote() {
    let full = fixture("legacy/basic_en-US.csv");
    let cut = line_start(&full, 10) + 40;
    let quotes = full[line_start(&full, 10)..cut]
        .iter()
        .filter(|&&b| b == b'"')
        .count();
    assert!(quotes % 2 == 1, "cut inside a quoted field");
    let (run, rows) = search_damaged("cut.csv", &full[..cut], &[]);
    run.expect_code(1)
        .expect_stderr("cut.csv:10: unterminated quoted field; the file ends inside this row")
        .expect_stderr("copy or export the file again to recover this one");
    // Lines 2..9 of the export are read, and the good export whole.
    let whole = search_damaged("whole.csv", &full[..line_start(&full, 10)], &[]).1;
    assert_eq!(rows, whole);
}

#[test]
fn truncated_mid_utf8_sequence() {
    // Quoted: the cut row is reported.
    let full = export(4, true, |i| format!("Résumé {i} 😀"));
    let emoji = "😀".as_bytes();
    let last = full.windows(4).rposition(|w| w == emoji).unwrap();
    let (run, rows) = search_damaged("cut.csv", &full[..last + 2], &[]);
    run.expect_code(1)
        .expect_stderr("cut.csv:5: unterminated quoted field; the file ends inside this row");
    assert_eq!(count_from(&rows, "Résumé"), 3);
    assert_eq!(rows.len(), 3 + GOOD_ROWS);
    // Unquoted, in the last field: the row is read, and the cut told.
    let mut text = String::from("Operation,LastAccessed,ItemSubject\r\n");
    for i in 0..4 {
        text.push_str(&format!(
            "SoftDelete,2017-04-10T10:00:0{i}Z,Résumé {i} 😀\r\n"
        ));
    }
    let cut = text.len() - "😀\r\n".len() + 3;
    let (run, rows) = search_damaged("cut.csv", &text.as_bytes()[..cut], &[]);
    run.expect_code(0).expect_stderr(
        "warning: cut.csv:5: the file ends in the middle of a UTF-8 character, so it was \
         probably cut short: this last row may be incomplete; copy or export the file again",
    );
    assert_eq!(count_from(&rows, "Résumé"), 4);
    assert!(rows.iter().any(|r| r[0] == "Résumé 3 \u{FFFD}"), "{rows:?}");
}

#[test]
fn truncated_mid_utf16_code_unit() {
    // Cut in the middle of the last code unit (the line feed): every row is still whole.
    let full = fixture("legacy/utf16le.csv");
    assert_eq!(&full[full.len() - 2..], b"\n\0");
    let (run, rows) = search_damaged("cut.csv", &full[..full.len() - 1], &[]);
    run.expect_code(0).expect_stderr(
        "warning: cut.csv: UTF-16LE (BOM) text of an odd number of bytes: the file ends in \
         the middle of a character, so it was probably cut short",
    );
    let whole = search_damaged("whole.csv", &full, &[]).1;
    assert_eq!(rows, whole);
    // Cut inside a row: that row is reported, the others read.
    let cut = (full.len() / 2) | 1;
    let (run, rows) = search_damaged("cut.csv", &full[..cut], &[]);
    run.expect_code(1)
        .expect_stderr("the file ends inside this row")
        .expect_stderr("odd number of bytes");
    assert!(rows.len() > GOOD_ROWS && rows.len() < whole.len());
}

#[test]
fn nul_bytes_inside_a_csv() {
    let mut bytes = export(60, true, |i| format!("subject {i}"));
    // A NUL inside row 2's subject (kept, with a warning), and a zero-filled block over
    // row 5 (malformed), both within the first 4 KiB: still text, not "binary".
    let at = line_start(&bytes, 3) + 40;
    assert_eq!(&bytes[at - 3..at + 1], b"subj");
    bytes[at] = 0;
    let (s, e) = (line_start(&bytes, 6), line_start(&bytes, 7));
    bytes[s + 5..e - 10].fill(0);
    let (run, rows) = search_damaged("nul.csv", &bytes, &[]);
    run.expect_code(1)
        .expect_stderr(
            "warning: nul.csv:3: 1 NUL byte in this row (a zero-filled or damaged region",
        )
        .expect_stderr("check it against another copy of the export")
        .expect_stderr("nul.csv:6: ")
        .expect_stderr("NUL bytes (a zero-filled or damaged region of the file)");
    assert_eq!(count_from(&rows, "subject"), 58);
    assert!(rows.iter().any(|r| r[0] == "sub\0ect 1"), "kept as read");
}

/// Runs the binary and returns its exit code, stderr and peak resident memory in KiB
/// (from `wait4`: the child's own, exactly).
#[cfg(target_os = "linux")]
#[allow(clippy::zombie_processes)] // reaped by wait4, which also gives its rusage
fn run_measured(dir: &Path, args: &[&str]) -> (i32, String, u64) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mbxaudit"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mbxaudit");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid (plain integers).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 fills `usage` and `status` for our own child, which nothing else
    // waits for (`child` is not waited on afterwards).
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(got, pid, "wait4");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, stderr, u64::try_from(usage.ru_maxrss).unwrap_or(0))
}

#[cfg(target_os = "linux")]
#[test]
fn a_50_mb_single_field_is_copied_once() {
    const FIELD: usize = 50_000_000;
    let dir = tempdir();
    let mut bytes = export(3, true, |i| format!("small {i}"));
    let big = format!(
        "\"SoftDelete\",\"2017-04-11T00:00:00Z\",\"{}\",\"Owner\",\"id-big\"\r\n",
        "A".repeat(FIELD)
    );
    bytes.extend_from_slice(big.as_bytes());
    std::fs::write(dir.path().join("big.csv"), &bytes).unwrap();
    drop(bytes);
    let started = std::time::Instant::now();
    let (code, stderr, rss_kib) =
        run_measured(dir.path(), &["search", "-j", "2", "-o", "r.csv", "big.csv"]);
    let took = started.elapsed();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("4 entries in the report"), "{stderr}");
    let report = std::fs::read(dir.path().join("r.csv")).unwrap();
    assert!(report.len() > FIELD);
    // The input is mapped (50 MB resident once read), the kept row holds one copy, and
    // the CSV writer's cell and line buffers one each while that row is written: about
    // four times the field. A reader that copied the field more would go past the bound.
    let rss = rss_kib * 1024;
    assert!(
        rss < (FIELD as u64) * 9 / 2,
        "peak RSS {} MB for a {} MB field",
        rss >> 20,
        FIELD >> 20
    );
    assert!(took.as_secs() < 20, "took {took:?}");
}

#[test]
fn a_100k_column_header_and_row() {
    let wide = |first: &str| {
        let mut s = String::from(first);
        for i in 0..100_000 {
            s.push_str(&format!(",c{i}"));
        }
        s.push_str("\r\n");
        s
    };
    // A header of 100,002 columns (the two required ones first), one row of them.
    let mut text = wide("Operation,LastAccessed");
    text.push_str(&wide("Move,2017-04-10T10:00:00Z"));
    let started = std::time::Instant::now();
    let (run, rows) = search_damaged("wide.csv", text.as_bytes(), &[]);
    run.expect_code(0);
    assert_eq!(rows.len(), 1 + GOOD_ROWS);
    // A row of 100,002 fields under a 5-column header: malformed, named.
    let mut text = String::from_utf8(export(2, false, |i| format!("s{i}"))).unwrap();
    text.push_str(&wide("SoftDelete,2017-04-10T10:00:00Z,x,Owner,id-wide"));
    text.push_str("SoftDelete,2017-04-12T10:00:00Z,after,Owner,id-after\r\n");
    let (run, rows) = search_damaged("wide.csv", text.as_bytes(), &[]);
    run.expect_code(1)
        .expect_stderr("wide.csv:4: expected 5 fields as in the header, found 100005");
    let subjects: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert!(
        ["s0", "s1", "after"].iter().all(|s| subjects.contains(s)),
        "{subjects:?}"
    );
    assert_eq!(rows.len(), 3 + GOOD_ROWS);
    // A header of 100,000 unknown columns: not an export, said briefly.
    let (run, _) = search_damaged("wide.csv", wide("x").as_bytes(), &[]);
    run.expect_code(1)
        .expect_stderr("its header (line 1) has no Operation, LastAccessed or AuditData column (columns: x, c0, c1, c2, c3, c4, c5, c6, ... (100001 columns))");
    assert!(started.elapsed().as_secs() < 20);
}

#[test]
fn mixed_line_endings() {
    // CRLF, LF and CR CR LF (a CRLF file converted again) in one file: every row read.
    let full = export(9, true, |i| format!("subject {i}"));
    let text = String::from_utf8(full).unwrap();
    let mut mixed = String::new();
    for (i, line) in text.split_inclusive("\r\n").enumerate() {
        let body = line.trim_end_matches("\r\n");
        mixed.push_str(body);
        mixed.push_str(["\r\n", "\n", "\r\r\n"][i % 3]);
    }
    let (run, rows) = search_damaged("mixed.csv", mixed.as_bytes(), &[]);
    run.expect_code(0);
    assert_eq!(count_from(&rows, "subject"), 9);
    // A bare CR (classic Mac) does not end a record: the rows it joins (here the first
    // four) are named with what to do.
    let mac = text.replacen("\r\n", "\r", 4).replacen('\r', "\r\n", 1);
    let (run, rows) = search_damaged("mac.csv", mac.as_bytes(), &[]);
    run.expect_code(1).expect_stderr(
        "mac.csv:2: expected 5 fields as in the header, found 17; the row holds carriage \
         returns without line feeds (classic Mac line ends, or a damaged copy), which do not \
         end a record here: convert the file's line ends to CRLF or LF and run again",
    );
    assert_eq!(count_from(&rows, "subject"), 5);
}

#[test]
fn a_stray_quote_costs_one_row() {
    // A quote cut out of row 3: without resynchronisation the rest of the file would be
    // one broken record.
    let full = export(5000, true, |i| format!("subject {i}"));
    let start = line_start(&full, 4);
    let mut damaged = full[..start].to_vec();
    damaged.extend_from_slice(b"\"SoftDelete\",\"2017-04-10T00:00:02Z\",\"subj");
    damaged.extend_from_slice(&full[line_start(&full, 5)..]);
    let (run, rows) = search_damaged("stray.csv", &damaged, &[]);
    run.expect_code(1).expect_stderr(
        "stray.csv:4: text after a closing quote; this record runs over 4998 lines, so a quote \
         in it is probably stray or cut: its first line is counted as malformed, and reading \
         resumes on line 5",
    );
    assert_eq!(count_from(&rows, "subject"), 4998);
    assert!(run.stderr.contains("1  - malformed"), "{}", run.stderr);
}

#[test]
fn header_only_and_empty_file() {
    let header = b"\"Operation\",\"LastAccessed\",\"ItemSubject\"\r\n";
    let (run, rows) = search_damaged("header.csv", header, &[]);
    run.expect_code(0).expect_stderr(
        "warning: header.csv:1: the header is not followed by any record: the export holds \
         no events",
    );
    assert_eq!(rows.len(), GOOD_ROWS);
    let (run, rows) = search_damaged("empty.csv", b"", &[]);
    run.expect_code(0)
        .expect_stderr("warning: empty.csv: empty file: no records");
    assert_eq!(rows.len(), GOOD_ROWS);
}

#[test]
fn binary_file_and_unrelated_csv() {
    let mut noise = Vec::new();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..100_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.push((x >> 24) as u8);
    }
    let (run, rows) = search_damaged("blob.bin", &noise, &[]);
    run.expect_code(1).expect_stderr(
        "error: blob.bin: binary data, not an audit export (exports are CSV or JSON text): \
         leave it out, or check that it is the file you meant",
    );
    assert_eq!(rows.len(), GOOD_ROWS);
    let unrelated = b"Name,Email,\x1b]0;pwned\x07Title\r\nAda,ada@example.com,Countess\r\n";
    let (run, rows) = search_damaged("people.csv", unrelated, &[]);
    run.expect_code(1).expect_stderr(
        "error: people.csv: not a mailbox audit export: its header (line 1) has no \
         Operation, LastAccessed or AuditData column (columns: Name, Email, \
         \\u{1b}]0;pwned\\u{7}Title); give exports of Search-MailboxAuditLog",
    );
    assert_eq!(rows.len(), GOOD_ROWS);
    // Found while walking a directory, both are skipped, not errors.
    let dir = tempdir();
    std::fs::write(dir.path().join("blob.bin"), &noise).unwrap();
    std::fs::write(dir.path().join("people.csv"), unrelated).unwrap();
    std::fs::write(dir.path().join("good.csv"), fixture(GOOD)).unwrap();
    let run = mbxaudit_in(dir.path(), &["search", "--stdout", "."], None);
    run.expect_code(0)
        .expect_stderr("skipped ./blob.bin: binary data")
        .expect_stderr("skipped ./people.csv: not a mailbox audit export");
    assert_eq!(report_rows(&run.stdout).len(), GOOD_ROWS);
}

#[test]
fn truncated_json_says_what_to_do() {
    let full = fixture("json/ps7_depth4.json");
    let (run, rows) = search_damaged("cut.json", &full[..full.len() * 2 / 3], &[]);
    run.expect_code(1).expect_stderr(
        "the file was probably cut short (a truncated copy or export); the records before it \
         are read, copy or export the file again to recover this one",
    );
    assert!(rows.len() >= GOOD_ROWS);
}
