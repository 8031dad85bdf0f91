//! The air-gapped route (issue 17), end to end, as docs/install.md ("Air-gapped install") tells
//! a responder: `scripts/bundle-offline` writes the source bundle and its `.sha256`; the
//! bundle is unpacked in a temporary directory and built there with
//! `cargo build --release --offline --frozen`, the network forbidden
//! (`CARGO_NET_OFFLINE=true`) and `CARGO_HOME` and `HOME` empty, so that nothing but the
//! toolchain (found through `RUSTUP_HOME`) and the bundle can be used. The binary it
//! builds must name the bundle's commit (from `BUILD-SOURCE`: the bundle has no `.git`)
//! and give the README's main job the same report and messages as the binary under test.
//!
//! Ignored by a plain `cargo test`: vendoring needs crates.io (the crates of other
//! platforms are never in the local cache), and the release build takes minutes. `.ci/run`
//! runs it: `cargo test --release --test integration -- --ignored offline_bundle`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value;

use crate::build_info::{git_state, version_fields};
use crate::util::*;

/// 2024-02-29T12:34:56Z: a leap day with every field non-zero, for `SOURCE_DATE_EPOCH`.
const EPOCH: &str = "1709210096";

/// The README's main job (without its report name, which holds the time).
const MAIN_JOB: [&str; 10] = [
    "search",
    "--mailbox",
    "test1@contoso.com",
    "--start-date",
    "04/10/17",
    "--end-date",
    "04/27/17",
    "testdata/legacy/rps_overlap_a.csv",
    "testdata/legacy/rps_overlap_b.csv",
    "testdata/legacy/semicolon_de-DE.csv",
];

