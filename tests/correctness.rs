//! Issue 15 (correctness): the session, the outputs, the command line and the messages.
//! One test (or a few) per item, named after what it holds; each failed before its fix.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{export, fixture, mbxaudit_in, report_rows, tempdir, testdata, Run};

const B: &str = "legacy/basic_en-US.csv";

/// The path of a fixture, as text.
fn fx(rel: &str) -> String {
    testdata(rel).to_string_lossy().into_owned()
}

/// Runs a prepared command (environment cleared, TZ pinned) to its end.
fn run(mut cmd: Command) -> Run {
    let out = cmd.output().expect("run mbxaudit");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `mbxaudit ARGS` in `dir`, hermetic, standard input from nowhere; not yet run.
fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mbxaudit"));
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("TZ", "UTC")
        .stdin(Stdio::null());
    cmd
}

/// A small legacy export whose rows are all kept by the default rules.
fn legacy(rows: &[(&str, &str)]) -> Vec<u8> {
    let mut out =
        String::from("Operation,LastAccessed,LogonType,LogonUserDisplayName,Identity\r\n");
    for (i, (op, time)) in rows.iter().enumerate() {
        out.push_str(&format!(
            "\"{}\",\"{time}\",Owner,Test User,id-{i}\r\n",
            op.replace('"', "\"\"")
        ));
    }
    out.into_bytes()
}

// ---- item 6: one funnel label per record type ----

