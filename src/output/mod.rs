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
//! target that is an input (through any link or spelling), that is not a regular file
//! (a directory, a device such as `/dev/null`, a FIFO), or that exists (without `--force`).
//! A symbolic link as the target is never followed: `--force` replaces the link itself,
//! and the file it pointed to is left alone.

pub mod atomic;
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

pub use atomic::write_atomic;

/// Where an output goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Stdout,
    File { path: PathBuf, force: bool },
}

/// Refuses a target that is one of the inputs (also through a symbolic or hard link),
/// that is not a regular file or a symbolic link, or that exists (without `force`).
pub fn check_target(path: &Path, force: bool, inputs: &[&Path]) -> Result<()> {
    // Looked at before anything is opened: opening a FIFO would block.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        bail!(
            "'{}' exists and is not a regular file (a directory, a device or a pipe); \
             choose a file name with -o, or --stdout",
            path.display()
        );
    }
    for input in inputs {
        // Only a regular file can be the output; opening a pipe to compare would take
        // bytes meant for the scan (or block).
        if std::fs::metadata(input).is_ok_and(|m| !m.is_file()) {
            continue;
        }
        if same_file::is_same_file(path, input).unwrap_or(false) {
            bail!(
                "'{}': the output is also an input; refusing to overwrite evidence. Choose another -o",
                path.display()
            );
        }
    }
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let kind = meta.file_type();
    if kind.is_symlink() {
        if !force {
            let to = std::fs::read_link(path)
                .map(|t| format!(" (to '{}')", t.display()))
                .unwrap_or_default();
            bail!(
                "'{}' is a symbolic link{to}; it is not followed: use --force to replace the \
                 link itself (its target is left alone), or -o to choose another name",
                path.display()
            );
        }
    } else if !kind.is_file() {
        bail!(
            "'{}' exists and is not a regular file (a directory, a device or a pipe); \
             choose a file name with -o, or --stdout",
            path.display()
        );
    } else if !force {
        bail!(
            "'{}' already exists; use --force to replace it, or -o to choose another name",
            path.display()
        );
    }
    Ok(())
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
