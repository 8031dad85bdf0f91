//! Standard input and pipes are streamed in bounded memory, and the result is the same
//! bytes: every fixture and every kind of damage gives, piped in windows of any size, the
//! report and the messages of the same bytes read from a file (the input named
//! `<stdin>`).

use std::io::Write;
use std::process::{Command, Stdio};

use crate::util::*;

/// The window sizes tried: the default, and small ones that cut inside headers, quoted
/// multi-line fields and UTF-8 and UTF-16 characters.
const WINDOWS: &[Option<&str>] = &[None, Some("64"), Some("1000")];

/// What the input is called when read from a file: replaced by `<stdin>` to compare.
const NAME: &str = "the-input";

/// Reads `bytes` with `args` from a file and piped in at every window size (with `env`
/// besides): the exit code, the report and the messages must be the same.
fn assert_same(bytes: &[u8], args: &[&str], env: &[(&str, &str)]) {
    let dir = tempdir();
    std::fs::write(dir.path().join(NAME), bytes).expect("write input");
    let mut with_file = args.to_vec();
    with_file.push(NAME);
    let want = mbxaudit_run(dir.path(), &with_file, None, env);
    assert!(!want.stderr.contains("panicked"), "{}", want.stderr);
    let want_out = String::from_utf8_lossy(&want.stdout).replace(NAME, "<stdin>");
    let want_err = want.stderr.replace(NAME, "<stdin>");
    let mut with_stdin = args.to_vec();
    with_stdin.push("-");
    for window in WINDOWS {
        let mut env = env.to_vec();
        if let Some(w) = window {
            env.push(("MBXAUDIT_STDIN_WINDOW", w));
        }
        let got = mbxaudit_run(dir.path(), &with_stdin, Some(bytes), &env);
        let what = format!("{args:?} {env:?}");
        assert_eq!(
            got.code, want.code,
            "{what}: exit code; stderr:\n{}",
            got.stderr
        );
        assert_eq!(got.stderr, want_err, "{what}: stderr");
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            want_out,
            "{what}: report"
        );
    }
}

/// Every export fixture of `dir` (not the READMEs and generators).
fn fixtures(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(testdata(dir))
        .expect("list fixtures")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| [".csv", ".json", ".jsonl"].iter().any(|x| n.ends_with(x)))
        .collect();
    names.sort();
    assert!(names.len() >= 3, "{dir}: {names:?}");
    names.into_iter().map(|n| format!("{dir}/{n}")).collect()
}

const SEARCH: &[&str] = &["search", "--stdout", "--columns", "full"];

#[test]
fn stdin_legacy_fixtures_read_as_files() {
    for f in fixtures("legacy") {
        assert_same(&fixture(&f), SEARCH, &[]);
    }
    // Culture dates decided by the command line, and an export in windows-1252.
    let mut args = SEARCH.to_vec();
    args.extend(["--date-order", "dmy"]);
    assert_same(&fixture("legacy/conflicting_dates.csv"), &args, &[]);
    let mut cp1252 = b"Operation,LastAccessed,ItemSubject\r\n".to_vec();
    for i in 0..40 {
        cp1252.extend_from_slice(format!("SoftDelete,2017-04-10T10:00:{i:02}Z,R").as_bytes());
        cp1252.extend_from_slice(b"\xE9sum\xE9 \x80\r\n");
    }
    let mut args = SEARCH.to_vec();
    args.extend(["--encoding", "windows-1252"]);
    assert_same(&cp1252, &args, &[]);
}

#[test]
fn stdin_json_fixtures_read_as_files() {
    for f in fixtures("json") {
        assert_same(&fixture(&f), SEARCH, &[]);
    }
}

#[test]
fn stdin_ual_fixtures_read_as_files() {
    let mut all = SEARCH.to_vec();
    all.extend(["--record-types", "all"]);
    for f in fixtures("ual") {
        assert_same(&fixture(&f), SEARCH, &[]);
        assert_same(&fixture(&f), &all, &[]);
    }
}

#[test]
fn stdin_triage_fixtures_read_as_files() {
    for f in fixtures("triage") {
        assert_same(&fixture(&f), SEARCH, &[]);
    }
}

