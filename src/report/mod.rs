//! The report: which columns, in which order, and how it reaches its file.
//!
//! Columns are a [`Column`] enum; a profile is a static slice of them ([`SCRIPT`] is the
//! seed script's 15, [`FULL`] every normalised field plus the row's provenance). A
//! [`Layout`] holds what every writer needs besides the rows (columns, time format, the
//! inputs' names for `SourceFile`), and [`lines`] walks the rows as the report writes
//! them (one line per message with `--expand-items`). One module per output format:
//! [`csv`], [`json`] (JSON and JSON Lines), [`table`] (aligned for a terminal) and
//! [`timesketch`].
//!
//! Files are written to a temporary file beside the target and renamed into place, so a
//! report is either complete or absent, never half-written; an existing file is replaced
//! only when asked. The temporary file being written is registered ([`remove_in_progress`]),
//! so that an interrupted run (SIGINT, SIGTERM) removes it before exiting.
//!
//! Output safety: the paths written are only those the user chose (`-o`, `--manifest`,
//! the default `AuditLogResults<time>` name, the summary's fixed table names in `-o DIR`);
//! nothing read from an input ever becomes part of a path. [`check_target`] refuses a
//! target that is an input (through any link or spelling), that is not a regular file
//! (a directory, a device such as `/dev/null`, a FIFO), or that exists (without `--force`).
//! A symbolic link as the target is never followed: `--force` replaces the link itself,
//! and the file it pointed to is left alone.

pub mod csv;
pub mod json;
pub mod table;
pub mod timesketch;
pub mod who;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};

use crate::filter::logon_type_name;
use crate::record::{Field, Item, OwnedRecord};

/// One report column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// The seed script's Subject: the report's own Subject column, else the source items'
    /// subjects (left-trimmed), else ItemSubject.
    Subject,
    /// The seed script's CrossMailboxOp: `N/A` for SendAs, Create and Update, else
    /// CrossMailboxOperation.
    CrossMailboxOp,
    /// A normalised field as read (LogonType by name; LastAccessed per [`TimeFormat`]).
    Field(Field),
    /// The input the row was read from, as named on the command line.
    SourceFile,
    /// The row's first physical line in that input.
    SourceLine,
}

/// A column slice starting with the seed script's 15 columns, in its order
/// (`$LogParameters` with Subject first and CrossMailboxOp last), then `extra`: one list
/// for [`SCRIPT`] and [`FULL`].
macro_rules! script_columns_then {
    ($($extra:expr),* $(,)?) => {
        &[
        Column::Subject,
        Column::Field(Field::Operation),
        Column::Field(Field::LogonUserDisplayName),
        Column::Field(Field::LastAccessed),
        Column::Field(Field::DestFolderPathName),
        Column::Field(Field::FolderPathName),
        Column::Field(Field::ClientInfoString),
        Column::Field(Field::ClientIpAddress),
        Column::Field(Field::ClientMachineName),
        Column::Field(Field::ClientProcessName),
        Column::Field(Field::ClientVersion),
        Column::Field(Field::LogonType),
        Column::Field(Field::MailboxResolvedOwnerName),
        Column::Field(Field::OperationResult),
        Column::CrossMailboxOp,
        $($extra),*
        ]
    };
}

/// The seed script's report, column for column.
pub const SCRIPT: &[Column] = script_columns_then!();

/// `--columns full`: the script's 15 columns first (so a full report reads like the
/// script's, widened), then every other normalised field in [`Field::ALL`] order, then
/// where the row came from. The fields `Subject` and `CrossMailboxOp` are the derived
/// columns of the same names, which fall back to the field when a report is read back.
pub const FULL: &[Column] = script_columns_then!(
    Column::Field(Field::LogonUserSid),
    Column::Field(Field::ClientIp),
    Column::Field(Field::MailboxOwnerUpn),
    Column::Field(Field::MailboxGuid),
    Column::Field(Field::CrossMailboxOperation),
    Column::Field(Field::ItemSubject),
    Column::Field(Field::SourceItemSubjectsList),
    Column::Field(Field::Identity),
    Column::Field(Field::RecordType),
    Column::Field(Field::Workload),
    Column::Field(Field::UserId),
    Column::Field(Field::InternetMessageId),
    Column::Field(Field::MailAccessType),
    Column::Field(Field::IsThrottled),
    Column::SourceFile,
    Column::SourceLine,
);

