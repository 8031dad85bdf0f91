//! `search --manifest`: a JSON record of one run, so that a report can be checked later
//! (in a case file, by the other side's expert) against the evidence it came from.
//!
//! It holds what the report must not: the tool's version and build (commit, dirty flag,
//! build date, target, the executable's SHA-256: [`crate::build_info`]), the command line,
//! when the run started and ended, on how many threads and with which CSV scanner (all
//! under `run`), and for each input its
//! path, size and SHA-256, how it was read (format, encoding, day/month order and how it
//! was chosen, time zone), its rows and its funnel; then the totals and the report's own
//! size and SHA-256. The report holds no timestamp, so two runs of the same command on the
//! same inputs give the same report byte for byte, and manifests that differ only under
//! `run`.
//!
//! The inputs are hashed from their memory maps, on rayon workers, while the scan reads
//! the same files ([`hash_inputs`] runs beside it): the pages come from disk once. A file
//! that changes while it is hashed stops the run, as it does when the scan sees it.
//!
//! Paths are written losslessly ([`crate::diag::path_text`]: on Unix, bytes that are not
//! UTF-8 as `\xHH`, a backslash doubled), so that each hash belongs to exactly one file;
//! an input whose path is not valid UTF-8 also has its exact bytes as hex (`path_bytes`). The
//! report is hashed as it is written ([`HashingWriter`]), so its digest is that of the
//! bytes renamed into place. SHA-256 is RustCrypto's `sha2` (SHA-NI where the CPU has it):
//! no hand-rolled cryptography.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use crate::hash::{sha256_hex, HashingWriter, Written};

use crate::diag::{path_text, Diag};
use crate::hash::hex;
use crate::input::{self, Origin};
use crate::output::Target;
use crate::pipeline::{FileOutcome, FileStatus, Outcome};
use crate::summary::Funnel;

/// Resolves `--manifest`: `auto` is `<report name>.manifest.json` beside the report.
pub fn resolve_path(arg: PathBuf, target: &Target) -> Result<PathBuf> {
    let path = match target {
        Target::File { path, .. } if arg.as_os_str() == "auto" => {
            let mut name = path.as_os_str().to_owned();
            name.push(".manifest.json");
            PathBuf::from(name)
        }
        Target::Stdout if arg.as_os_str() == "auto" => bail!(
            "--manifest auto writes the manifest beside the report file; with --stdout, name \
             it: --manifest FILE"
        ),
        _ => arg,
    };
    if let Target::File { path: report, .. } = target {
        if same_place(&path, report) {
            bail!(
                "--manifest '{}' is the report itself; choose another name (or auto)",
                path.display()
            );
        }
    }
    Ok(path)
}

/// True when `a` and `b` name the same file, existing or not (same name in the same
/// directory, through any spelling of it).
pub fn same_place(a: &Path, b: &Path) -> bool {
    if same_file::is_same_file(a, b).unwrap_or(false) {
        return true;
    }
    let dir = |p: &Path| {
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf())
    };
    a.file_name() == b.file_name() && dir(a).components().eq(dir(b).components())
}

/// The current time, for `run.started` and `run.finished`.
pub fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// One input's SHA-256, or why there is none.
#[derive(Clone, Debug)]
pub struct InputHash {
    pub origin: Origin,
    pub hashed: std::result::Result<Written, String>,
}

/// Hashes the inputs' bytes as mapped (files in parallel). Streams (standard input,
/// pipes) are read once, by the scan, which hashes them as it reads them
/// ([`crate::pipeline::FileOutcome::sha256`]). An error when a file changed while it was
/// hashed: its hash would belong to no version of it.
pub fn hash_inputs(origins: &[Origin]) -> Result<Vec<InputHash>> {
    origins
        .par_iter()
        .map(|origin| {
            let hashed = match origin {
                _ if input::stream::is_stream(origin) => Err("a stream is read once, by the \
                                                             scan, which could not hash it"
                    .into()),
                _ => match input::load(origin) {
                    Ok(bytes) => {
                        let sha256 = hex(&Sha256::digest(&*bytes));
                        if let Some(why) = bytes.changed() {
                            bail!("'{}' {why}", origin.display());
                        }
                        Ok(Written {
                            bytes: bytes.len() as u64,
                            sha256,
                        })
                    }
                    Err(e) => Err(format!("{e:#}")),
                },
            };
            Ok(InputHash {
                origin: origin.clone(),
                hashed,
            })
        })
        .collect()
}

/// What the manifest says about the run itself: everything that may differ between two
/// runs of the same job.
pub struct RunInfo {
    pub started: String,
    pub finished: String,
    pub threads: usize,
}

