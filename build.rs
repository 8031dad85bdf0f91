//! Records which build this is, for `mbxaudit --version` and the `--manifest` record
//! (`src/build_info.rs` reads what this script sets):
//!
//! - the commit and whether the files the binary is made from (`src/`, `build.rs`,
//!   `Cargo.toml`, `Cargo.lock`) differed from it ("dirty"): from `git` when the package
//!   root holds a `.git`, else from `BUILD-SOURCE`, which `scripts/bundle-offline` writes
//!   into a source bundle (a build from the bundle still names its commit), else unknown;
//! - the build date: `SOURCE_DATE_EPOCH` when set (reproducible builds), else now;
//! - the target triple, the profile (`release` or `debug`) and the compiler's version.
//!
//! No build dependencies: `git` and `rustc` are run as programs, and a missing `git` is not
//! an error (the commit is then "unknown", with a warning). Cargo reruns this script only
//! when the inputs of its answer change: the source paths above, `BUILD-SOURCE`, the git
//! `HEAD`, the branch it points to (loose or packed) and `SOURCE_DATE_EPOCH`, so an
//! unchanged tree is not rebuilt. The git index is deliberately not watched: `git status`
//! rewrites it without changing anything this script reports.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// The paths the binary is built from: "dirty" means one of them differs from the commit.
const SOURCE_PATHS: [&str; 4] = ["src", "build.rs", "Cargo.toml", "Cargo.lock"];

/// The file `scripts/bundle-offline` writes into a source bundle.
const BUILD_SOURCE: &str = "BUILD-SOURCE";

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    for path in SOURCE_PATHS {
        println!("cargo::rerun-if-changed={path}");
    }
    if root.join(BUILD_SOURCE).exists() {
        println!("cargo::rerun-if-changed={BUILD_SOURCE}");
    }
    println!("cargo::rerun-if-env-changed=SOURCE_DATE_EPOCH");

    let origin = from_git(&root)
        .or_else(|| from_build_source(&root))
        .unwrap_or_else(|| {
            println!(
                "cargo::warning=mbxaudit: no commit recorded (no .git with a working `git`, \
                 no {BUILD_SOURCE}); --version and manifests will say \"unknown\""
            );
            Origin {
                commit: "unknown".into(),
                dirty: "unknown",
                from: "none",
            }
        });
    println!("cargo::rustc-env=MBXAUDIT_COMMIT={}", origin.commit);
    println!("cargo::rustc-env=MBXAUDIT_DIRTY={}", origin.dirty);
    println!("cargo::rustc-env=MBXAUDIT_COMMIT_FROM={}", origin.from);

    let (date, date_from) = build_date();
    println!("cargo::rustc-env=MBXAUDIT_BUILD_DATE={date}");
    println!("cargo::rustc-env=MBXAUDIT_BUILD_DATE_FROM={date_from}");

    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| "unknown".into());
    println!("cargo::rustc-env=MBXAUDIT_TARGET={}", var("TARGET"));
    println!("cargo::rustc-env=MBXAUDIT_PROFILE={}", var("PROFILE"));
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let rustc_version = run(Command::new(rustc).arg("--version"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo::rustc-env=MBXAUDIT_RUSTC={rustc_version}");
}

/// Where the commit came from, and the dirty flag (`true`, `false` or `unknown`).
struct Origin {
    commit: String,
    dirty: &'static str,
    from: &'static str,
}

/// The commit and dirty flag from `git`, when the package root is a git checkout (a `.git`
/// directory, or the `.git` file of a worktree) and `git` answers. Also asks Cargo to rerun
/// this script when HEAD or the branch moves.
fn from_git(root: &Path) -> Option<Origin> {
    if !root.join(".git").exists() {
        return None;
    }
    let commit = git(root, &["rev-parse", "--verify", "HEAD"])?;
    let commit = commit.trim().to_string();
    if !is_hex(&commit) {
        return None;
    }
    let mut status = vec!["status", "--porcelain", "--"];
    status.extend(SOURCE_PATHS);
    let dirty = if git(root, &status)?.trim().is_empty() {
        "false"
    } else {
        "true"
    };
    // A commit moves the branch (a loose ref, or packed-refs in a fresh clone, where the
    // loose file appears on the first commit: watch its directory then); a checkout moves
    // HEAD. The paths come from git itself, so worktrees (`.git` is a file) work too.
    let git_path =
        |p: &str| git(root, &["rev-parse", "--git-path", p]).map(|out| root.join(out.trim()));
    let mut watch: Vec<PathBuf> = ["HEAD", "packed-refs"]
        .iter()
        .filter_map(|p| git_path(p))
        .collect();
    if let Some(branch) = git(root, &["symbolic-ref", "-q", "HEAD"]) {
        if let Some(loose) = git_path(branch.trim()) {
            match loose.parent() {
                Some(dir) if !loose.exists() => watch.push(dir.to_path_buf()),
                _ => watch.push(loose),
            }
        }
    }
    // A watched path that does not exist would make Cargo rerun this script every time.
    for path in watch.iter().filter(|p| p.exists()) {
        println!("cargo::rerun-if-changed={}", path.display());
    }
    Some(Origin {
        commit,
        dirty,
        from: "git",
    })
}

/// The commit and dirty flag from `BUILD-SOURCE` (`commit=HEX` and `dirty=true|false`
/// lines; `#` starts a comment).
fn from_build_source(root: &Path) -> Option<Origin> {
    let text = std::fs::read_to_string(root.join(BUILD_SOURCE)).ok()?;
    let value = |key: &str| {
        text.lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .find_map(|l| l.split_once('=').filter(|(k, _)| k.trim() == key))
            .map(|(_, v)| v.trim().to_string())
    };
    let commit = value("commit").filter(|c| is_hex(c));
    let dirty = match value("dirty").as_deref() {
        Some("true") => "true",
        Some("false") => "false",
        _ => "unknown",
    };
    match commit {
        Some(commit) => Some(Origin {
            commit,
            dirty,
            from: BUILD_SOURCE,
        }),
        None => {
            println!(
                "cargo::warning=mbxaudit: {BUILD_SOURCE} has no valid `commit=` line; the \
                 commit is recorded as unknown"
            );
            None
        }
    }
}

/// A full object name: 40 (SHA-1) or 64 (SHA-256) hex digits.
fn is_hex(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `git -C root ARGS`, never taking optional locks (so `status` does not rewrite the
/// index), with the caller's GIT_DIR and friends removed (this checkout is the one asked
/// about). `None` when git is missing or fails.
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let mut cmd = Command::new("git");
    cmd.arg("--no-optional-locks")
        .arg("-C")
        .arg(root)
        .args(args);
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
    ] {
        cmd.env_remove(var);
    }
    run(&mut cmd)
}

fn run(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()
}

/// The build date as ISO 8601 UTC, and where it came from.
fn build_date() -> (String, &'static str) {
    if let Ok(value) = std::env::var("SOURCE_DATE_EPOCH") {
        // The reproducible-builds specification: a malformed value must fail the build.
        let Ok(secs) = value.trim().parse::<i64>() else {
            eprintln!(
                "SOURCE_DATE_EPOCH={value:?} is not a number of seconds since 1970-01-01 UTC; \
                 set it to one (e.g. `git log -1 --format=%ct`) or unset it"
            );
            std::process::exit(1);
        };
        return (iso_utc(secs), "SOURCE_DATE_EPOCH");
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    (iso_utc(now), "build time")
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (Howard Hinnant's civil_from_days;
/// no date crate at build time).
fn iso_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}
