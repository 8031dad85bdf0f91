//! Outputs are complete or absent, never half-written, and the outputs of one run are
//! committed together.
//!
//! Each output is **staged**: a temporary file beside its target (same directory, so the
//! rename cannot cross file systems), created before the inputs are read, which proves
//! early that the target's directory exists and is writable. Writers write into the
//! staged file — through [`Staged::write_with`], or through its handle and path
//! ([`Staged::file`], [`Staged::path`]) for a writer that needs to seek or to name a file.
//! [`Outputs::commit`] then renames every staged file into place; if one rename fails,
//! the outputs already renamed are taken back (a file that was replaced, with `--force`,
//! is restored from a hard link made before the rename, where the file system allows
//! one), so that a failed run leaves the targets as they were. An `Outputs` dropped
//! without a commit (an error, `--strict`, a refused input) deletes its temporary files
//! and the directories it created for them.
//!
//! Every temporary file is registered while it exists, so that an interrupted run
//! (SIGINT, SIGTERM, SIGHUP) removes them before exiting ([`exit_interrupted`], called by
//! the binary's signal handler). The commit holds the registry's lock: an interrupt waits
//! for it, and finds either every output staged or every output in place.
//!
//! Staged files are created with mode 0600 (owner only) whatever the umask, and keep it
//! when renamed: outputs hold evidence.

use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{anyhow, bail, Context, Result};
use tempfile::NamedTempFile;

use crate::diag::{sanitize, say};

/// The temporary files of staged outputs (and of nothing else).
static IN_PROGRESS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn in_progress() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    IN_PROGRESS.lock().unwrap_or_else(|e| e.into_inner())
}

/// For the SIGINT/SIGTERM handler: removes the temporary files of outputs being
/// written, says so, and exits with [`crate::exit::INTERRUPTED`]. The lock is held until
/// the process is gone, so no temporary file can be created or renamed into place
/// meanwhile: what is left is the outputs committed before, and nothing else.
pub fn exit_interrupted() -> ! {
    let guard = in_progress();
    for tmp in guard.iter() {
        let _ = std::fs::remove_file(tmp);
    }
    say("interrupted: stopped before the end; no output of this run is left half-written");
    std::process::exit(i32::from(crate::exit::INTERRUPTED))
}

/// One output staged: a temporary file beside its target.
pub struct Staged {
    target: PathBuf,
    force: bool,
    /// `None` once renamed into place (or while dropped).
    tmp: Option<NamedTempFile>,
}

impl Staged {
    /// Creates the temporary file beside `target` and registers it.
    fn new(target: &Path, force: bool) -> Result<Staged> {
        let dir = parent_dir(target);
        match std::fs::metadata(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "'{}': its directory '{}' does not exist; create it, or choose another path",
                shown(target),
                shown(dir)
            ),
            Ok(m) if !m.is_dir() => bail!(
                "'{}': '{}' is not a directory; choose another path",
                shown(target),
                shown(dir)
            ),
            _ => {}
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "output".into());
        // Created and registered under the lock: an interrupt either comes before the
        // file exists or finds it registered.
        let mut registry = in_progress();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(dir)
            .with_context(|| {
                format!(
                    "'{}': cannot write a file in '{}'",
                    shown(target),
                    shown(dir)
                )
            })?;
        registry.push(tmp.path().to_path_buf());
        Ok(Staged {
            target: target.to_path_buf(),
            force,
            tmp: Some(tmp),
        })
    }

    /// Where the output goes once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// The temporary file being written (for a writer that wants a path).
    pub fn path(&self) -> &Path {
        self.tmp.as_ref().map_or(&self.target, |t| t.path())
    }

    /// The temporary file's handle, open for reading and writing (`&File` is `Write`,
    /// `Read` and `Seek`).
    pub fn file(&self) -> Option<&File> {
        self.tmp.as_ref().map(NamedTempFile::as_file)
    }

    /// Writes the whole output through a large buffer, from the start of the file
    /// (anything written before is replaced).
    pub fn write_with(
        &mut self,
        write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
    ) -> Result<()> {
        let Some(tmp) = self.tmp.as_mut() else {
            bail!("'{}': already committed", shown(&self.target));
        };
        let file = tmp.as_file_mut();
        let written = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| {
            let mut out = BufWriter::with_capacity(1 << 20, WriteBehind::new(&*file));
            write(&mut out)?;
            out.flush()
        });
        written.with_context(|| format!("'{}': cannot write", shown(&self.target)))
    }
}

/// A file written front to back whose written bytes are handed to the disk as the
/// writing goes (Linux's `sync_file_range`, every [`WriteBehind::STEP`] bytes, without
/// waiting), so that the sync before the commit ([`Outputs::commit`]) finds little left
/// to write: a 1 GB report waited ~1 s at the end for all of it. Elsewhere a plain file.
struct WriteBehind<'f> {
    file: &'f File,
    /// Bytes written, and bytes already handed to the disk.
    written: u64,
    handed: u64,
}

