//! The report: which columns, in which order, and how it reaches its file.
//!
//! Columns are a [`Column`] enum; a profile is a static slice of them ([`SCRIPT`] is the
//! seed script's 15). Files are written to a temporary file beside the target and renamed
//! into place, so a report is either complete or absent, never half-written; an existing
//! file is replaced only when asked.

pub mod csv;

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::filter::logon_type_name;
use crate::record::{Field, Item, OwnedRecord};

/// One report column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Subject,
    Operation,
    LogonUserDisplayName,
    LastAccessed,
    DestFolderPathName,
    FolderPathName,
    ClientInfoString,
    ClientIpAddress,
    ClientMachineName,
    ClientProcessName,
    ClientVersion,
    LogonType,
    MailboxResolvedOwnerName,
    OperationResult,
    CrossMailboxOp,
}

/// The seed script's report, column for column (`$LogParameters` with Subject first and
/// CrossMailboxOp last).
pub const SCRIPT: &[Column] = &[
    Column::Subject,
    Column::Operation,
    Column::LogonUserDisplayName,
    Column::LastAccessed,
    Column::DestFolderPathName,
    Column::FolderPathName,
    Column::ClientInfoString,
    Column::ClientIpAddress,
    Column::ClientMachineName,
    Column::ClientProcessName,
    Column::ClientVersion,
    Column::LogonType,
    Column::MailboxResolvedOwnerName,
    Column::OperationResult,
    Column::CrossMailboxOp,
];

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
            other => other.field().map_or("", Field::name),
        }
    }

    fn field(self) -> Option<Field> {
        Some(match self {
            Column::Operation => Field::Operation,
            Column::LogonUserDisplayName => Field::LogonUserDisplayName,
            Column::LastAccessed => Field::LastAccessed,
            Column::DestFolderPathName => Field::DestFolderPathName,
            Column::FolderPathName => Field::FolderPathName,
            Column::ClientInfoString => Field::ClientInfoString,
            Column::ClientIpAddress => Field::ClientIpAddress,
            Column::ClientMachineName => Field::ClientMachineName,
            Column::ClientProcessName => Field::ClientProcessName,
            Column::ClientVersion => Field::ClientVersion,
            Column::LogonType => Field::LogonType,
            Column::MailboxResolvedOwnerName => Field::MailboxResolvedOwnerName,
            Column::OperationResult => Field::OperationResult,
            Column::Subject | Column::CrossMailboxOp => return None,
        })
    }

    /// Appends this column's value for `row` to `out`. With `item` (one message of an
    /// expanded record), Subject and FolderPathName are the item's; an item without a
    /// subject (MailItemsAccessed often logs none) shows its Internet Message-ID.
    pub fn write_value(
        self,
        row: &OwnedRecord,
        item: Option<&Item>,
        time: TimeFormat,
        out: &mut String,
    ) {
        if let Some(item) = item {
            match self {
                Column::Subject if !item.subject.is_empty() => return out.push_str(&item.subject),
                Column::Subject => return out.push_str(&item.internet_message_id),
                Column::FolderPathName if !item.folder.is_empty() => {
                    return out.push_str(&item.folder)
                }
                _ => {}
            }
        }
        match self {
            Column::Subject => out.push_str(row.subject()),
            Column::CrossMailboxOp => out.push_str(row.cross_mailbox_op()),
            Column::LastAccessed if time == TimeFormat::Iso => row.time.write_iso(out),
            Column::LogonType => {
                let raw = row.get(Field::LogonType);
                out.push_str(std::str::from_utf8(logon_type_name(raw.as_bytes())).unwrap_or(raw));
            }
            other => {
                if let Some(f) = other.field() {
                    out.push_str(row.get(f));
                }
            }
        }
    }
}

/// Where the report goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Stdout,
    File { path: PathBuf, force: bool },
}

/// Refuses a target that exists (without `force`) or that is one of the inputs.
pub fn check_target(path: &Path, force: bool, inputs: &[&Path]) -> Result<()> {
    for input in inputs {
        if same_file::is_same_file(path, input).unwrap_or(false) {
            bail!(
                "'{}': the output is also an input; refusing to overwrite evidence. Choose another -o",
                path.display()
            );
        }
    }
    if !force && std::fs::symlink_metadata(path).is_ok() {
        bail!(
            "'{}' already exists; use --force to replace it, or -o to choose another name",
            path.display()
        );
    }
    Ok(())
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
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("'{}': cannot create a temporary file", dir.display()))?;
    {
        let mut out = BufWriter::with_capacity(1 << 20, tmp.as_file());
        write(&mut out)
            .and_then(|()| out.flush())
            .with_context(|| format!("'{}': cannot write", tmp.path().display()))?;
    }
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("'{}': cannot sync", tmp.path().display()))?;
    let persisted = if force {
        tmp.persist(path).map(|_| ())
    } else {
        tmp.persist_noclobber(path).map(|_| ())
    };
    persisted.map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "'{}' already exists; use --force to replace it, or -o to choose another name",
                path.display()
            )
        } else {
            anyhow::Error::new(e.error)
                .context(format!("'{}': cannot write report", path.display()))
        }
    })
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
