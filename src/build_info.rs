//! Which build is running, so that a report can be tied to the exact program that made it
//! (`mbxaudit --version`, and the `tool` and `run` sections of `--manifest`).
//!
//! `build.rs` records the commit and whether the source differed from it ("dirty"), the
//! build date (`SOURCE_DATE_EPOCH` when set), the target, the profile and the compiler;
//! this module reads them back ([`build`]). At run time it adds what only the running
//! process knows: the executable's path and SHA-256 ([`executable`]) and the instruction
//! set the CSV scanner uses on this processor ([`csv_scanner`], from
//! [`Isa::detect`](crate::input::structural::Isa::detect)).

use std::io::Read;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::input::structural::Isa;

/// What `build.rs` recorded about this build.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Build {
    /// The git commit (full hex), or `unknown`.
    pub commit: &'static str,
    /// Whether `src/`, `build.rs`, `Cargo.toml` or `Cargo.lock` differed from the commit
    /// when the binary was built (a source bundle: when it was made); null when unknown.
    pub dirty: Option<bool>,
    /// Where the commit was read: `git`, `BUILD-SOURCE` (a source bundle) or `none`.
    pub commit_from: &'static str,
    /// ISO 8601 UTC.
    pub build_date: &'static str,
    /// `SOURCE_DATE_EPOCH` (reproducible builds) or `build time`.
    pub build_date_from: &'static str,
    /// The target triple, e.g. `x86_64-unknown-linux-gnu`.
    pub target: &'static str,
    /// `release` (also for profiles that inherit it, such as `dist`) or `debug`.
    pub profile: &'static str,
    /// The compiler, as `rustc --version` printed it.
    pub rustc: &'static str,
}

/// This build, as `build.rs` recorded it.
pub fn build() -> Build {
    Build {
        commit: env!("MBXAUDIT_COMMIT"),
        dirty: match env!("MBXAUDIT_DIRTY") {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        commit_from: env!("MBXAUDIT_COMMIT_FROM"),
        build_date: env!("MBXAUDIT_BUILD_DATE"),
        build_date_from: env!("MBXAUDIT_BUILD_DATE_FROM"),
        target: env!("MBXAUDIT_TARGET"),
        profile: env!("MBXAUDIT_PROFILE"),
        rustc: env!("MBXAUDIT_RUSTC"),
    }
}

/// The running executable: where it is and the SHA-256 of its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Executable {
    /// `std::env::current_exe`, or null when the system cannot say.
    pub path: Option<String>,
    /// Lower-case hex, or null (then `sha256_note` says why).
    pub sha256: Option<String>,
    pub sha256_note: Option<String>,
}

/// Finds and hashes the running executable. On Linux the bytes are read through
/// `/proc/self/exe`, which is the running image even if the file at `path` has been
/// replaced or deleted since the process started.
pub fn executable() -> Executable {
    let path = std::env::current_exe();
    let image = if cfg!(target_os = "linux") && Path::new("/proc/self/exe").exists() {
        Ok(Path::new("/proc/self/exe").to_path_buf())
    } else {
        path.as_ref()
            .map(|p| p.to_path_buf())
            .map_err(|e| format!("cannot locate the running executable: {e}"))
    };
    let hashed = image.and_then(|p| {
        sha256_file(&p).map_err(|e| format!("cannot read '{}' to hash it: {e}", p.display()))
    });
    Executable {
        path: path.ok().map(|p| p.display().to_string()),
        sha256: hashed.as_ref().ok().cloned(),
        sha256_note: hashed.err(),
    }
}

/// The SHA-256 of a file's bytes, as lower-case hex, read in 64 KiB pieces.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The name of an instruction set, as `--version` and the manifest print it.
pub fn isa_name(isa: Isa) -> &'static str {
    match isa {
        Isa::Avx512 => "AVX-512BW",
        Isa::Avx2 => "AVX2",
        Isa::Baseline if cfg!(target_arch = "x86_64") => "SSE2 (x86-64 baseline)",
        Isa::Baseline => "portable code (no SIMD)",
    }
}

/// The instruction set the CSV scanner uses in this process, and whether `MBXAUDIT_ISA`
/// chose a lower one than the processor has.
pub fn csv_scanner() -> String {
    let (used, best) = (Isa::detect(), Isa::best());
    if used == best {
        isa_name(used).to_string()
    } else {
        format!(
            "{} (lowered by MBXAUDIT_ISA; this processor has {})",
            isa_name(used),
            isa_name(best)
        )
    }
}