#[test]
fn skipped_record_types_are_labelled_by_their_name() {
    let dir = tempdir();
    let line = |id: &str, op: &str, rt: u32, workload: Option<&str>| {
        let w = workload.map_or(String::new(), |w| format!(",\"Workload\":\"{w}\""));
        format!(
            "{{\"CreationTime\":\"2024-03-05T09:00:00\",\"Id\":\"{id}\",\"Operation\":\"{op}\",\
             \"RecordType\":{rt}{w},\"UserId\":\"a@contoso.com\"}}\n"
        )
    };
    let text = [
        line("a1", "DlpRuleMatch", 13, Some("Exchange")),
        line("a2", "New-InboxRule", 1, Some("Exchange")),
        line("a3", "Set-InboxRule", 1, None),
        line("a4", "FileAccessed", 6, Some("SharePoint")),
        line("a5", "Send", 2, Some("Exchange")),
    ]
    .concat();
    std::fs::write(dir.path().join("ual.jsonl"), text).unwrap();
    let run = mbxaudit_in(dir.path(), &["search", "--stdout", "ual.jsonl"], None);
    run.expect_code(0)
        .expect_stderr("1      of which ComplianceDLPExchange")
        .expect_stderr("2      of which ExchangeAdmin")
        .expect_stderr("1      of which SharePointFileOperation");
    assert!(!run.stderr.contains("Exchange 13"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("RecordType ExchangeAdmin"),
        "{}",
        run.stderr
    );
}

// ---- item 7: every CSV cell through the Excel-safe rule ----

#[test]
fn summary_csv_headers_from_the_data_are_excel_safe() {
    let dir = tempdir();
    let input = legacy(&[
        (
            "=HYPERLINK(\"http://x.example/\",\"y\")",
            "2017-04-10T10:00:00Z",
        ),
        ("@SUM(1+1)", "2017-04-10T11:00:00Z"),
        ("Move", "2017-04-11T11:00:00Z"),
    ]);
    std::fs::write(dir.path().join("in.csv"), input).unwrap();
    for by in ["day", "hour"] {
        let out = format!("t_{by}");
        mbxaudit_in(
            dir.path(),
            &[
                "summary", "--format", "csv", "--by", by, "-o", &out, "in.csv",
            ],
            None,
        )
        .expect_code(0);
        let table =
            std::fs::read(dir.path().join(&out).join(format!("activity_by_{by}.csv"))).unwrap();
        let text = String::from_utf8(table).unwrap();
        let header = text.lines().next().unwrap();
        assert!(header.contains("\"'=HYPERLINK("), "{header}");
        assert!(header.contains("\"'@SUM(1+1)\""), "{header}");
        assert!(
            !header.contains("\"=") && !header.contains("\"@"),
            "{header}"
        );
    }
}

// ---- item 8: an output that is standard input ----

#[cfg(unix)]
#[test]
fn an_output_that_is_standard_input_is_refused() {
    let dir = tempdir();
    let evidence = fixture(B);
    let ev = dir.path().join("ev.csv");
    for args in [
        &["search", "-", "-o", "ev.csv", "--force"][..],
        &[
            "search",
            "-",
            "-o",
            "r.csv",
            "--manifest",
            "ev.csv",
            "--force",
        ],
        &["summary", "-", "-o", "ev.csv", "--force"],
        &["triage", "-", "-o", "ev.csv", "--force"],
        &["report", "-", "--html", "ev.csv", "--force"],
    ] {
        std::fs::write(&ev, &evidence).unwrap();
        let mut cmd = command(dir.path(), args);
        cmd.stdin(std::fs::File::open(&ev).unwrap());
        let run = run(cmd);
        run.expect_code(2)
            .expect_stderr("'ev.csv' is also standard input");
        assert_eq!(std::fs::read(&ev).unwrap(), evidence, "{args:?}");
        assert!(!dir.path().join("r.csv").exists(), "{args:?}");
    }
}

// ---- item 10: a closed stderr ----

#[test]
fn a_closed_stderr_is_ignored() {
    let dir = tempdir();
    let input = fx(B);
    for args in [
        &["search", input.as_str(), "--stdout"][..],
        &[
            "search",
            input.as_str(),
            "-o",
            "r.csv",
            "--manifest",
            "auto",
        ],
        &["search", "/nonexistent/in.csv", "--stdout"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd = command(dir.path(), args);
        cmd.stdout(Stdio::null()).stderr(writer);
        let status = cmd.status().unwrap();
        assert_ne!(status.code(), Some(101), "{args:?}: panicked");
        if args.contains(&"/nonexistent/in.csv") {
            assert_eq!(status.code(), Some(2));
        } else {
            assert_eq!(status.code(), Some(0), "{args:?}");
        }
    }
    assert!(dir.path().join("r.csv").exists());
    assert!(dir.path().join("r.csv.manifest.json").exists());
}

/// `mbxaudit search ... | head`: a reader that goes away ends the run quietly, whether
/// the rows are written inline (`-j 1`) or by the writing thread.
#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let dir = tempdir();
    // Rows enough to fill every buffer on the way (several MB of report).
    let big = export(20_000, true, |i| format!("m{i}"));
    std::fs::write(dir.path().join("big.csv"), big).unwrap();
    for threads in ["1", "2"] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd = command(
            dir.path(),
            &["search", "big.csv", "--stdout", "-j", threads],
        );
        cmd.stdout(writer).stderr(Stdio::piped());
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "-j {threads}: {stderr}");
        assert!(!stderr.contains("error"), "-j {threads}: {stderr}");
    }
}

// ---- item 11: the outputs of one run commit together ----

#[test]
fn a_refused_manifest_leaves_no_report_and_is_refused_before_the_scan() {
    let dir = tempdir();
    let input = fx(B);
    let run = mbxaudit_in(
        dir.path(),
        &[
            "search",
            &input,
            "-o",
            "mm.csv",
            "--manifest",
            "nonexist/m.json",
        ],
        None,
    );
    run.expect_code(2).expect_stderr("nonexist");
    assert!(
        !run.stderr.contains("rows read"),
        "scanned first:\n{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("Searching"),
        "scanned first:\n{}",
        run.stderr
    );
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A disk that fills up while the summary's tables are written (a file size limit,
/// RLIMIT_FSIZE, stands for it): no table is left, and the next run is not refused.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_summary_leaves_no_table_behind() {
    use std::os::unix::process::CommandExt;
    let dir = tempdir();
    // Many distinct users: top_users.csv is the one big table.
    let mut text = String::from("Operation,LastAccessed,LogonType,LogonUserDisplayName\r\n");
    for i in 0..3000 {
        text.push_str(&format!(
            "Move,2017-04-10T10:{:02}:{:02}Z,Owner,user number {i:05} with a long name\r\n",
            i / 60 % 60,
            i % 60
        ));
    }
    std::fs::write(dir.path().join("in.csv"), text).unwrap();
    let out = dir.path().join("tables");
    std::fs::create_dir(&out).unwrap();
    let args = [
        "summary", "--format", "csv", "--top", "0", "-o", "tables", "in.csv",
    ];
    let mut cmd = command(dir.path(), &args);
    // SAFETY: only async-signal-safe calls (setrlimit, signal) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 16 * 1024,
                rlim_max: 16 * 1024,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let failed = run(cmd);
    assert_ne!(failed.code, 0, "{}", failed.stderr);
    assert_eq!(names(&out), Vec::<String>::new(), "{}", failed.stderr);
    mbxaudit_in(dir.path(), &args, None).expect_code(0);
    assert_eq!(names(&out).len(), 7);
}

