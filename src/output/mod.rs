//! Everything mbxaudit writes goes through here: where it goes ([`Target`]), whether that
//! place may be written ([`check_target`]), and how ([`atomic`] files, or standard
//! output through a large buffer). The writers themselves are one module per output:
//! [`rows`] (the rows `search` writes, one [`rows::RowWriter`] per format), [`summary`]
//! (the summary's tables as text or CSV), [`findings`] (triage's findings as text, JSON
//! or CSV) and [`html`] (the `report` page); [`workbook`] writes the summary, the findings
//! and the report as Excel workbooks, on [`sheet`] (what every workbook shares, also used
//! by `search --format xlsx`). [`cells`] is the one CSV line writer, with the Excel-safe
//! rule; [`text_table`] aligns text tables for a terminal.
//!
//! Output safety: the paths written are only those the user chose (`-o`, `--manifest`,
//! the default `AuditLogResults<time>` name, the summary's fixed table names in `-o DIR`);
//! nothing read from an input ever becomes part of a path. [`check_target`] refuses a
//! target that is an input (through any link or spelling), that is standard input when
//! it is read, that is not a regular file (a directory, a device such as `/dev/null`, a
//! FIFO), or that exists (without `--force`). The outputs of one run are staged before the
//! inputs are read and committed together at the end ([`atomic`]).
//! A symbolic link as the target is never followed: `--force` replaces the link itself,
//! and the file it pointed to is left alone.

pub mod atomic;
pub mod background;
pub mod cells;
pub mod findings;
pub mod html;
pub mod rows;
pub mod sheet;
pub mod summary;
pub mod text_table;
pub mod workbook;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::diag::sanitize;
use crate::input::Origin;

pub use atomic::{write_atomic, Outputs, Staged};

/// Where an output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Stdout,
    File { path: PathBuf, force: bool },
}

/// An output file a run will write, as the user chose it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputFile {
    pub path: PathBuf,
    /// `--force`: an existing file may be replaced.
    pub force: bool,
    /// The option that names it (`-o`, `--manifest`, `--html`), for messages.
    pub option: &'static str,
    /// Create its directory when missing (`summary --format csv -o DIR`); removed again
    /// if the run writes nothing.
    pub create_dir: bool,
}

/// Refuses a target that is one of the inputs (also through a symbolic or hard link),
/// that is standard input when standard input is read (`search - -o ev.csv < ev.csv`,
/// compared by device and inode), that is not a regular file or a symbolic link, or that
/// exists (without `force`). `--force` changes none of that but the last.
pub fn check_target(out: &OutputFile, inputs: &[Origin]) -> Result<()> {
    let (path, option) = (out.path.as_path(), out.option);
    let shown = || sanitize(&path.display().to_string());
    // Looked at before anything is opened: opening a FIFO would block.
    let meta = std::fs::metadata(path);
    if meta.as_ref().is_ok_and(|m| !m.is_file()) {
        bail!(
            "'{}' exists and is not a regular file (a directory, a device or a pipe); \
             choose a file name with {option}, or --stdout",
            shown()
        );
    }
    if meta.is_ok() && inputs.contains(&Origin::Stdin) && is_stdin(path) {
        bail!(
            "'{}' is also standard input, which is read as evidence; refusing to overwrite \
             it, with --force or not. Choose another name with {option}",
            shown()
        );
    }
    for input in inputs.iter().filter_map(Origin::path) {
        // Only a regular file can be the output; opening a pipe to compare would take
        // bytes meant for the scan (or block).
        if std::fs::metadata(input).is_ok_and(|m| !m.is_file()) {
            continue;
        }
        if same_file::is_same_file(path, input).unwrap_or(false) {
            bail!(
                "'{}': the output is also an input; refusing to overwrite evidence. Choose \
                 another name with {option}",
                shown()
            );
        }
    }
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let kind = meta.file_type();
    if kind.is_symlink() {
        if !out.force {
            let to = std::fs::read_link(path)
                .map(|t| format!(" (to '{}')", sanitize(&t.display().to_string())))
                .unwrap_or_default();
            bail!(
                "'{}' is a symbolic link{to}; it is not followed: use --force to replace the \
                 link itself (its target is left alone), or choose another name with {option}",
                shown()
            );
        }
    } else if !kind.is_file() {
        bail!(
            "'{}' exists and is not a regular file (a directory, a device or a pipe); \
             choose a file name with {option}, or --stdout",
            shown()
        );
    } else if !out.force {
        bail!(
            "'{}' already exists; use --force to replace it, or choose another name with \
             {option}",
            shown()
        );
    }
    Ok(())
}

/// True when `path` is the file standard input reads (same device and inode).
fn is_stdin(path: &Path) -> bool {
    match (
        same_file::Handle::stdin(),
        same_file::Handle::from_path(path),
    ) {
        (Ok(stdin), Ok(file)) => stdin == file,
        _ => false,
    }
}

/// The directory of a file target, where writers may keep unnamed temporary files (beside
/// the atomic write's own); `None` for standard output.
pub fn temp_dir(target: &Target) -> Option<&Path> {
    match target {
        Target::File { path, .. } => Some(match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }),
        Target::Stdout => None,
    }
}

/// Writes to stdout through a large buffer (unlocked, so that the writer is `Send`: the
/// buffer takes the lock once per megabyte).
pub fn write_stdout(
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout());
    write(&mut out)
        .and_then(|()| out.flush())
        .context("<stdout>")?;
    Ok(())
}
