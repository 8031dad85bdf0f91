//! Walking a directory: every entry is read or named with why it is not (issue 12).

#![cfg(unix)]

use std::path::Path;

use crate::util::{fixture, mbxaudit_in, tempdir};

fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

#[test]
fn links_loops_and_fifos_are_named_and_the_export_is_read() {
    let dir = tempdir();
    let evidence = dir.path().join("evidence");
    std::fs::create_dir(&evidence).unwrap();
    std::fs::write(
        evidence.join("a_export.csv"),
        fixture("legacy/basic_en-US.csv"),
    )
    .unwrap();
    std::os::unix::fs::symlink("missing.csv", evidence.join("b_dangling.csv")).unwrap();
    std::os::unix::fs::symlink("c_loop", evidence.join("c_loop")).unwrap();
    mkfifo(&evidence.join("d_pipe"));
    std::os::unix::fs::symlink(".", evidence.join("e_dirlink")).unwrap();
    std::os::unix::fs::symlink("a_export.csv", evidence.join("f_filelink.csv")).unwrap();

    let run = mbxaudit_in(
        dir.path(),
        &["search", "-o", "r.csv", "--manifest", "auto", "evidence"],
        None,
    );
    // The export is read twice (itself and through the link to it): one report, its
    // rows de-duplicated.
    run.expect_code(0)
        .expect_stderr("read evidence/a_export.csv: Search-MailboxAuditLog CSV")
        .expect_stderr("read evidence/f_filelink.csv: Search-MailboxAuditLog CSV")
        .expect_stderr(
            "skipped evidence/b_dangling.csv: a dangling symbolic link (to 'missing.csv')",
        )
        .expect_stderr("skipped evidence/c_loop: a symbolic link loop")
        .expect_stderr("skipped evidence/d_pipe: a named pipe (FIFO)")
        .expect_stderr("skipped evidence/e_dirlink: a symbolic link to a directory: not followed");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.csv.manifest.json")).unwrap())
            .unwrap();
    let inputs = manifest["inputs"].as_array().unwrap();
    let status = |name: &str| {
        inputs
            .iter()
            .find(|i| i["path"] == format!("evidence/{name}"))
            .map(|i| {
                (
                    i["status"].as_str().unwrap().to_string(),
                    i["reason"].clone(),
                )
            })
            .unwrap_or_else(|| panic!("{name} not in the manifest: {inputs:#?}"))
    };
    assert_eq!(status("a_export.csv").0, "read");
    for name in ["b_dangling.csv", "c_loop", "d_pipe", "e_dirlink"] {
        let (s, reason) = status(name);
        assert_eq!(s, "skipped", "{name}");
        assert!(reason.is_string(), "{name}: {reason}");
    }
}

#[test]
fn a_folder_with_nothing_readable_says_what_it_passed_over() {
    let dir = tempdir();
    std::os::unix::fs::symlink("missing.csv", dir.path().join("gone.csv")).unwrap();
    let run = mbxaudit_in(dir.path(), &["search", "--stdout", "."], None);
    run.expect_code(2)
        .expect_stderr("no input files found in '.'; passed over:")
        .expect_stderr("gone.csv: a dangling symbolic link");
}