/// Runs `cmd`, failing the test with its output when it fails.
fn check(cmd: &mut Command, what: &str) -> std::process::Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs an mbxaudit binary in `dir` with a clean environment (TZ pinned to UTC).
fn run_binary(bin: &Path, dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("TZ", "UTC")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Where rustup keeps the toolchains: `RUSTUP_HOME`, else `~/.rustup` when it exists.
fn rustup_home() -> Option<PathBuf> {
    std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .or_else(|| {
            let home = PathBuf::from(std::env::var_os("HOME")?).join(".rustup");
            home.is_dir().then_some(home)
        })
}

/// Runs the main job with `bin` from `src` (the inputs as the README names them), the
/// report and manifest written to `out`; returns the run, the report and the manifest,
/// with `out` replaced by `<out>` in the messages.
fn main_job(bin: &Path, src: &Path, out: &Path) -> (Run, Vec<u8>, Value) {
    std::fs::create_dir_all(out).expect("create the output directory");
    let report = out.join("AuditLogResults.csv");
    let report_arg = report.to_str().expect("utf-8 path");
    let mut args = MAIN_JOB.to_vec();
    args.extend(["-o", report_arg, "--manifest", "auto"]);
    let mut run = run_binary(bin, src, &args);
    run.stderr = run
        .stderr
        .replace(out.to_str().expect("utf-8 path"), "<out>");
    let bytes = std::fs::read(&report).unwrap_or_default();
    let manifest = std::fs::read(out.join("AuditLogResults.csv.manifest.json"))
        .ok()
        .and_then(|m| serde_json::from_slice(&m).ok())
        .unwrap_or(Value::Null);
    (run, bytes, manifest)
}

#[test]
#[ignore = "needs crates.io and a release build (minutes); .ci/run runs it"]
fn offline_bundle_builds_with_the_toolchain_alone() {
    let tmp = tempdir();
    let name = format!("mbxaudit-{}", env!("CARGO_PKG_VERSION"));
    let archive_name = format!("{name}-src.tar.gz");

    // On the connected machine: the bundle and its checksum file.
    let outdir = tmp.path().join("carry");
    check(
        Command::new("bash")
            .arg(root().join("scripts/bundle-offline"))
            .arg(&outdir)
            .current_dir(root()),
        "scripts/bundle-offline",
    );
    let archive = outdir.join(&archive_name);
    let archive_bytes = std::fs::read(&archive).expect("the bundle");
    eprintln!("bundle: {} bytes", archive_bytes.len());
    let sums = std::fs::read_to_string(outdir.join(format!("{archive_name}.sha256")))
        .expect("the .sha256 file");
    assert_eq!(
        sums,
        format!(
            "{}  {archive_name}\n",
            mbxaudit::hash::sha256_hex(&archive_bytes)
        )
    );

    // On the air-gapped machine: unpack, and build with the toolchain alone.
    let airgap = tmp.path().join("airgap");
    let (home, cargo_home) = (tmp.path().join("home"), tmp.path().join("cargo-home"));
    for dir in [&airgap, &home, &cargo_home] {
        std::fs::create_dir_all(dir).expect("create a temporary directory");
    }
    check(
        Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .current_dir(&airgap),
        "tar -xzf",
    );
    let src = airgap.join(&name);
    assert!(!src.join(".git").exists(), "the bundle holds no .git");
    let build_source =
        std::fs::read_to_string(src.join("BUILD-SOURCE")).expect("BUILD-SOURCE in the bundle");
    let config = std::fs::read_to_string(src.join(".cargo/config.toml")).expect("config");
    assert!(
        config.contains("replace-with = \"vendored-sources\""),
        "{config}"
    );
    assert!(src.join("vendor").is_dir());

    let mut build = Command::new(env!("CARGO"));
    build
        .args(["build", "--release", "--offline", "--frozen"])
        .current_dir(&src)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("CARGO_HOME", &cargo_home)
        .env("CARGO_NET_OFFLINE", "true")
        .env("SOURCE_DATE_EPOCH", EPOCH);
    if let Some(dir) = rustup_home() {
        build.env("RUSTUP_HOME", dir);
    }
    if let Some(toolchain) = std::env::var_os("RUSTUP_TOOLCHAIN") {
        build.env("RUSTUP_TOOLCHAIN", toolchain);
    }
    let started = Instant::now();
    check(
        &mut build,
        "cargo build --release --offline --frozen in the bundle",
    );
    eprintln!(
        "offline release build of the bundle: {:.0} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        !cargo_home.join("registry").exists(),
        "the offline build downloaded crates into CARGO_HOME"
    );
    let bin = src
        .join("target/release/mbxaudit")
        .with_extension(std::env::consts::EXE_EXTENSION);

    // It names the bundle's commit and the date it was given.
    let version = run_binary(&bin, &src, &["--version"]);
    version.expect_code(0);
    let text = String::from_utf8_lossy(&version.stdout);
    eprintln!("the bundle's binary, --version:\n{text}");
    let (_, f) = version_fields(&text);
    assert!(f["commit"].ends_with("from BUILD-SOURCE)"), "{f:?}");
    assert_eq!(f["built"], "2024-02-29T12:34:56Z (SOURCE_DATE_EPOCH)");
    if let Some((head, dirty)) = git_state(&root()) {
        assert!(f["commit"].starts_with(&head), "{f:?}");
        assert!(build_source.contains(&format!("commit={head}\ndirty={dirty}\n")));
        let state = if dirty { "(modified" } else { "(clean;" };
        assert!(f["commit"].contains(state), "{f:?}");
    }

    // The README's main job: the same report and messages as the binary under test.
    let tested = Path::new(env!("CARGO_BIN_EXE_mbxaudit"));
    let (want_run, want_report, _) = main_job(tested, &root(), &tmp.path().join("out-tested"));
    let (got_run, got_report, manifest) = main_job(&bin, &src, &tmp.path().join("out-bundle"));
    want_run
        .expect_code(0)
        .expect_stderr("16 entries in the report.")
        .expect_stderr("16  = rows written");
    got_run.expect_code(0);
    assert_eq!(got_run.stderr, want_run.stderr);
    assert!(!want_report.is_empty() && got_report == want_report);
    let tool = &manifest["tool"];
    assert_eq!(tool["commit_from"], "BUILD-SOURCE");
    assert_eq!(tool["build_date"], "2024-02-29T12:34:56Z");
    assert_eq!(
        tool["executable"]["sha256"],
        mbxaudit::hash::sha256_hex(&std::fs::read(&bin).expect("the bundle's binary"))
    );
}