#[test]
fn stdin_summary_triage_and_report_stream_too() {
    let bytes = fixture("legacy/basic_en-US.csv");
    assert_same(&bytes, &["summary"], &[]);
    assert_same(&bytes, &["summary", "--format", "json"], &[]);
    assert_same(&fixture("triage/inbox_rule_fires.csv"), &["triage"], &[]);
    assert_same(&fixture("ual/sua_mailbox.jsonl"), &["triage"], &[]);
    // The HTML report's messages (the page names its run's time).
    assert_same(&bytes, &["report", "--html", "r.html", "--force"], &[]);
}

// ---- damaged input, made as tests/hardening.rs makes it ----

fn utf16le(text: &[u8], bom: bool) -> Vec<u8> {
    let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
    for u in String::from_utf8_lossy(text).encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

#[test]
fn stdin_damaged_exports_read_as_files() {
    // Cut inside a field, inside a quote, inside a UTF-8 character (quoted and not).
    let full = export(10, false, |i| format!("subject number {i}"));
    let cut = line_start(&full, 7) + 36;
    assert_same(&full[..cut], SEARCH, &[]);
    let basic = fixture("legacy/basic_en-US.csv");
    assert_same(&basic[..line_start(&basic, 10) + 40], SEARCH, &[]);
    let full = export(4, true, |i| format!("Résumé {i} 😀"));
    let emoji = full.windows(4).rposition(|w| w == "😀".as_bytes()).unwrap();
    assert_same(&full[..emoji + 2], SEARCH, &[]);
    let full = export(4, false, |i| format!("Résumé {i} 😀"));
    assert_same(&full[..full.len() - 3], SEARCH, &[]);
    // UTF-16 cut in the middle of a code unit, at the end and inside a row; without BOM.
    let utf16 = fixture("legacy/utf16le.csv");
    assert_same(&utf16[..utf16.len() - 1], SEARCH, &[]);
    assert_same(&utf16[..(utf16.len() / 2) | 1], SEARCH, &[]);
    let text = export(30, true, |i| format!("Ünïcödé {i} 😀 \"q\""));
    assert_same(&utf16le(&text, false), SEARCH, &[]);
    let mut lone = utf16le(&text, true);
    lone.extend_from_slice(&[0x3D, 0xD8]); // a high surrogate with nothing after it
    assert_same(&lone, SEARCH, &[]);
    // NUL bytes: one in a kept row, a zero-filled block over another.
    let mut nul = export(60, true, |i| format!("subject {i}"));
    let at = line_start(&nul, 3) + 40;
    nul[at] = 0;
    let (s, e) = (line_start(&nul, 6), line_start(&nul, 7));
    nul[s + 5..e - 10].fill(0);
    assert_same(&nul, SEARCH, &[]);
    // Mixed line ends; bare carriage returns joining rows.
    let text = String::from_utf8(export(9, true, |i| format!("subject {i}"))).unwrap();
    let mut mixed = String::new();
    for (i, line) in text.split_inclusive("\r\n").enumerate() {
        mixed.push_str(line.trim_end_matches("\r\n"));
        mixed.push_str(["\r\n", "\n", "\r\r\n"][i % 3]);
    }
    assert_same(mixed.as_bytes(), SEARCH, &[]);
    let mac = text.replacen("\r\n", "\r", 4).replacen('\r', "\r\n", 1);
    assert_same(mac.as_bytes(), SEARCH, &[]);
    // Header only, empty, blank, binary, not an export, a truncated JSON document.
    assert_same(
        b"\"Operation\",\"LastAccessed\",\"ItemSubject\"\r\n",
        SEARCH,
        &[],
    );
    assert_same(b"\"Operation\",\"LastAccessed\"\r\n \r\n\r\n", SEARCH, &[]);
    assert_same(b"", SEARCH, &[]);
    assert_same(b" \r\n\t\n", SEARCH, &[]);
    let mut noise = Vec::new();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..100_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.push((x >> 24) as u8);
    }
    assert_same(&noise, SEARCH, &[]);
    assert_same(b"Name,Email\r\nAda,ada@example.com\r\n", SEARCH, &[]);
    let json = fixture("json/ps7_depth4.json");
    assert_same(&json[..json.len() * 2 / 3], SEARCH, &[]);
    let jsonl = fixture("ual/sua_mailbox.jsonl");
    assert_same(&jsonl[..jsonl.len() - 100], SEARCH, &[]);
}