/// `mbxaudit --version`: the version, then one line per fact. The executable is hashed
/// only when `--version` is on the command line: clap builds this text on every run, and
/// the other runs should not read the whole binary for nothing.
pub fn long_version() -> String {
    let asked = std::env::args_os().skip(1).any(|a| a == "--version");
    long_version_text(&build(), asked.then(executable).as_ref())
}

fn long_version_text(b: &Build, exe: Option<&Executable>) -> String {
    let state = match b.dirty {
        Some(false) => "clean",
        Some(true) => "modified: the source differed from this commit",
        None => "modified or not: unknown",
    };
    let commit = match b.commit_from {
        "git" => format!("{} ({state}; from git)", b.commit),
        "none" => "unknown (built without git or a BUILD-SOURCE file)".to_string(),
        from => format!("{} ({state}; from {from})", b.commit),
    };
    let mut text = format!(
        "{}\ncommit:      {commit}\nbuilt:       {} ({})\ntarget:      {} ({} profile)\n\
         compiler:    {}\n",
        env!("CARGO_PKG_VERSION"),
        b.build_date,
        b.build_date_from,
        b.target,
        b.profile,
        b.rustc,
    );
    if let Some(exe) = exe {
        let path = exe.path.as_deref().unwrap_or("(unknown)");
        let sha = match (&exe.sha256, &exe.sha256_note) {
            (Some(sha), _) => sha.clone(),
            (None, note) => note.clone().unwrap_or_default(),
        };
        text.push_str(&format!("executable:  {path}\nsha256:      {sha}\n"));
    }
    text.push_str(&format!("CSV scanner: {} (this machine)", csv_scanner()));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_facts_are_recorded() {
        let b = build();
        assert!(
            b.commit == "unknown"
                || (b.commit.len() >= 40 && b.commit.bytes().all(|c| c.is_ascii_hexdigit())),
            "{}",
            b.commit
        );
        assert!(["git", "BUILD-SOURCE", "none"].contains(&b.commit_from));
        assert!(["SOURCE_DATE_EPOCH", "build time"].contains(&b.build_date_from));
        let d = b.build_date.as_bytes();
        assert!(
            d.len() == 20 && d[10] == b'T' && d[19] == b'Z',
            "{}",
            b.build_date
        );
        assert!(b.target.starts_with(std::env::consts::ARCH), "{}", b.target);
        assert!(b.rustc.starts_with("rustc "), "{}", b.rustc);
    }

    #[test]
    fn version_text_names_every_fact() {
        let b = Build {
            commit: "0123456789abcdef0123456789abcdef01234567",
            dirty: Some(true),
            commit_from: "BUILD-SOURCE",
            build_date: "2024-02-29T12:34:56Z",
            build_date_from: "SOURCE_DATE_EPOCH",
            target: "x86_64-unknown-linux-gnu",
            profile: "release",
            rustc: "rustc 1.89.0",
        };
        let exe = Executable {
            path: Some("/opt/mbxaudit".into()),
            sha256: Some("ab".repeat(32)),
            sha256_note: None,
        };
        let text = long_version_text(&b, Some(&exe));
        for needle in [
            "0123456789abcdef0123456789abcdef01234567 (modified",
            "from BUILD-SOURCE",
            "built:       2024-02-29T12:34:56Z (SOURCE_DATE_EPOCH)",
            "target:      x86_64-unknown-linux-gnu (release profile)",
            "executable:  /opt/mbxaudit",
            "sha256:      abab",
            "CSV scanner: ",
        ] {
            assert!(text.contains(needle), "{needle:?} in\n{text}");
        }
        assert!(text.starts_with(env!("CARGO_PKG_VERSION")));
        let short = long_version_text(&b, None);
        assert!(!short.contains("sha256"));
    }

    #[test]
    fn executable_is_hashed_as_its_file() {
        let exe = executable();
        let path = exe.path.expect("a path");
        assert_eq!(exe.sha256_note, None);
        assert_eq!(
            exe.sha256.as_deref(),
            sha256_file(Path::new(&path)).ok().as_deref()
        );
    }

    #[test]
    fn each_isa_has_a_name() {
        for isa in [Isa::Baseline, Isa::Avx2, Isa::Avx512] {
            assert!(!isa_name(isa).is_empty());
        }
        assert!(csv_scanner().starts_with(isa_name(Isa::detect())));
    }
}