/// `--columns`: which profile a report is written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Profile {
    /// The seed script's 15 columns.
    #[default]
    Script,
    /// Every normalised field, plus SourceFile and SourceLine (provenance).
    Full,
}

impl Profile {
    pub fn columns(self) -> &'static [Column] {
        match self {
            Profile::Script => SCRIPT,
            Profile::Full => FULL,
        }
    }
}

/// `search --format`: how the rows are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// The script's CSV (UTF-8 with BOM, CRLF, every field quoted, Excel-safe cells).
    #[default]
    Csv,
    /// JSON Lines: one object per row, keys = column names.
    Jsonl,
    /// One JSON array of objects, keys = column names.
    Json,
    /// Aligned columns for a terminal (long cells cut, control characters escaped).
    Table,
    /// Timesketch's CSV: message, datetime, timestamp_desc, timestamp, then the columns.
    Timesketch,
}

impl Format {
    /// The extension of the default report file name.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Json => "json",
            Format::Table => "txt",
            Format::Timesketch => "timesketch.csv",
        }
    }
}

/// How the LastAccessed column is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TimeFormat {
    /// ISO 8601 in UTC, e.g. 2017-04-10T15:22:11Z.
    #[default]
    Iso,
    /// The text as it stood in the export.
    Original,
}

impl Column {
    pub fn name(self) -> &'static str {
        match self {
            Column::Subject => "Subject",
            Column::CrossMailboxOp => "CrossMailboxOp",
            Column::Field(f) => f.name(),
            Column::SourceFile => "SourceFile",
            Column::SourceLine => "SourceLine",
        }
    }
}

/// What every writer needs besides the rows.
#[derive(Clone, Copy, Debug)]
pub struct Layout<'a> {
    pub columns: &'a [Column],
    pub time: TimeFormat,
    /// The inputs' display names, indexed by [`crate::record::SourcePos::file`].
    pub sources: &'a [String],
}

impl Layout<'_> {
    /// A layout of `columns` with ISO times and no input names (SourceFile empty).
    pub fn of(columns: &[Column]) -> Layout<'_> {
        Layout {
            columns,
            time: TimeFormat::Iso,
            sources: &[],
        }
    }

    /// Appends `column`'s value for `row` to `out`. With `item` (one message of an
    /// expanded record), Subject, FolderPathName and InternetMessageId are the item's; an
    /// item without a subject (MailItemsAccessed often logs none) shows its Internet
    /// Message-ID as Subject.
    pub fn write_cell(
        &self,
        column: Column,
        row: &OwnedRecord,
        item: Option<&Item>,
        out: &mut String,
    ) {
        if let Some(item) = item {
            match column {
                Column::Subject if !item.subject.is_empty() => return out.push_str(&item.subject),
                Column::Subject => return out.push_str(&item.internet_message_id),
                Column::Field(Field::FolderPathName) if !item.folder.is_empty() => {
                    return out.push_str(&item.folder)
                }
                Column::Field(Field::InternetMessageId) if !item.internet_message_id.is_empty() => {
                    return out.push_str(&item.internet_message_id)
                }
                _ => {}
            }
        }
        match column {
            Column::Subject => out.push_str(row.subject()),
            Column::CrossMailboxOp => out.push_str(row.cross_mailbox_op()),
            Column::Field(Field::LastAccessed) if self.time == TimeFormat::Iso => {
                row.time.write_iso(out)
            }
            Column::Field(Field::LogonType) => {
                let raw = row.get(Field::LogonType);
                out.push_str(std::str::from_utf8(logon_type_name(raw.as_bytes())).unwrap_or(raw));
            }
            Column::Field(f) => out.push_str(row.get(f)),
            Column::SourceFile => {
                let name = usize::try_from(row.pos.file)
                    .ok()
                    .and_then(|i| self.sources.get(i));
                out.push_str(name.map_or("", String::as_str));
            }
            Column::SourceLine => {
                use std::fmt::Write as _;
                let _ = write!(out, "{}", row.pos.line);
            }
        }
    }
}