impl<'f> WriteBehind<'f> {
    const STEP: u64 = 8 << 20;

    fn new(file: &'f File) -> WriteBehind<'f> {
        WriteBehind {
            file,
            written: 0,
            handed: 0,
        }
    }

    fn hand_over(&mut self) {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let (Ok(from), Ok(len)) = (
                i64::try_from(self.handed),
                i64::try_from(self.written - self.handed),
            ) else {
                return;
            };
            // SAFETY: a plain system call on an open descriptor; it reads no memory of
            // ours. A failure (a file system without it) only leaves the work to the sync.
            let _ = unsafe {
                libc::sync_file_range(
                    self.file.as_raw_fd(),
                    from,
                    len,
                    libc::SYNC_FILE_RANGE_WRITE,
                )
            };
        }
        self.handed = self.written;
    }
}

impl Write for WriteBehind<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = (&*self.file).write(buf)?;
        self.written += n as u64;
        if self.written - self.handed >= Self::STEP {
            self.hand_over();
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        (&*self.file).flush()
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Deleted and unregistered under the lock (an interrupt finds the file registered
        // or gone).
        let mut registry = in_progress();
        if let Some(tmp) = self.tmp.take() {
            let path = tmp.path().to_path_buf();
            drop(tmp);
            registry.retain(|p| *p != path);
        }
    }
}

/// The outputs of one run, staged and committed together.
#[derive(Default)]
pub struct Outputs {
    staged: Vec<Staged>,
    /// Directories created for outputs, outermost first: removed (when empty) if the run
    /// does not commit.
    created_dirs: Vec<PathBuf>,
    committed: bool,
}

impl Outputs {
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// Stages an output to `target`; `force` allows replacing an existing file. The
    /// target's checks are [`crate::output::check_target`]'s, made before.
    pub fn stage(&mut self, target: &Path, force: bool) -> Result<&mut Staged> {
        let staged = Staged::new(target, force)?;
        self.staged.push(staged);
        let last = self.staged.len() - 1;
        Ok(&mut self.staged[last])
    }

    /// The staged output to `target`, if any.
    pub fn get(&mut self, target: &Path) -> Option<&mut Staged> {
        self.staged.iter_mut().find(|s| s.target == target)
    }

    /// The staged output to `target`; an error if it was not staged.
    pub fn staged(&mut self, target: &Path) -> Result<&mut Staged> {
        let shown_target = shown(target);
        self.get(target)
            .ok_or_else(|| anyhow!("'{shown_target}': internal error: output not staged"))
    }

    /// Creates `dir` and its missing parents, remembering which were created.
    pub fn create_dir(&mut self, dir: &Path) -> Result<()> {
        let mut missing = Vec::new();
        let mut at = Some(dir);
        while let Some(d) = at.filter(|d| !d.as_os_str().is_empty()) {
            if d.exists() {
                break;
            }
            missing.push(d.to_path_buf());
            at = d.parent();
        }
        std::fs::create_dir_all(dir)
            .with_context(|| format!("'{}': cannot create directory", shown(dir)))?;
        missing.reverse();
        self.created_dirs.extend(missing);
        Ok(())
    }

    /// Syncs every staged output and renames each into place. If one fails, those
    /// renamed before it are taken back (see the module documentation) and the error says
    /// which failed.
    pub fn commit(mut self) -> Result<()> {
        for s in &self.staged {
            if let Some(file) = s.file() {
                file.sync_all()
                    .with_context(|| format!("'{}': cannot write (sync)", shown(&s.target)))?;
            }
        }
        // Under the lock: an interrupt finds every output staged, or every one in place.
        let mut registry = in_progress();
        let mut done: Vec<(PathBuf, Option<NamedTempFile<()>>)> = Vec::new();
        for s in &mut self.staged {
            let Some(tmp) = s.tmp.take() else { continue };
            let tmp_path = tmp.path().to_path_buf();
            let backup = if s.force { backup_of(&s.target) } else { None };
            let persisted = if s.force {
                tmp.persist(&s.target).map(|_| ())
            } else {
                tmp.persist_noclobber(&s.target).map(|_| ())
            };
            match persisted {
                Ok(()) => {
                    registry.retain(|p| *p != tmp_path);
                    done.push((s.target.clone(), backup));
                }
                Err(e) => {
                    let why = if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                        anyhow!(
                            "'{}' was created by something else during the run; use --force \
                             to replace it, or choose another name",
                            shown(&s.target)
                        )
                    } else {
                        anyhow::Error::new(e.error)
                            .context(format!("'{}': cannot write", shown(&s.target)))
                    };
                    // The temporary file comes back with the error and is deleted with it.
                    drop(e.file);
                    registry.retain(|p| *p != tmp_path);
                    let undone = done.len();
                    for (target, backup) in done.into_iter().rev() {
                        match backup {
                            Some(old) => {
                                let _ = old.persist(&target);
                            }
                            None => {
                                let _ = std::fs::remove_file(&target);
                            }
                        }
                    }
                    drop(registry);
                    return Err(if undone > 0 {
                        why.context(format!(
                            "no output written: the {undone} written before it were taken back"
                        ))
                    } else {
                        why.context("no output written")
                    });
                }
            }
        }
        drop(registry);
        self.committed = true;
        Ok(())
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        self.staged.clear(); // deletes the temporary files not renamed
        if !self.committed {
            for dir in self.created_dirs.iter().rev() {
                let _ = std::fs::remove_dir(dir); // only when empty
            }
        }
    }
}

