//! Which build made a report (issue 17): `mbxaudit --version` and the manifest name the
//! same commit, dirty flag, build date, target and executable SHA-256, and that hash is
//! the one of the binary file under `target/`. Where the checkout has `.git` and `git`
//! answers (CI's clone does), the commit and dirty flag must be git's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::*;

/// `--version`: its first line, and the others as `key → value`.
pub fn version_fields(text: &str) -> (String, BTreeMap<String, String>) {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().to_string();
    let fields = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    (first, fields)
}

fn sha256_of(path: &Path) -> String {
    mbxaudit::hash::sha256_hex(&std::fs::read(path).expect("read the binary"))
}

/// HEAD and whether the paths the binary is built from differ from it, from `git`, or
/// `None` when the checkout has no `.git` or git does not answer.
pub fn git_state(root: &Path) -> Option<(String, bool)> {
    if !root.join(".git").exists() {
        return None;
    }
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("--no-optional-locks")
            .arg("-C")
            .arg(root)
            .args(args)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "--verify", "HEAD"])?;
    let status = git(&[
        "status",
        "--porcelain",
        "--",
        "src",
        "build.rs",
        "Cargo.toml",
        "Cargo.lock",
    ])?;
    Some((head, !status.is_empty()))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn canonical(path: &str) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn version_names_commit_date_target_and_executable() {
    let run = mbxaudit_env(&root(), &["--version"], &[]);
    run.expect_code(0);
    let text = String::from_utf8(run.stdout).expect("UTF-8");
    let (first, f) = version_fields(&text);
    assert_eq!(first, format!("mbxaudit {}", env!("CARGO_PKG_VERSION")));

    let commit = &f["commit"];
    let sha = commit.split_whitespace().next().unwrap_or_default();
    match git_state(&root()) {
        Some((head, dirty)) => {
            assert_eq!(sha, head, "{text}");
            let state = if dirty { "(modified" } else { "(clean;" };
            assert!(
                commit.contains(state) && commit.ends_with("from git)"),
                "{text}"
            );
        }
        None => assert!(
            sha == "unknown" || sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "{text}"
        ),
    }
    let built = f["built"].as_bytes();
    assert!(
        built.len() > 20 && built[10] == b'T' && built[19] == b'Z',
        "{text}"
    );
    assert!(
        f["target"].starts_with(std::env::consts::ARCH) && f["target"].contains("profile)"),
        "{text}"
    );
    assert!(f["compiler"].starts_with("rustc "), "{text}");
    assert_eq!(
        canonical(&f["executable"]),
        canonical(env!("CARGO_BIN_EXE_mbxaudit"))
    );
    assert_eq!(
        f["sha256"],
        sha256_of(Path::new(env!("CARGO_BIN_EXE_mbxaudit")))
    );
    assert!(f["CSV scanner"].ends_with("(this machine)"), "{text}");
}

#[test]
fn short_version_is_the_version_alone() {
    let run = mbxaudit_env(&root(), &["-V"], &[]);
    run.expect_code(0);
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        format!("mbxaudit {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn manifest_names_the_same_build_as_version() {
    let dir = tempdir();
    let input = testdata("legacy/basic_en-US.csv");
    let args = [
        "search",
        "-o",
        "r.csv",
        "--manifest",
        "auto",
        input.to_str().expect("utf-8 path"),
    ];
    mbxaudit_env(dir.path(), &args, &[]).expect_code(0);
    let m: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.csv.manifest.json")).unwrap())
            .expect("manifest is JSON");
    let tool = &m["tool"];
    let version = mbxaudit_env(dir.path(), &["--version"], &[]);
    let (_, f) = version_fields(&String::from_utf8_lossy(&version.stdout));

    let commit = tool["commit"].as_str().unwrap();
    assert!(f["commit"].starts_with(commit), "{tool}");
    let dirty = match tool["dirty"].as_bool() {
        Some(true) => "(modified",
        Some(false) => "(clean;",
        None => "unknown",
    };
    assert!(f["commit"].contains(dirty), "{tool}");
    assert!(
        f["commit"].contains(tool["commit_from"].as_str().unwrap()),
        "{tool}"
    );
    assert_eq!(
        f["built"],
        format!(
            "{} ({})",
            s(&tool["build_date"]),
            s(&tool["build_date_from"])
        )
    );
    assert_eq!(
        f["target"],
        format!("{} ({} profile)", s(&tool["target"]), s(&tool["profile"]))
    );
    assert_eq!(f["compiler"], tool["rustc"].as_str().unwrap());
    assert_eq!(
        canonical(tool["executable"]["path"].as_str().unwrap()),
        canonical(env!("CARGO_BIN_EXE_mbxaudit"))
    );
    let file_sha = sha256_of(Path::new(env!("CARGO_BIN_EXE_mbxaudit")));
    assert_eq!(tool["executable"]["sha256"], file_sha.as_str());
    assert_eq!(tool["executable"]["sha256_note"], Value::Null);
    assert_eq!(f["sha256"], file_sha);
    assert_eq!(
        f["CSV scanner"],
        format!(
            "{} (this machine)",
            m["run"]["csv_scanner"].as_str().unwrap()
        )
    );
}

#[test]
fn csv_scanner_is_the_one_the_run_uses() {
    let run = mbxaudit_env(&root(), &["--version"], &[("MBXAUDIT_ISA", "baseline")]);
    let (_, f) = version_fields(&String::from_utf8_lossy(&run.stdout));
    let baseline = if cfg!(target_arch = "x86_64") {
        "SSE2 (x86-64 baseline)"
    } else {
        "portable code (no SIMD)"
    };
    assert!(f["CSV scanner"].starts_with(baseline), "{f:?}");
}