#[test]
fn stdin_stray_quotes_read_as_files_even_past_the_record_bound() {
    // Quotes cut out of rows 3 and 2000: each broken record runs on over the rows after
    // it (to the next stray quote or the end), far past a small record bound, which
    // follows them without holding them.
    let full = export(5000, true, |i| format!("subject {i}"));
    let mut damaged = Vec::new();
    let mut from = 0;
    for row in [4, 2001] {
        let start = line_start(&full, row);
        damaged.extend_from_slice(&full[from..start]);
        let cut = start + "\"SoftDelete\",\"2017-04-10T00:00:02Z\",\"subj".len();
        damaged.extend_from_slice(&full[start..cut]);
        from = line_start(&full, row + 1);
    }
    damaged.extend_from_slice(&full[from..]);
    assert_same(&damaged, SEARCH, &[]);
    assert_same(&damaged, SEARCH, &[("MBXAUDIT_STDIN_MAX_RECORD", "4096")]);
    // The same without a final line end, and in UTF-16.
    damaged.truncate(damaged.len() - 2);
    assert_same(&damaged, SEARCH, &[("MBXAUDIT_STDIN_MAX_RECORD", "4096")]);
    assert_same(
        &utf16le(&damaged, true),
        SEARCH,
        &[("MBXAUDIT_STDIN_MAX_RECORD", "10000")],
    );
}

#[test]
fn stdin_a_record_longer_than_the_bound_is_told_apart() {
    // The one difference: a well-formed record that runs on past the bound is not held,
    // and is counted as malformed with a message saying why.
    let mut bytes = export(3, true, |i| format!("s{i}"));
    bytes.extend_from_slice(b"\"SoftDelete\",\"2017-04-11T00:00:00Z\",\"");
    bytes.extend_from_slice(&b"long line\r\n".repeat(1000));
    bytes.extend_from_slice(b"\",\"Owner\",\"id-long\"\r\n");
    let dir = tempdir();
    let env = [
        ("MBXAUDIT_STDIN_MAX_RECORD", "4096"),
        ("MBXAUDIT_STDIN_WINDOW", "1000"),
    ];
    let csv = mbxaudit_run(dir.path(), &["search", "--stdout", "-"], Some(&bytes), &env);
    csv.expect_code(1).expect_stderr(
        "<stdin>:5: this record is longer than 4096 bytes, more than is held when reading a \
         stream (standard input or a pipe), so it is counted as malformed: save the input to \
         a file and read the file to have it read",
    );
    assert_eq!(report_rows(&csv.stdout).len(), 3);
    // A JSON line likewise; the lines after it are read.
    let lines = fixture("ual/sua_mailbox.jsonl");
    let mut bytes = lines.clone();
    bytes.extend_from_slice(format!("{{\"x\": \"{}\"}}\n", "y".repeat(10_000)).as_bytes());
    bytes.extend_from_slice(&lines);
    let dir = tempdir();
    let run_json = |b: &[u8]| mbxaudit_run(dir.path(), &["search", "--stdout", "-"], Some(b), &env);
    let whole = run_json(&lines);
    let long = run_json(&bytes);
    long.expect_code(1).expect_stderr(
        "<stdin>:11: this line is longer than 4096 bytes, more than is held when reading a \
         stream (standard input or a pipe), so it is counted as malformed",
    );
    // The same events twice: the second copy is all duplicates.
    assert_eq!(long.stdout, whole.stdout);
    assert!(long.stderr.contains("duplicate"), "{}", long.stderr);
}

#[test]
fn stdin_is_hashed_for_the_manifest() {
    let bytes = fixture("legacy/utf16le.csv");
    let dir = tempdir();
    let env = [("MBXAUDIT_STDIN_WINDOW", "100")];
    let args = ["search", "--stdout", "--manifest", "m.json", "-"];
    mbxaudit_run(dir.path(), &args, Some(&bytes), &env).expect_code(0);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("m.json")).unwrap()).unwrap();
    let input = &m["inputs"][0];
    assert_eq!(input["origin"], "stdin");
    assert_eq!(input["size"], bytes.len() as u64);
    assert_eq!(input["sha256"], mbxaudit::hash::sha256_hex(&bytes));
    assert!(input["sha256_note"].is_null());
}