/// A hard link to the file at `target` beside it, deleted when dropped, to restore it if
/// the commit fails after `target` was replaced; `None` when there is no file there or the
/// file system cannot link.
fn backup_of(target: &Path) -> Option<NamedTempFile<()>> {
    std::fs::symlink_metadata(target).ok()?;
    let name = target.file_name()?.to_string_lossy().into_owned();
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".old")
        .make_in(parent_dir(target), |p| std::fs::hard_link(target, p))
        .ok()
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn shown(path: &Path) -> String {
    sanitize(&path.display().to_string())
}

/// Writes one output to `path` atomically: staged, written, committed.
pub fn write_atomic(
    path: &Path,
    force: bool,
    write: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<()> {
    let mut outputs = Outputs::new();
    outputs.stage(path, force)?.write_with(write)?;
    outputs.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output larger than a few steps of the write-behind, written in pieces of
    /// every size, is committed with every byte in place (what was written before it in
    /// the staged file replaced).
    #[test]
    fn large_outputs_are_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("big.csv");
        let bytes: Vec<u8> = (0..(3 * WriteBehind::STEP as usize + 12_345))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let mut outputs = Outputs::new();
        let staged = outputs.stage(&target, false).unwrap();
        staged.write_with(|out| out.write_all(b"replaced")).unwrap();
        staged
            .write_with(|out| {
                let mut rest = &bytes[..];
                let mut piece = 1;
                while !rest.is_empty() {
                    let (now, later) = rest.split_at(piece.min(rest.len()));
                    out.write_all(now)?;
                    rest = later;
                    piece = piece * 3 % 4_000_001 + 1;
                }
                Ok(())
            })
            .unwrap();
        outputs.commit().unwrap();
        assert!(std::fs::read(&target).unwrap() == bytes);
    }

    #[test]
    fn outputs_commit_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
        std::fs::write(&a, b"old a").unwrap();
        // b.txt is created meanwhile: the commit fails, and a.txt is restored.
        let mut outputs = Outputs::new();
        outputs.stage(&a, true).unwrap();
        outputs.stage(&b, false).unwrap();
        outputs
            .staged(&a)
            .unwrap()
            .write_with(|o| o.write_all(b"new a"))
            .unwrap();
        outputs
            .staged(&b)
            .unwrap()
            .write_with(|o| o.write_all(b"new b"))
            .unwrap();
        std::fs::write(&b, b"someone else's").unwrap();
        let err = format!("{:#}", outputs.commit().unwrap_err());
        assert!(err.contains("taken back") && err.contains("b.txt"), "{err}");
        assert_eq!(std::fs::read(&a).unwrap(), b"old a");
        assert_eq!(std::fs::read(&b).unwrap(), b"someone else's");
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(left, ["a.txt", "b.txt"]);
        assert!(!in_progress().iter().any(|p| p.starts_with(dir.path())));

        // Both go in.
        std::fs::remove_file(&b).unwrap();
        let mut outputs = Outputs::new();
        outputs
            .stage(&a, true)
            .unwrap()
            .write_with(|o| o.write_all(b"A"))
            .unwrap();
        outputs
            .stage(&b, false)
            .unwrap()
            .write_with(|o| o.write_all(b"B"))
            .unwrap();
        outputs.commit().unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), b"A");
        assert_eq!(std::fs::read(&b).unwrap(), b"B");
    }

    #[test]
    fn dropped_outputs_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("new/deeper");
        let mut outputs = Outputs::new();
        outputs.create_dir(&sub).unwrap();
        let staged = outputs.stage(&sub.join("t.csv"), false).unwrap();
        staged.write_with(|o| o.write_all(b"x")).unwrap();
        assert!(staged.file().is_some() && staged.path().exists());
        drop(outputs);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_missing_directory_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = Outputs::new()
            .stage(&dir.path().join("nope/m.json"), false)
            .err()
            .unwrap();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