/// How the search read and wrote, for the `settings` section.
#[derive(Serialize)]
pub struct SettingsInfo {
    /// Times written without an offset are read in this zone.
    pub time_zone: String,
    /// `--date-order`, or null when each file's dates decide.
    pub date_order: Option<&'static str>,
    /// `--encoding`, or null when detected.
    pub encoding: Option<String>,
    pub strict: bool,
    /// The rules in force, in the order they are applied.
    pub rules: Vec<String>,
    pub report_format: String,
    pub columns: String,
    pub time_format: String,
    pub newest_first: bool,
    pub expand_items: bool,
    pub raw_cells: bool,
    /// `--geoip` databases: what each is and when it was built (answers depend on it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub geoip: Vec<GeoDb>,
    /// `--ip-list`: the file, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_list: Option<String>,
}

/// One `--geoip` database, for the manifest.
#[derive(Serialize)]
pub struct GeoDb {
    pub path: String,
    pub database_type: String,
    /// When the database was built (UTC).
    pub built: String,
    /// Lookups that met a damaged record (they gave nothing).
    pub lookup_errors: u64,
}

impl GeoDb {
    pub fn of(db: &crate::enrich::DbInfo) -> GeoDb {
        GeoDb {
            path: db.path.display().to_string(),
            database_type: db.database_type.clone(),
            built: i64::try_from(db.build_epoch)
                .ok()
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                .map_or_else(String::new, |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            lookup_errors: db.lookup_errors,
        }
    }
}

/// The report as written.
pub struct ReportInfo<'a> {
    /// `None`: standard output.
    pub path: Option<&'a Path>,
    pub written: Written,
    /// Lines of the report (one per record, or per message with --expand-items).
    pub lines: u64,
}

#[derive(Serialize)]
struct Document<'a> {
    manifest: &'static str,
    tool: Tool,
    run: Run,
    settings: &'a SettingsInfo,
    inputs: Vec<Input>,
    totals: Totals,
    report: Report,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
    /// Commit, dirty flag, build date, target, profile, compiler.
    #[serde(flatten)]
    build: crate::build_info::Build,
    /// The running binary's path and SHA-256.
    executable: crate::build_info::Executable,
}

#[derive(Serialize)]
struct Run {
    command_line: Vec<String>,
    working_directory: Option<String>,
    started: String,
    finished: String,
    threads: usize,
    /// The CSV scanner's instruction set on this machine.
    csv_scanner: String,
}

#[derive(Serialize)]
struct Input {
    /// Lossless ([`path_text`]).
    path: String,
    /// The path's bytes in hex, when they are not valid UTF-8 (else null).
    path_bytes: Option<String>,
    absolute_path: Option<String>,
    /// named (on the command line), walked (found in a named directory), stdin.
    origin: &'static str,
    /// Bytes read by the scan.
    size: u64,
    sha256: Option<String>,
    /// Why there is no SHA-256, or a warning about it.
    sha256_note: Option<String>,
    /// read, skipped (not an export, found in a directory) or rejected (an error).
    status: &'static str,
    reason: Option<String>,
    format: Option<String>,
    encoding: Option<String>,
    date_order: Option<&'static str>,
    date_order_chosen_by: Option<&'static str>,
    time_zone: Option<String>,
    rows_read: u64,
    funnel: Totals,
    malformed: Diags,
    warnings: Vec<String>,
    row_warnings: Diags,
}

#[derive(Serialize)]
struct Totals {
    #[serde(flatten)]
    funnel: Funnel,
    written: u64,
}

#[derive(Serialize)]
struct Diags {
    total: u64,
    /// The first ones, as printed.
    first: Vec<Line>,
}

#[derive(Serialize)]
struct Line {
    line: u64,
    message: String,
}

#[derive(Serialize)]
struct Report {
    path: String,
    absolute_path: Option<String>,
    bytes: u64,
    sha256: String,
    lines: u64,
    records: u64,
}

fn totals(c: &crate::funnel::Counts) -> Totals {
    Totals {
        funnel: Funnel::from_counts(c),
        written: c.written(),
    }
}

fn diags(list: &crate::diag::DiagList) -> Diags {
    Diags {
        total: list.total,
        first: list
            .first
            .iter()
            .map(|Diag { line, message }| Line {
                line: *line,
                message: message.clone(),
            })
            .collect(),
    }
}

/// The absolute path of `path`, links resolved; for a file not yet in place (the report,
/// renamed there when the run's outputs are committed), that of its directory and its name.
fn absolute(path: &Path) -> Option<String> {
    let resolved = std::fs::canonicalize(path).ok().or_else(|| {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(path.file_name()?))
    })?;
    Some(path_text(&resolved))
}