// ---- item 12: dates on the command line ----

#[test]
fn dotted_dates_on_the_command_line_are_day_first() {
    let dir = tempdir();
    let input = fx(B);
    let run = mbxaudit_in(
        dir.path(),
        &[
            "search",
            &input,
            "--stdout",
            "--start-date",
            "10.04.2017",
            "--end-date",
            "20.04.2017",
        ],
        None,
    );
    run.expect_code(0).expect_stderr(
        "Date window (UTC): from 2017-04-10T00:00:00Z up to (not including) 2017-04-21T00:00:00Z",
    );
    assert_eq!(report_rows(&run.stdout).len(), 13);
}

#[test]
fn ambiguous_slash_dates_follow_date_order_or_are_refused() {
    let dir = tempdir();
    // ISO dates inside: --date-order changes only how the command line is read.
    let input = fx("legacy/iso_ps7_lf.csv");
    let window = |args: &[&str]| {
        let mut all = vec!["search", input.as_str(), "--stdout"];
        all.extend_from_slice(args);
        mbxaudit_in(dir.path(), &all, None)
    };
    window(&["--start-date", "04/10/2017"])
        .expect_code(2)
        .expect_stderr("2017-04-10")
        .expect_stderr("2017-10-04")
        .expect_stderr("--date-order");
    window(&["--start-date", "04/10/2017", "--date-order", "dmy"])
        .expect_code(0)
        .expect_stderr("from 2017-10-04T00:00:00Z");
    // Unambiguous: what it can only be, whatever --date-order says.
    window(&["--start-date", "04/13/2017", "--date-order", "dmy"])
        .expect_code(0)
        .expect_stderr("from 2017-04-13T00:00:00Z");
    // The seed script's example: the end date proves month first.
    window(&["--start-date", "04/10/17", "--end-date", "04/27/17"])
        .expect_code(0)
        .expect_stderr("from 2017-04-10T00:00:00Z up to (not including) 2017-04-28T00:00:00Z");
}

// ---- item 13 (last sentence): our own manifest in a walked folder ----

#[test]
fn our_own_manifest_in_a_folder_is_skipped() {
    let dir = tempdir();
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    std::fs::write(evidence.join("basic.csv"), fixture(B)).unwrap();
    mbxaudit_in(
        &evidence,
        &[
            "search",
            "basic.csv",
            "-o",
            "../r.csv",
            "--manifest",
            "m.json",
        ],
        None,
    )
    .expect_code(0);
    let run = mbxaudit_in(dir.path(), &["search", "evidence", "--stdout"], None);
    run.expect_code(0)
        .expect_stderr("skipped evidence/m.json: an mbxaudit run manifest");
    assert!(!run.stderr.contains("malformed"), "{}", run.stderr);
}

// ---- item 14: a rejected file's rows are in the funnel ----