/// A folder holding `bytes` as `file.csv` and a named pipe `pipe`.
#[cfg(unix)]
fn pipe_beside_file(bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempdir();
    let c = std::ffi::CString::new(dir.path().join("pipe").to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    std::fs::write(dir.path().join("file.csv"), bytes).unwrap();
    dir
}

/// Runs mbxaudit in `dir` while another thread writes `bytes` into its pipe.
#[cfg(unix)]
fn run_writing_pipe(
    dir: &std::path::Path,
    bytes: &[u8],
    args: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let fifo = dir.join("pipe");
    std::thread::scope(|s| {
        let writer = s.spawn(|| std::fs::write(&fifo, bytes));
        let got = mbxaudit_run(dir, args, None, env);
        // Should the run not have opened the pipe, a reader that does not block frees
        // the writer (the fixture fits in the pipe's buffer).
        use std::os::unix::fs::OpenOptionsExt;
        let _unblock = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo);
        let _ = writer.join();
        got
    })
}

#[cfg(unix)]
#[test]
fn stdin_named_pipes_stream_too() {
    let bytes = fixture("legacy/multiline_fields.csv");
    let dir = pipe_beside_file(&bytes);
    let want = mbxaudit_run(
        dir.path(),
        &["search", "--stdout", "--manifest", "f.json", "file.csv"],
        None,
        &[],
    );
    let args = ["search", "--stdout", "--manifest", "m.json", "pipe"];
    let got = run_writing_pipe(
        dir.path(),
        &bytes,
        &args,
        &[("MBXAUDIT_STDIN_WINDOW", "64")],
    );
    got.expect_code(0);
    assert_eq!(got.stdout, want.stdout);
    let got_err = got
        .stderr
        .replace("pipe", "file.csv")
        .replace("m.json", "f.json");
    assert_eq!(got_err, want.stderr);
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("m.json")).unwrap()).unwrap();
    assert_eq!(m["inputs"][0]["sha256"], mbxaudit::hash::sha256_hex(&bytes));
}

/// A named pipe beside a file: nothing but the stream reader opens the pipe (a look at
/// the inputs' headers before the run once did, and took the writer's bytes or waited for
/// it), so its rows are all read, and the file's copy of them counts as duplicates.
#[cfg(unix)]
#[test]
fn a_named_pipe_beside_a_file_is_read_once() {
    let bytes = fixture("legacy/multiline_fields.csv");
    let dir = pipe_beside_file(&bytes);
    let want = mbxaudit_run(dir.path(), &["search", "--stdout", "file.csv"], None, &[]);
    let got = run_writing_pipe(
        dir.path(),
        &bytes,
        &["search", "--stdout", "pipe", "file.csv"],
        &[],
    );
    got.expect_code(0);
    assert_eq!(got.stdout, want.stdout, "{}", got.stderr);
    assert!(got.stderr.contains("duplicate"), "{}", got.stderr);
}

/// The peak resident memory (`VmHWM`, bytes) of process `pid`'s own memory, watched
/// until it exits. (`wait4`'s `ru_maxrss` will not do: a child started with `vfork`, as
/// `Command` starts it, is charged the test process's own peak before its `exec`.)
#[cfg(target_os = "linux")]
fn watch_peak(pid: u32, field: &str) -> u64 {
    let mut peak = 0;
    while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
        let Some(hwm) = status.lines().find_map(|l| l.strip_prefix(field)) else {
            break; // exited: a zombie has no memory left
        };
        let kib: u64 = hwm
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .unwrap_or(0);
        peak = peak.max(kib * 1024);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    peak
}

/// Pipes `total` bytes of generated export into `mbxaudit search` from a thread: rows
/// the default rules drop (FolderBind), and one kept row every `keep_every`. Returns
/// the exit code, stderr, report and peak resident memory in bytes.
#[cfg(target_os = "linux")]
fn pipe_measured(total: usize, keep_every: usize) -> (i32, String, Vec<u8>, u64) {
    pipe_measured_as(total, keep_every, false, "VmHWM:")
}

