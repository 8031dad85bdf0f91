//! Opening the inputs: files (read-only, memory-mapped), directories (walked), stdin.
//!
//! Every input is opened read-only and never written. Files are memory-mapped ([`mapped`]:
//! a file cut short while mapped is caught and named, not a SIGBUS), falling back to an
//! ordinary read where mapping fails; standard input and pipes are read in windows, in
//! bounded memory ([`stream`]). The bytes are then decoded ([`decode`]) and
//! their format recognised from the content ([`detect`]), never from the file name.

pub mod csv;
pub mod decode;
pub mod detect;
pub mod json;
pub mod json_lex;
pub mod mapped;
pub mod stream;
pub mod structural;
pub mod ual;
pub mod visit;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::diag::path_text;
pub use mapped::Mapped;

/// Where an input came from, as named to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Named on the command line.
    Named(PathBuf),
    /// Found while walking a directory named on the command line.
    Walked(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Origin {
    pub fn path(&self) -> Option<&Path> {
        match self {
            Origin::Named(p) | Origin::Walked(p) => Some(p),
            Origin::Stdin => None,
        }
    }

    /// The name shown in messages, the report's SourceFile and the manifest: lossless
    /// ([`path_text`]), so that two files never share a name.
    pub fn display(&self) -> String {
        match self {
            Origin::Named(p) | Origin::Walked(p) => path_text(p),
            Origin::Stdin => "<stdin>".to_string(),
        }
    }
}

/// An input's bytes, as mapped or read.
pub enum Bytes {
    Mapped(Mapped),
    Read(Vec<u8>),
}

impl Bytes {
    /// Why the bytes may not be the file's any more (it was cut short or changed while
    /// mapped: [`Mapped::changed`]); `None` for bytes read into memory.
    pub fn changed(&self) -> Option<String> {
        match self {
            Bytes::Mapped(m) => m.changed(),
            Bytes::Read(_) => None,
        }
    }

    /// Done with `range` of the bytes ([`Mapped::release`]); nothing for bytes read.
    pub fn release(&self, range: std::ops::Range<usize>) {
        if let Bytes::Mapped(m) = self {
            m.release(range);
        }
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Read(v) => v,
        }
    }
}

/// The command-line inputs, expanded: the inputs to read, and what a walk passed over.
#[derive(Clone, Debug, Default)]
pub struct Expanded {
    pub origins: Vec<Origin>,
    /// Entries of walked directories that are not read, each with why (a symbolic link
    /// to a directory, a dangling link, a link loop, a FIFO, a device, a directory that
    /// cannot be listed), in walk order.
    pub passed_over: Vec<(PathBuf, String)>,
}

/// Expands the command-line inputs: directories are walked recursively (in name order,
/// so runs are reproducible); `-` is stdin. Paths that do not exist are an error.
///
/// In a walked directory, regular files are read, and so are symbolic links to regular
/// files. Everything else is passed over and named ([`Expanded::passed_over`]): a
/// symbolic link to a directory is not followed (no loops, no walking out of the
/// evidence folder; name its target to read it), a dangling link or a link loop cannot
/// be read, a FIFO (named pipe) could block the run (name it on the command line to read
/// it), a socket or device is not an export, and a directory that cannot be listed is
/// reported with the error.
pub fn expand(inputs: &[PathBuf]) -> Result<Expanded> {
    let mut out = Expanded::default();
    let mut stdin_seen = false;
    for input in inputs {
        if input.as_os_str() == "-" {
            if !stdin_seen {
                out.origins.push(Origin::Stdin);
                stdin_seen = true;
            }
            continue;
        }
        let meta = std::fs::metadata(input)
            .with_context(|| format!("'{}': cannot open input", input.display()))?;
        if meta.is_dir() {
            walk(input, &mut out);
        } else {
            out.origins.push(Origin::Named(input.clone()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Expanded) {
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1);
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e.path().unwrap_or(dir).to_path_buf();
                let why = match e.io_error() {
                    Some(io) => format!("cannot be listed or read ({io})"),
                    None => format!("cannot be walked ({e})"),
                };
                out.passed_over.push((path, why));
                continue;
            }
        };
        let path = entry.path().to_path_buf();
        let ty = entry.file_type();
        if ty.is_dir() {
            continue; // walked into
        }
        if ty.is_file() {
            out.origins.push(Origin::Walked(path));
            continue;
        }
        if ty.is_symlink() {
            match std::fs::metadata(&path) {
                Ok(m) if m.is_file() => out.origins.push(Origin::Walked(path)),
                Ok(m) if m.is_dir() => out.passed_over.push((
                    path,
                    "a symbolic link to a directory: not followed (no loops, no walking out of \
                     the folder); name the directory itself to read it"
                        .into(),
                )),
                Ok(m) => out
                    .passed_over
                    .push((path, format!("a symbolic link to {}", kind(&m)))),
                Err(e) if is_loop(&e) => out
                    .passed_over
                    .push((path, "a symbolic link loop: it never reaches a file".into())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let to = std::fs::read_link(&path)
                        .map(|t| format!(" (to '{}')", t.display()))
                        .unwrap_or_default();
                    out.passed_over.push((
                        path,
                        format!("a dangling symbolic link{to}: its target does not exist"),
                    ));
                }
                Err(e) => out.passed_over.push((
                    path,
                    format!("a symbolic link that cannot be followed ({e})"),
                )),
            }
            continue;
        }
        match entry.metadata() {
            Ok(m) => out.passed_over.push((path, kind(&m))),
            Err(e) => out
                .passed_over
                .push((path, format!("cannot be read ({e})"))),
        }
    }
}

/// What a non-regular, non-directory entry is, and why it is not read.
fn kind(meta: &std::fs::Metadata) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let ty = meta.file_type();
        if ty.is_fifo() {
            return "a named pipe (FIFO): not read when found in a directory (it could block \
                    the run); name it on the command line to read it"
                .into();
        }
        if ty.is_socket() {
            return "a socket: not an export".into();
        }
        if ty.is_block_device() || ty.is_char_device() {
            return "a device: not an export".into();
        }
    }
    if meta.is_dir() {
        return "a directory".into();
    }
    "not a regular file".into()
}

/// True for "too many levels of symbolic links" (ELOOP: 40 on Linux, 62 on macOS and
/// the BSDs).
fn is_loop(e: &std::io::Error) -> bool {
    let eloop = if cfg!(target_os = "linux") { 40 } else { 62 };
    cfg!(unix) && e.raw_os_error() == Some(eloop)
}

/// Opens an input read-only and maps (or reads) all of it. The errors do not name the
/// input: the caller does, once (`error: FILE: cannot open for reading: ...`).
pub fn load(origin: &Origin) -> Result<Bytes> {
    match origin {
        Origin::Stdin => {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .context("cannot read standard input")?;
            Ok(Bytes::Read(buf))
        }
        Origin::Named(path) | Origin::Walked(path) => {
            let file = File::open(path).context("cannot open for reading")?;
            map_or_read(file).context("cannot read")
        }
    }
}

fn map_or_read(mut file: File) -> std::io::Result<Bytes> {
    let len = file.metadata()?.len();
    if len == 0 {
        // Zero-length maps are an error on some platforms; a pipe or /proc file also
        // reports 0: read it to be sure.
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)?;
        return Ok(Bytes::Read(buf));
    }
    match Mapped::new(file.try_clone()?) {
        Ok(map) => Ok(Bytes::Mapped(map)),
        Err(_) => {
            let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            file.read_to_end(&mut buf)?;
            Ok(Bytes::Read(buf))
        }
    }
}