#[test]
fn a_rejected_files_rows_are_counted() {
    let dir = tempdir();
    let (b, c) = (fx(B), fx("legacy/conflicting_dates.csv"));
    let run = mbxaudit_in(
        dir.path(),
        &["search", &b, &c, "-o", "r.csv", "--manifest", "auto"],
        None,
    );
    run.expect_code(1)
        .expect_stderr("none of its 12 rows are reported")
        .expect_stderr("37  rows read")
        .expect_stderr("12  - rejected file");
    let m: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.csv.manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["inputs"][1]["status"], "rejected");
    assert_eq!(m["inputs"][1]["rows_read"], 12);
    assert_eq!(m["inputs"][1]["funnel"]["rejected"], 12);
    assert_eq!(m["totals"]["read"], 37);
    assert_eq!(m["totals"]["written"], 13);
}

// ---- item 15: summary --merge with counts that would wrap ----

#[test]
fn merging_summaries_refuses_counts_that_overflow() {
    let dir = tempdir();
    let n = 1u64 << 63;
    let part = |input: &str| {
        serde_json::json!({
            "format": "mbxaudit-summary",
            "version": 1,
            "inputs": [input],
            "filters": [],
            "funnel": {
                "read": n, "malformed": 0,
                "dropped": {"record_type": 0, "date_window": 0, "logon_type": 0, "mailbox": 0,
                            "folder_bind": 0, "operation": 0, "user": 0, "client_ip": 0,
                            "subject": 0},
                "matched": n, "duplicates": 0, "skipped_workloads": {}
            },
            "records": n,
            "operations": {"Move": {"count": n, "first": "2017-04-10T10:00:00Z",
                "last": "2017-04-10T10:00:00Z", "users": ["u"], "mailboxes": ["m"],
                "client_ips": ["192.0.2.1"]}},
            "logon_types": {"Owner": {"count": n, "first": "2017-04-10T10:00:00Z",
                "last": "2017-04-10T10:00:00Z", "users": ["u"], "mailboxes": ["m"],
                "client_ips": ["192.0.2.1"]}},
            "users": {"u": n},
            "mailboxes": {"m": n},
            "client_ips": {"192.0.2.1": n},
            "client_apps": {"Client=OWA": n},
            "activity": {"Move": {"2017-04-10T10": n}}
        })
    };
    for (name, input) in [("a.json", "a.csv"), ("b.json", "b.csv")] {
        std::fs::write(
            dir.path().join(name),
            serde_json::to_vec(&part(input)).unwrap(),
        )
        .unwrap();
    }
    mbxaudit_in(dir.path(), &["summary", "--merge", "a.json"], None).expect_code(0);
    let run = mbxaudit_in(
        dir.path(),
        &["summary", "--merge", "a.json", "b.json"],
        None,
    );
    run.expect_code(2).expect_stderr("too large");
    assert!(!run.stderr.contains("Summary of 0"), "{}", run.stderr);
}

// ---- item 16: file names that are not UTF-8 ----