/// The bytes of `path` in hex when they are not valid UTF-8.
fn path_bytes(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let bytes = path.as_os_str().as_bytes();
        std::str::from_utf8(bytes).is_err().then(|| hex(bytes))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

fn input(f: &FileOutcome, hashes: &[InputHash], settings: &SettingsInfo) -> Input {
    let hash = hashes.iter().find(|h| h.origin == f.origin);
    let (sha256, sha256_note) = match hash.map(|h| &h.hashed) {
        // A stream, hashed by the scan as it read it: what was read is what was hashed.
        _ if f.sha256.is_some() => (f.sha256.clone(), None),
        Some(Ok(w)) if w.bytes == f.size || matches!(f.status, FileStatus::Rejected(_)) => {
            (Some(w.sha256.clone()), None)
        }
        Some(Ok(w)) => (
            Some(w.sha256.clone()),
            Some(format!(
                "the file changed during the run: {} bytes hashed, {} bytes read by the scan",
                w.bytes, f.size
            )),
        ),
        Some(Err(why)) => (None, Some(why.clone())),
        None if matches!(f.status, FileStatus::Skipped(_)) => (
            None,
            Some("not read (passed over when its folder was walked)".into()),
        ),
        None => (
            None,
            Some("not hashed (not found when the run began)".into()),
        ),
    };
    let (status, reason) = match &f.status {
        FileStatus::Read { .. } => ("read", None),
        FileStatus::Skipped(why) => ("skipped", Some(why.clone())),
        FileStatus::Rejected(why) => ("rejected", Some(why.clone())),
    };
    let (format, encoding, date_order, chosen_by, time_zone) = match &f.status {
        FileStatus::Read {
            format,
            encoding,
            date_order,
        } => {
            let zone = if format.starts_with("Unified Audit Log") {
                "UTC (CreationTime)".to_string()
            } else {
                settings.time_zone.clone()
            };
            (
                Some(format.clone()),
                Some(encoding.clone()),
                date_order.map(|(o, _)| o.label()),
                date_order.map(|(_, how)| how),
                Some(zone),
            )
        }
        _ => (None, None, None, None, None),
    };
    let path = f.origin.path();
    Input {
        path: f.origin.display(),
        path_bytes: path.and_then(path_bytes),
        absolute_path: path.and_then(absolute),
        origin: match f.origin {
            Origin::Named(_) => "named",
            Origin::Walked(_) => "walked",
            Origin::Stdin => "stdin",
        },
        size: f.size,
        sha256,
        sha256_note,
        status,
        reason,
        format,
        encoding,
        date_order,
        date_order_chosen_by: chosen_by,
        time_zone,
        rows_read: f.counts.read,
        funnel: totals(&f.counts),
        malformed: diags(&f.malformed),
        warnings: f.warnings.clone(),
        row_warnings: diags(&f.row_warnings),
    }
}

/// The manifest of a finished search, as JSON (pretty, LF, final newline).
pub fn render(
    run: &RunInfo,
    settings: &SettingsInfo,
    outcome: &Outcome,
    hashes: &[InputHash],
    report: &ReportInfo<'_>,
) -> Result<Vec<u8>> {
    let doc = Document {
        manifest: "mbxaudit run manifest, version 1",
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            build: crate::build_info::build(),
            executable: crate::build_info::executable(),
        },
        run: Run {
            // Each argument as typed; one that is not valid UTF-8 in the lossless form.
            command_line: std::env::args_os()
                .map(|a| match a.to_str() {
                    Some(text) => text.to_string(),
                    None => path_text(Path::new(&a)),
                })
                .collect(),
            working_directory: std::env::current_dir().ok().map(|d| path_text(&d)),
            started: run.started.clone(),
            finished: run.finished.clone(),
            threads: run.threads,
            csv_scanner: crate::build_info::csv_scanner(),
        },
        settings,
        inputs: outcome
            .files
            .iter()
            .map(|f| input(f, hashes, settings))
            .collect(),
        totals: totals(&outcome.totals),
        report: Report {
            path: report.path.map_or("<stdout>".into(), path_text),
            absolute_path: report.path.and_then(absolute),
            bytes: report.written.bytes,
            sha256: report.written.sha256.clone(),
            lines: report.lines,
            records: outcome.totals.written(),
        },
    };
    let mut out = serde_json::to_vec_pretty(&doc)?;
    out.push(b'\n');
    Ok(out)
}

/// Inputs whose bytes changed between hashing and scanning, for a warning.
pub fn changed_inputs(outcome: &Outcome, hashes: &[InputHash]) -> Vec<String> {
    outcome
        .files
        .iter()
        .filter(|f| !matches!(f.status, FileStatus::Rejected(_)))
        .filter(|f| {
            hashes
                .iter()
                .find(|h| h.origin == f.origin)
                .is_some_and(|h| matches!(&h.hashed, Ok(w) if w.bytes != f.size))
        })
        .map(|f| f.origin.display())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_beside_the_report() {
        let target = Target::File {
            path: PathBuf::from("out/AuditLogResults170427_101500.csv"),
            force: false,
        };
        assert_eq!(
            resolve_path("auto".into(), &target).unwrap(),
            PathBuf::from("out/AuditLogResults170427_101500.csv.manifest.json")
        );
        assert!(resolve_path("auto".into(), &Target::Stdout).is_err());
        assert!(resolve_path("out/./AuditLogResults170427_101500.csv".into(), &target).is_err());
        assert_eq!(
            resolve_path("m.json".into(), &Target::Stdout).unwrap(),
            PathBuf::from("m.json")
        );
    }
}
