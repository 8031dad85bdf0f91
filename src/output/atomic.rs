//! Files are written to a temporary file beside the target and renamed into place, so an
//! output is either complete or absent, never half-written; an existing file is replaced
//! only when asked. The temporary file being written is registered, so that an
//! interrupted run (SIGINT, SIGTERM, SIGHUP) removes it before exiting
//! ([`exit_interrupted`], called by the binary's signal handler).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};

/// The temporary files being written by [`write_atomic`] (one at a time in practice).
static IN_PROGRESS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn in_progress() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    IN_PROGRESS.lock().unwrap_or_else(|e| e.into_inner())
}

/// For the SIGINT/SIGTERM handler: removes the temporary file of a report being
/// written, if any, and exits with [`crate::exit::INTERRUPTED`]. The lock is held until the process
/// is gone, so no temporary file can be created or renamed into place meanwhile: what is
/// left is the complete files written before, and nothing else.
pub fn exit_interrupted() -> ! {
    let guard = in_progress();
    for tmp in guard.iter() {
        let _ = std::fs::remove_file(tmp);
    }
    std::process::exit(i32::from(crate::exit::INTERRUPTED))
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
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
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