#[cfg(unix)]
#[test]
fn file_names_that_are_not_utf8_stay_apart() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempdir();
    let evidence = dir.path().join("ev");
    std::fs::create_dir(&evidence).unwrap();
    let a = evidence.join(OsStr::from_bytes(b"a\xff.csv"));
    let b = evidence.join(OsStr::from_bytes(b"a\xfe.csv"));
    std::fs::write(&a, fixture(B)).unwrap();
    std::fs::write(&b, fixture("legacy/dayfirst_en-GB.csv")).unwrap();
    let run = mbxaudit_in(
        dir.path(),
        &[
            "search",
            "ev",
            "-o",
            "r.csv",
            "--columns",
            "full",
            "--manifest",
            "m.json",
        ],
        None,
    );
    run.expect_code(0)
        .expect_stderr("read ev/a\\xfe.csv")
        .expect_stderr("read ev/a\\xff.csv");
    let m: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("m.json")).unwrap()).unwrap();
    let inputs = m["inputs"].as_array().unwrap();
    let paths: Vec<&str> = inputs.iter().map(|i| i["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["ev/a\\xfe.csv", "ev/a\\xff.csv"]);
    let bytes: Vec<&str> = inputs
        .iter()
        .map(|i| i["path_bytes"].as_str().unwrap())
        .collect();
    assert_eq!(bytes, ["65762f61fe2e637376", "65762f61ff2e637376"]);
    let rows = report_rows(&std::fs::read(dir.path().join("r.csv")).unwrap());
    let mut sources: Vec<&str> = rows.iter().map(|r| r[r.len() - 2].as_str()).collect();
    sources.sort();
    sources.dedup();
    assert_eq!(sources, ["ev/a\\xfe.csv", "ev/a\\xff.csv"]);
}

// ---- item 17: an input cut short while it is read ----

/// The test hook `MBXAUDIT_TEST_AFTER_MAP` makes the run open the named FIFO after it has
/// mapped an input, and wait until the writer closes it: the file is cut short then,
/// while mapped, before a byte of it is read.
#[cfg(target_os = "linux")]
#[test]
fn an_input_cut_short_while_it_is_read_stops_the_run() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = tempdir();
    let input = dir.path().join("big.csv");
    std::fs::write(&input, export(20_000, true, |i| format!("subject {i}"))).unwrap();
    let fifo = dir.path().join("hook");
    let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let mut cmd = command(dir.path(), &["search", "big.csv", "-o", "r.csv", "-j", "1"]);
    cmd.env("MBXAUDIT_TEST_AFTER_MAP", &fifo)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    // Opening the FIFO for writing succeeds once the run has opened it for reading.
    let started = Instant::now();
    let writer = loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo)
        {
            Ok(w) => break Some(w),
            Err(_) if child.try_wait().unwrap().is_none() && started.elapsed().as_secs() < 60 => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(_) => break None,
        }
    };
    if writer.is_some() {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&input)
            .unwrap()
            .set_len(100)
            .unwrap();
    }
    drop(writer);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{:?}: {stderr}", out.status);
    assert!(
        stderr.contains("big.csv") && stderr.contains("changed while it was read"),
        "{stderr}"
    );
    assert!(!dir.path().join("r.csv").exists(), "a partial report");
}

// ---- item 18: smaller ones ----

#[cfg(unix)]
#[test]
fn an_interrupted_run_says_so() {
    use std::io::BufRead;
    let dir = tempdir();
    let mut child = command(dir.path(), &["search", "-", "-o", "r.csv"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap(); // kept open: the run waits for input
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().starts_with("Searching") {
            break;
        }
    }
    // SAFETY: signalling our own child, not yet waited for.
    unsafe { libc::kill(libc::pid_t::try_from(child.id()).unwrap(), libc::SIGINT) };
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    drop(stdin);
    assert_eq!(status.code(), Some(130));
    assert!(rest.iter().any(|l| l.contains("interrupted")), "{rest:?}");
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

#[test]
fn a_time_in_a_dst_gap_is_named_so() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("gap.csv"),
        "Operation,LastAccessed,LogonType\r\nMove,3/26/2017 2:30:00 AM,Owner\r\nMove,3/27/2017 2:30:00 AM,Owner\r\n",
    )
    .unwrap();
    let run = mbxaudit_in(
        dir.path(),
        &["search", "gap.csv", "--stdout", "--tz", "Europe/Berlin"],
        None,
    );
    run.expect_code(1).expect_stderr(
        "gap.csv:2: LastAccessed '3/26/2017 2:30:00 AM': does not exist in Europe/Berlin",
    );
    let run = mbxaudit_in(
        dir.path(),
        &[
            "search",
            "gap.csv",
            "--stdout",
            "--tz",
            "Europe/Berlin",
            "--start-date",
            "2017-03-26T02:30",
        ],
        None,
    );
    run.expect_code(2)
        .expect_stderr("'2017-03-26T02:30' does not exist in Europe/Berlin");
}

