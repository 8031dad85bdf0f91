//! Evidence-grade runs, continued: where a report may be written, and what an interrupted
//! run leaves behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::*;

/// A real export to stand for the evidence: 7 rows in the default report.
const EVIDENCE: &str = "ual/sua_mailbox.csv";
const EVIDENCE_ROWS: usize = 7;

// ---- output safety ----

#[cfg(unix)]
#[test]
fn a_symlinked_output_is_never_followed() {
    use std::os::unix::fs::symlink;
    let dir = tempdir();
    let input = dir.path().join("evidence.csv");
    std::fs::write(&input, fixture(EVIDENCE)).unwrap();
    let before = std::fs::read(&input).unwrap();
    symlink(&input, dir.path().join("to-input.csv")).unwrap();
    for force in [false, true] {
        let mut args = vec!["search", "-o", "to-input.csv", "evidence.csv"];
        if force {
            args.push("--force");
        }
        mbxaudit_in(dir.path(), &args, None)
            .expect_code(2)
            .expect_stderr("the output is also an input");
    }
    // Through a directory input too.
    mbxaudit_in(
        dir.path(),
        &["search", "--force", "-o", "to-input.csv", "."],
        None,
    )
    .expect_code(2)
    .expect_stderr("the output is also an input");
    assert_eq!(std::fs::read(&input).unwrap(), before);

    // A link to some other file: refused, and with --force the link itself is replaced.
    let other = dir.path().join("notes.txt");
    std::fs::write(&other, b"analyst notes").unwrap();
    symlink(&other, dir.path().join("out.csv")).unwrap();
    mbxaudit_in(
        dir.path(),
        &["search", "-o", "out.csv", "evidence.csv"],
        None,
    )
    .expect_code(2)
    .expect_stderr("'out.csv' is a symbolic link (to '")
    .expect_stderr("use --force to replace the link itself (its target is left alone)");
    mbxaudit_in(
        dir.path(),
        &["search", "--force", "-o", "out.csv", "evidence.csv"],
        None,
    )
    .expect_code(0);
    let out = dir.path().join("out.csv");
    assert!(std::fs::symlink_metadata(&out)
        .unwrap()
        .file_type()
        .is_file());
    assert_eq!(
        report_rows(&std::fs::read(&out).unwrap()).len(),
        EVIDENCE_ROWS
    );
    assert_eq!(std::fs::read(&other).unwrap(), b"analyst notes");
    // A dangling link is refused the same way.
    symlink(dir.path().join("nowhere"), dir.path().join("dangling.csv")).unwrap();
    mbxaudit_in(
        dir.path(),
        &["search", "-o", "dangling.csv", "evidence.csv"],
        None,
    )
    .expect_code(2)
    .expect_stderr("is a symbolic link");
}

#[cfg(unix)]
#[test]
fn outputs_that_are_not_regular_files_are_refused() {
    let dir = tempdir();
    std::fs::write(dir.path().join("e.csv"), fixture(EVIDENCE)).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let fifo = std::ffi::CString::new(dir.path().join("pipe").to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    for target in ["sub", "pipe"] {
        for force in [false, true] {
            let mut args = vec!["search", "-o", target, "e.csv"];
            if force {
                args.push("--force");
            }
            mbxaudit_in(dir.path(), &args, None)
                .expect_code(2)
                .expect_stderr("exists and is not a regular file");
        }
    }
    let kind = std::fs::symlink_metadata(dir.path().join("pipe"))
        .unwrap()
        .file_type();
    use std::os::unix::fs::FileTypeExt;
    assert!(kind.is_fifo());
}

#[test]
fn nothing_in_the_input_chooses_where_to_write() {
    // Path-like and terminal-control text in every field a report or a message shows.
    let hostile = |i: usize| format!("../../../tmp/x{i}/\x1b[2J=cmd|' /C calc'!A0");
    let bytes = export(3, true, hostile);
    let dir = tempdir();
    std::fs::create_dir(dir.path().join("work")).unwrap();
    std::fs::write(dir.path().join("work/in.csv"), &bytes).unwrap();
    let run = mbxaudit_in(
        &dir.path().join("work"),
        &[
            "search",
            "--columns",
            "full",
            "-o",
            "r.csv",
            "--manifest",
            "auto",
            "in.csv",
        ],
        None,
    );
    run.expect_code(0);
    assert!(!run.stderr.contains('\x1b'), "terminal text escaped");
    let mut names: Vec<String> = walk(dir.path());
    names.sort();
    assert_eq!(
        names,
        ["work/in.csv", "work/r.csv", "work/r.csv.manifest.json"]
    );
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(
                    p.strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    out
}

// ---- interrupted runs ----

/// Interrupts a run while its report is being written (once its temporary file exists):
/// the run exits 130 and leaves neither the report nor the temporary file.
#[cfg(unix)]
#[test]
fn sigint_leaves_no_half_written_report() {
    let dir = tempdir();
    let mut rows = 150_000;
    let mut caught_writing = false;
    for _ in 0..4 {
        std::fs::write(
            dir.path().join("big.csv"),
            export(rows, true, |i| {
                format!("{i} {}", "subject text ".repeat(20))
            }),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_mbxaudit"))
            .args([
                "search",
                "-q",
                "--columns",
                "full",
                "-o",
                "r.csv",
                "big.csv",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run mbxaudit");
        let started = std::time::Instant::now();
        let tmp_seen = loop {
            if tmp_files(dir.path()) > 0 {
                break true;
            }
            if child.try_wait().unwrap().is_some() || started.elapsed().as_secs() > 60 {
                break false;
            }
            std::thread::sleep(std::time::Duration::from_micros(200));
        };
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        // SAFETY: signalling our own child, which has not been waited for yet.
        unsafe { libc::kill(pid, libc::SIGINT) };
        let status = child.wait().unwrap();
        let report = dir.path().join("r.csv");
        if tmp_seen && !report.exists() {
            assert_eq!(status.code(), Some(130), "{status:?}");
            assert_eq!(tmp_files(dir.path()), 0, "temporary file left behind");
            caught_writing = true;
            break;
        }
        // Finished before the signal: a complete report. Try again, bigger.
        assert_eq!(tmp_files(dir.path()), 0);
        std::fs::remove_file(&report).unwrap();
        rows *= 2;
    }
    assert!(caught_writing, "never interrupted while writing");
    let names: Vec<String> = walk(dir.path());
    assert_eq!(names, ["big.csv"]);

    // Interrupted while reading: nothing written either.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mbxaudit"))
        .args(["search", "-q", "-o", "r.csv", "big.csv"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(30));
    // SAFETY: as above.
    unsafe { libc::kill(libc::pid_t::try_from(child.id()).unwrap(), libc::SIGINT) };
    let status = child.wait().unwrap();
    if status.success() {
        std::fs::remove_file(dir.path().join("r.csv")).unwrap(); // too fast a machine
    } else {
        assert!(matches!(status.code(), Some(130) | None), "{status:?}");
    }
    assert_eq!(walk(dir.path()), ["big.csv"]);
}

fn tmp_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .count()
}
