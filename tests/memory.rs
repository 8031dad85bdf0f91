//! Issue 11: the rows kept for the report stay within `--memory-limit`; beyond it they go
//! to temporary files in sorted runs, merged as the report is written — and the report is
//! the same bytes as without spilling, whatever goes to disk: duplicates across runs,
//! `--newest-first`, full columns, `--expand-items`, standard input, one or two threads,
//! and day-first dates proved only after rows were already on disk.

use std::fmt::Write as _;

use crate::util::*;

/// A legacy export of `n` events (`first..first + n`) with Identity, culture dates
/// (month-first, or day-first), ties in time, quotes, line breaks and non-ASCII in
/// subjects, a spread of operations and logon types.
fn export(first: usize, n: usize, day_first: bool, days: &dyn Fn(usize) -> u32) -> Vec<u8> {
    let mut s = String::from(
        "\u{feff}\"Operation\",\"LogonType\",\"LogonUserDisplayName\",\"ClientIPAddress\",\
         \"MailboxResolvedOwnerName\",\"ItemSubject\",\"FolderPathName\",\"LastAccessed\",\
         \"Identity\"\r\n",
    );
    for i in first..first + n {
        let op = ["MessageBind", "SoftDelete", "FolderBind", "SendAs", "Move"][i % 5];
        let logon = ["Owner", "Delegate", "Admin", "Transport"][i % 4];
        let day = days(i);
        let (hour, minute) = (i / 60 % 24, i % 60);
        let date = if day_first {
            format!("{day}/4/2017 {hour}:{minute:02}:00")
        } else {
            format!(
                "4/{day}/2017 {}:{minute:02}:00 {}",
                (hour + 11) % 12 + 1,
                if hour < 12 { "AM" } else { "PM" }
            )
        };
        let subject = match i % 7 {
            0 => format!("Résumé {i} with \"\"quotes\"\""),
            1 => format!("two\r\nlines {i}"),
            2 => String::new(),
            _ => format!("Message {}", i / 3),
        };
        let _ = write!(
            s,
            "\"{op}\",\"{logon}\",\"User {}\",\"203.0.113.{}\",\"CONTOSO\\\\m{}\",\"{subject}\",\
             \"\\\\Inbox\",\"{date}\",\"id-{i}\"\r\n",
            i % 9,
            i % 13,
            i % 3
        );
    }
    s.into_bytes()
}

const SPILLED: &str = "outgrew --memory-limit";

#[test]
fn spilled_reports_are_the_same_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let temp = tempfile::tempdir().expect("temp dir for runs");
    let temp_arg = temp.path().to_str().expect("utf-8 path");
    // Two overlapping exports: events 2,000..3,000 are in both (duplicates).
    let every_day = |i: usize| (i / 97 % 28 + 1) as u32;
    std::fs::write(
        dir.path().join("a.csv"),
        export(0, 3_000, false, &every_day),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.csv"),
        export(2_000, 2_500, false, &every_day),
    )
    .unwrap();
    for args in [
        &[][..],
        &["--newest-first"],
        &[
            "--columns",
            "full",
            "--format",
            "jsonl",
            "--include-folder-bind",
        ],
        &[
            "--logon-types",
            "all",
            "--include-folder-bind",
            "--newest-first",
            "--format",
            "timesketch",
        ],
    ] {
        let mut base = vec!["search", "--stdout", "a.csv", "b.csv"];
        base.extend_from_slice(args);
        let want = mbxaudit_run(dir.path(), &base, None, &[]);
        want.expect_code(0);
        assert!(!want.stderr.contains(SPILLED), "{}", want.stderr);
        assert!(want.stderr.contains("duplicate entries"), "{}", want.stderr);
        for threads in ["1", "2"] {
            let mut spilled = base.clone();
            spilled.extend([
                "--memory-limit",
                "16K",
                "--temp-dir",
                temp_arg,
                "-j",
                threads,
            ]);
            let got = mbxaudit_run(dir.path(), &spilled, None, &[]);
            got.expect_code(0).expect_stderr(SPILLED);
            assert!(
                got.stdout == want.stdout,
                "{args:?} -j {threads}: the report differs when spilled"
            );
            let funnel = |r: &Run| r.stderr[r.stderr.find("Funnel").unwrap_or(0)..].to_string();
            assert_eq!(funnel(&got), funnel(&want), "{args:?}");
        }
    }
    // Nothing is left in the temporary directory.
    assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 0);
}

