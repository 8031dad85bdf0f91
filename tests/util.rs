//! Test helpers: run the binary hermetically, compare with golden files.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root, where `testdata/` lives.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testdata(rel: &str) -> PathBuf {
    root().join("testdata").join(rel)
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing stderr when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code; stderr:\n{}", self.stderr);
        self
    }

    pub fn expect_stderr(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}; stderr:\n{}",
            self.stderr
        );
        self
    }
}

/// Runs `mbxaudit ARGS` in `dir` with a clean environment (TZ pinned to UTC).
pub fn mbxaudit_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    mbxaudit_run(dir, args, stdin, &[])
}

/// Runs `search --columns full --format jsonl --stdout ARGS` in `dir`: the run, and each
/// row written as a JSON object (keys: the column names).
pub fn full_rows_in(dir: &Path, args: &[&str]) -> (Run, Vec<serde_json::Value>) {
    let mut full = vec![
        "search",
        "--columns",
        "full",
        "--format",
        "jsonl",
        "--stdout",
    ];
    full.extend_from_slice(args);
    let run = mbxaudit_in(dir, &full, None);
    let rows = std::str::from_utf8(&run.stdout)
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    (run, rows)
}

/// [`mbxaudit_in`] with `env` added to the clean environment.
pub fn mbxaudit_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    mbxaudit_run(dir, args, None, env)
}

/// Runs `mbxaudit ARGS` in `dir` with a clean environment (TZ pinned to UTC) plus `env`;
/// `stdin` is written from a thread, so a large input and a large output cannot block
/// each other, and a child that stops reading early (closing the pipe) is no error.
pub fn mbxaudit_run(dir: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mbxaudit"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("TZ", "UTC")
        .envs(env.iter().copied())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .spawn()
        .expect("run mbxaudit");
    let out = std::thread::scope(|s| {
        if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
            s.spawn(move || {
                use std::io::Write;
                let _ = pipe.write_all(bytes);
            });
        }
        child.wait_with_output().expect("wait for mbxaudit")
    });
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `mbxaudit ARGS` from the repository root.
pub fn mbxaudit(args: &[&str]) -> Run {
    mbxaudit_in(&root(), args, None)
}

/// Compares `actual` with `testdata/golden/NAME`. With `MBXAUDIT_BLESS=1` in the
/// environment, writes the golden file instead (review the diff before committing).
pub fn assert_golden(name: &str, actual: &[u8]) {
    // Outputs may name their inputs (SourceFile): golden files hold `<repo>` instead of
    // the checkout's own path, so they pass from any clone.
    let root = root().to_string_lossy().into_owned();
    let text = String::from_utf8_lossy(actual);
    let normalised;
    let actual = if text.contains(&root) {
        normalised = text.replace(&root, "<repo>").into_bytes();
        &normalised[..]
    } else {
        actual
    };
    let path = testdata("golden").join(name);
    if std::env::var_os("MBXAUDIT_BLESS").is_some() {
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with MBXAUDIT_BLESS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let exp = String::from_utf8_lossy(&expected);
        let act = String::from_utf8_lossy(actual);
        let mut diff = String::new();
        let (e, a): (Vec<_>, Vec<_>) = (exp.split('\n').collect(), act.split('\n').collect());
        for i in 0..e.len().max(a.len()) {
            let (x, y) = (e.get(i), a.get(i));
            if x != y {
                diff.push_str(&format!("line {}:\n- {:?}\n+ {:?}\n", i + 1, x, y));
            }
        }
        panic!(
            "{} differs from the output (MBXAUDIT_BLESS=1 rewrites it):\n{diff}",
            path.display()
        );
    }
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Runs a search writing to a file in a temp dir; returns the run and the report bytes.
pub fn search_to_file(args: &[&str]) -> (Run, Option<Vec<u8>>) {
    let dir = tempdir();
    let out = dir.path().join("report.csv");
    let out_s = out.to_str().expect("utf-8 path").to_string();
    let mut full: Vec<String> = vec!["search".into(), "-o".into(), out_s];
    full.extend(args.iter().map(|a| {
        if a.starts_with("testdata/") {
            root().join(a).to_string_lossy().into_owned()
        } else {
            a.to_string()
        }
    }));
    let refs: Vec<&str> = full.iter().map(String::as_str).collect();
    let run = mbxaudit_in(dir.path(), &refs, None);
    let bytes = std::fs::read(&out).ok();
    // Nothing but the report may be left behind (no temporary files).
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list temp dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|n| n != "report.csv")
        .collect();
    assert!(leftovers.is_empty(), "files left behind: {leftovers:?}");
    (run, bytes)
}

/// The data rows of a CSV report (header dropped), parsed.
pub fn report_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut r = csv::ReaderBuilder::new().from_reader(bytes);
    r.records()
        .map(|rec| {
            rec.expect("report is valid CSV")
                .iter()
                .map(String::from)
                .collect()
        })
        .collect()
}

/// Searches with `args` into a temporary file; the run and the report's rows (none when
/// no report was written).
pub fn rows_of(args: &[&str]) -> (Run, Vec<Vec<String>>) {
    let (run, report) = search_to_file(args);
    let rows = report.map(|r| report_rows(&r)).unwrap_or_default();
    (run, rows)
}

/// Column `i` of every row.
pub fn column(rows: &[Vec<String>], i: usize) -> Vec<&str> {
    rows.iter().map(|r| r[i].as_str()).collect()
}

/// A `Search-MailboxAuditLog | Export-Csv` of `rows` events, fully quoted (as Windows
/// PowerShell writes it), or unquoted (PowerShell 7 `-UseQuotes Never`); CRLF. Every
/// row is kept by the default rules and has its own Identity.
pub fn export(rows: usize, quoted: bool, subject: impl Fn(usize) -> String) -> Vec<u8> {
    let q = |s: &str| {
        if quoted {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let header = [
        "Operation",
        "LastAccessed",
        "ItemSubject",
        "LogonType",
        "Identity",
    ];
    let mut out = header.iter().map(|h| q(h)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for i in 0..rows {
        let time = format!(
            "2017-04-{:02}T{:02}:{:02}:{:02}Z",
            10 + i / 86_400 % 18,
            i / 3600 % 24,
            i / 60 % 60,
            i % 60
        );
        let fields = [
            "SoftDelete".to_string(),
            time,
            subject(i),
            "Owner".to_string(),
            format!("id-{i:08}"),
        ];
        out.push_str(&fields.iter().map(|f| q(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// The bytes of a fixture under `testdata/`.
pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(testdata(rel)).expect("fixture")
}

/// Offset of the start of physical line `line` (1-based).
pub fn line_start(bytes: &[u8], line: usize) -> usize {
    if line == 1 {
        return 0;
    }
    bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .nth(line - 2)
        .map(|(i, _)| i + 1)
        .expect("line exists")
}