#[test]
fn option_messages_name_what_was_typed() {
    let dir = tempdir();
    let input = fx(B);
    let run = mbxaudit_in(dir.path(), &["search", &input, "--tz", "+02:60"], None);
    run.expect_code(2).expect_stderr("minutes");
    assert!(!run.stderr.contains("18:00"), "{}", run.stderr);

    let run = mbxaudit_in(dir.path(), &["triage", &input, "--bind-window", "0s"], None);
    run.expect_code(2).expect_stderr("--bind-window 0s");
    assert!(!run.stderr.contains("--set"), "{}", run.stderr);

    std::fs::write(dir.path().join("exists.json"), b"keep").unwrap();
    let run = mbxaudit_in(
        dir.path(),
        &["search", &input, "-o", "r.csv", "--manifest", "exists.json"],
        None,
    );
    run.expect_code(2)
        .expect_stderr("another name with --manifest");
    assert!(!run.stderr.contains("-o to"), "{}", run.stderr);
}

#[test]
fn a_bom_that_contradicts_encoding_is_named() {
    let dir = tempdir();
    let input = fx(B); // UTF-8 with BOM
    let run = mbxaudit_in(
        dir.path(),
        &["search", &input, "--stdout", "--encoding", "windows-1252"],
        None,
    );
    run.expect_code(0)
        .expect_stderr("byte-order mark, which contradicts --encoding windows-1252")
        .expect_stderr("25  rows read");
    assert!(
        !run.stderr.contains("missing required column"),
        "{}",
        run.stderr
    );
}

#[test]
fn duplicate_header_columns_are_warned_about() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("dup.csv"),
        "Operation,LastAccessed,operation,LogonType\r\nMove,2017-04-10T10:00:00Z,Copy,Owner\r\n",
    )
    .unwrap();
    mbxaudit_in(dir.path(), &["search", "dup.csv", "--stdout"], None)
        .expect_code(0)
        .expect_stderr("column 'Operation' appears 2 times in the header");
}

#[test]
fn too_many_threads_are_capped() {
    let dir = tempdir();
    let input = fx(B);
    let mut child = command(dir.path(), &["search", &input, "--stdout", "-j", "100000"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed().as_secs() > 60 {
            let _ = child.kill();
            panic!("-j 100000 still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("-j 100000") && stderr.contains("threads"),
        "{stderr}"
    );
}

#[test]
fn invisible_and_direction_marks_are_escaped_on_the_terminal() {
    let dir = tempdir();
    let marks = [
        "\u{200E}", "\u{200F}", "\u{061C}", "\u{2028}", "\u{2029}", "\u{00AD}", "\u{200B}",
        "\u{FEFF}",
    ];
    let time = format!("x{}y", marks.concat());
    std::fs::write(
        dir.path().join("marks.csv"),
        format!("Operation,LastAccessed,LogonType\r\nMove,{time},Owner\r\n"),
    )
    .unwrap();
    let run = mbxaudit_in(dir.path(), &["search", "marks.csv", "--stdout"], None);
    run.expect_code(1)
        .expect_stderr("x\\u{200e}\\u{200f}\\u{61c}\\u{2028}\\u{2029}\\u{ad}\\u{200b}\\u{feff}y");
    for m in marks {
        assert!(!run.stderr.contains(m), "{m:?} reached the terminal");
    }
}

#[test]
fn one_garbage_json_line_is_one_malformed_row() {
    let dir = tempdir();
    let good = fixture("ual/sua_mailbox.jsonl");
    let first = good.split(|&b| b == b'\n').next().unwrap();
    let mut text = first.to_vec();
    text.extend_from_slice(b"\ngarbage {\"a\": tru} more garbage\n");
    std::fs::write(dir.path().join("g.jsonl"), text).unwrap();
    let run = mbxaudit_in(
        dir.path(),
        &["search", "g.jsonl", "--stdout", "--logon-types", "all"],
        None,
    );
    run.expect_code(1)
        .expect_stderr("2  rows read")
        .expect_stderr("1  - malformed");
}

#[cfg(unix)]
#[test]
fn cannot_open_names_the_file_once() {
    let dir = tempdir();
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("s.sock")).unwrap();
    let run = mbxaudit_in(dir.path(), &["search", "s.sock", "--stdout"], None);
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line: {}", run.stderr));
    assert_eq!(line.matches("s.sock").count(), 1, "{line}");
    assert!(line.contains("cannot open"), "{line}");
}