/// The report's lines in order: one per record, or one per message of a record that
/// carries items (`--expand-items`).
pub fn lines(rows: &[OwnedRecord]) -> impl Iterator<Item = (&OwnedRecord, Option<&Item>)> {
    rows.iter()
        .flat_map(|row| (0..row.items.len().max(1)).map(move |i| (row, row.items.get(i))))
}

/// Where the report goes.
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

/// The temporary files being written by [`write_atomic`] (one at a time in practice).
static IN_PROGRESS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn in_progress() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    IN_PROGRESS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Exit status of an interrupted run (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

/// For the SIGINT/SIGTERM handler: removes the temporary file of a report being
/// written, if any, and exits with [`EXIT_INTERRUPTED`]. The lock is held until the process
/// is gone, so no temporary file can be created or renamed into place meanwhile: what is
/// left is the complete files written before, and nothing else.
pub fn exit_interrupted() -> ! {
    let guard = in_progress();
    for tmp in guard.iter() {
        let _ = std::fs::remove_file(tmp);
    }
    std::process::exit(EXIT_INTERRUPTED)
}

/// Unregisters a temporary file when [`write_atomic`] returns, however it does.
struct Registered(Option<PathBuf>);

impl Registered {
    fn forget(&mut self, registry: &mut Vec<PathBuf>) {
        if let Some(path) = self.0.take() {
            registry.retain(|p| *p != path);
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.forget(&mut in_progress());
    }
}

/// Writes the report to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(
    path: &Path,
    force: bool,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    // Created and registered under the lock: an interrupt either comes before the file
    // exists or finds it registered. (Declared before it, `registered` is dropped after a
    // temporary file left by an error has been deleted.)
    let mut registered = Registered(None);
    let mut registry = in_progress();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("'{}': cannot create a temporary file", dir.display()))?;
    registry.push(tmp.path().to_path_buf());
    registered.0 = Some(tmp.path().to_path_buf());
    drop(registry);
    {
        let mut out = BufWriter::with_capacity(1 << 20, tmp.as_file());
        write(&mut out)
            .and_then(|()| out.flush())
            .with_context(|| format!("'{}': cannot write", tmp.path().display()))?;
    }
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("'{}': cannot sync", tmp.path().display()))?;
    // Renamed under the lock: an interrupt finds the temporary file registered, or the
    // report complete in place. (On failure the temporary file is deleted with `e`.)
    let mut registry = in_progress();
    let persisted = if force {
        tmp.persist(path).map(|_| ())
    } else {
        tmp.persist_noclobber(path).map(|_| ())
    };
    let result = persisted.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "'{}' already exists; use --force to replace it, or -o to choose another name",
                path.display()
            )
        } else {
            anyhow::Error::new(e.error)
                .context(format!("'{}': cannot write report", path.display()))
        }
    });
    registered.forget(&mut registry);
    result
}

/// Writes to stdout through a large buffer.
pub fn write_stdout(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    write(&mut out)
        .and_then(|()| out.flush())
        .context("<stdout>")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_profile_has_every_field_once() {
        let mut seen = std::collections::HashSet::new();
        for c in FULL {
            assert!(seen.insert(c.name()), "{} twice", c.name());
        }
        for f in Field::ALL {
            assert!(seen.contains(f.name()), "{} missing", f.name());
        }
        assert_eq!(FULL.len(), Field::ALL.len() + 2);
        assert_eq!(&FULL[..SCRIPT.len()], SCRIPT, "script columns first");
        assert_eq!(
            FULL[FULL.len() - 2..],
            [Column::SourceFile, Column::SourceLine]
        );
    }
}