/// [`pipe_measured`], as a CSV export or a JSON document (an array of the same events),
/// watching the `/proc/PID/status` line `field`.
#[cfg(target_os = "linux")]
fn pipe_measured_as(
    total: usize,
    keep_every: usize,
    json: bool,
    field: &'static str,
) -> (i32, String, Vec<u8>, u64) {
    use std::io::Read;
    let dir = tempdir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mbxaudit"))
        .args(["search", "--stdout", "-"])
        .current_dir(dir.path())
        .env_clear()
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mbxaudit");
    let pid = child.id();
    let mut pipe = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let (out, err, peak) = std::thread::scope(|s| {
        let peak = s.spawn(move || watch_peak(pid, field));
        s.spawn(move || {
            let header = match json {
                true => "[\r\n",
                false => {
                    "\"Operation\",\"LastAccessed\",\"FolderPathName\",\"LogonType\",\
                     \"Identity\"\r\n"
                }
            };
            pipe.write_all(header.as_bytes()).expect("write");
            let mut block = String::new();
            let mut written = header.len();
            let mut row = 0usize;
            while written < total {
                block.clear();
                while block.len() < 1 << 20 {
                    let op = if row.is_multiple_of(keep_every) {
                        "SoftDelete"
                    } else {
                        "FolderBind"
                    };
                    let (m, sec) = (row / 60 % 60, row % 60);
                    block.push_str(&match json {
                        true => format!(
                            "{}{{\"Operation\":\"{op}\",\"LastAccessed\":\"2017-04-10T10:{m:02}:\
                             {sec:02}Z\",\"FolderPathName\":\"\\\\Inbox\\\\folder {row}\",\
                             \"LogonType\":0,\"Identity\":\"id-{row:010}\"}}\r\n",
                            if row == 0 { "" } else { "," }
                        ),
                        false => format!(
                            "\"{op}\",\"2017-04-10T10:{m:02}:{sec:02}Z\",\"\\Inbox\\folder {row}\",\
                             \"Owner\",\"id-{row:010}\"\r\n"
                        ),
                    });
                    row += 1;
                }
                pipe.write_all(block.as_bytes()).expect("write");
                written += block.len();
            }
            if json {
                pipe.write_all(b"]\r\n").expect("write");
            }
        });
        let out = s.spawn(move || {
            let mut out = Vec::new();
            stdout.read_to_end(&mut out).expect("read stdout");
            out
        });
        let mut err = String::new();
        stderr.read_to_string(&mut err).expect("read stderr");
        let out = out.join().expect("stdout reader");
        let code = child.wait().expect("wait").code().unwrap_or(-1);
        ((code, out), err, peak.join().expect("memory watch"))
    });
    (out.0, err, out.1, peak)
}

#[cfg(target_os = "linux")]
#[test]
fn stdin_streams_in_bounded_memory() {
    const TOTAL: usize = 200 << 20;
    let started = std::time::Instant::now();
    let (code, stderr, out, rss) = pipe_measured(TOTAL, 100_000);
    let took = started.elapsed();
    assert_eq!(code, 0, "{stderr}");
    let rows = report_rows(&out);
    assert!(rows.len() > 15, "{} rows kept; {stderr}", rows.len());
    assert!(stderr.contains("FolderBind"), "{stderr}");
    eprintln!(
        "piped {} MB: peak RSS {} MB, {took:?}",
        TOTAL >> 20,
        rss >> 20
    );
    assert!(
        rss < 100 << 20,
        "peak RSS {} MB for {} MB piped",
        rss >> 20,
        TOTAL >> 20
    );
    assert!(took.as_secs() < 30, "took {took:?}");
}

/// A JSON document (which cannot be cut into windows) is spooled to a temporary file and
/// mapped: the heap (anonymous memory) stays bounded; the mapped pages are page cache.
#[cfg(target_os = "linux")]
#[test]
fn stdin_json_document_spools_in_bounded_memory() {
    const TOTAL: usize = 150 << 20;
    let (code, stderr, out, anon) = pipe_measured_as(TOTAL, 100_000, true, "RssAnon:");
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("FolderBind"), "{stderr}");
    let rows = report_rows(&out);
    assert!(rows.len() > 10, "{} rows kept; {stderr}", rows.len());
    eprintln!(
        "piped a {} MB JSON document: peak anonymous memory {} MB",
        TOTAL >> 20,
        anon >> 20
    );
    assert!(anon < 100 << 20, "peak anonymous memory {} MB", anon >> 20);
}