/// The binary formats (issue 13) are written from the same kept rows: spilled, the same
/// bytes.
#[test]
fn workbooks_and_parquet_spill_alike() {
    let dir = tempfile::tempdir().expect("temp dir");
    let every_day = |i: usize| (i / 97 % 28 + 1) as u32;
    std::fs::write(
        dir.path().join("a.csv"),
        export(0, 2_000, false, &every_day),
    )
    .unwrap();
    for format in ["xlsx", "parquet"] {
        let base = [
            "search",
            "--stdout",
            "--columns",
            "full",
            "--format",
            format,
            "a.csv",
        ];
        let want = mbxaudit_run(dir.path(), &base, None, &[]);
        want.expect_code(0);
        assert!(!want.stdout.is_empty(), "{format}");
        assert!(!want.stderr.contains(SPILLED), "{}", want.stderr);
        let mut spilled = base.to_vec();
        spilled.extend(["--memory-limit", "16K"]);
        let got = mbxaudit_run(dir.path(), &spilled, None, &[]);
        got.expect_code(0).expect_stderr(SPILLED);
        assert!(
            got.stdout == want.stdout,
            "{format}: the file differs when spilled"
        );
    }
}

#[test]
fn expanded_items_spill_alike() {
    let fixture = testdata("ual/mailitemsaccessed_throttled.csv");
    let f = fixture.to_str().expect("utf-8 path");
    let args = [
        "search",
        "--stdout",
        "--expand-items",
        "--logon-types",
        "all",
        "--include-folder-bind",
        f,
    ];
    let want = mbxaudit(&args);
    want.expect_code(0);
    let mut spilled = args.to_vec();
    spilled.extend(["--memory-limit", "1"]);
    let got = mbxaudit(&spilled);
    got.expect_code(0).expect_stderr(SPILLED);
    assert!(
        got.stdout == want.stdout,
        "expanded rows differ when spilled"
    );
}

#[test]
fn piped_and_spilled_is_the_file_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bytes = export(0, 4_000, false, &|i| (i / 150 % 28 + 1) as u32);
    std::fs::write(dir.path().join("in.csv"), &bytes).unwrap();
    let want = mbxaudit_run(dir.path(), &["search", "--stdout", "in.csv"], None, &[]);
    want.expect_code(0);
    let got = mbxaudit_run(
        dir.path(),
        &["search", "--stdout", "--memory-limit", "32K", "-"],
        Some(&bytes),
        &[("MBXAUDIT_STDIN_WINDOW", "20000")],
    );
    got.expect_code(0).expect_stderr(SPILLED);
    assert!(
        got.stdout == want.stdout,
        "piped and spilled differs from the file"
    );
}

/// A day-first export whose dates prove nothing (days 1–12) until its last rows: piped in
/// small windows with a tiny memory limit, rows go to disk month-first before the proof
/// arrives, and are read back and sorted again once it does.
#[test]
fn day_first_proved_late_is_sorted_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let n = 3_000;
    let days = move |i: usize| {
        if i + 20 >= n {
            20
        } else {
            (i / 30 % 12 + 1) as u32
        }
    };
    let bytes = export(0, n, true, &days);
    std::fs::write(dir.path().join("in.csv"), &bytes).unwrap();
    let want = mbxaudit_run(
        dir.path(),
        &["search", "--stdout", "--logon-types", "all", "in.csv"],
        None,
        &[],
    );
    want.expect_code(0)
        .expect_stderr("dates day/month/year (proved by the dates)");
    let got = mbxaudit_run(
        dir.path(),
        &[
            "search",
            "--stdout",
            "--logon-types",
            "all",
            "--memory-limit",
            "8K",
            "-",
        ],
        Some(&bytes),
        &[("MBXAUDIT_STDIN_WINDOW", "10000")],
    );
    got.expect_code(0).expect_stderr(SPILLED);
    assert!(
        got.stdout == want.stdout,
        "late day-first proof: the spilled report differs"
    );
    // And the same with the order given.
    let given = mbxaudit_run(
        dir.path(),
        &[
            "search",
            "--stdout",
            "--logon-types",
            "all",
            "--date-order",
            "dmy",
            "--memory-limit",
            "8K",
            "in.csv",
        ],
        None,
        &[],
    );
    assert!(given.stdout == want.stdout);
}

#[test]
fn memory_options_are_checked() {
    let f = testdata("legacy/basic_en-US.csv");
    let f = f.to_str().expect("utf-8 path");
    mbxaudit(&["search", "--stdout", "--memory-limit", "lots", f])
        .expect_code(2)
        .expect_stderr("is not a size");
    mbxaudit(&["search", "--stdout", "--temp-dir", "/nonexistent/dir", f])
        .expect_code(2)
        .expect_stderr("--temp-dir");
    mbxaudit(&["summary", "--memory-limit", "64M", f]).expect_code(0);
}
