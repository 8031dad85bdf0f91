//! Opening the inputs: files (read-only, memory-mapped), directories (walked), stdin.
//!
//! Every input is opened read-only and never written. Files are memory-mapped, falling
//! back to an ordinary read where mapping fails; standard input and pipes are read in
//! windows, in bounded memory ([`stream`]). The bytes are then decoded ([`decode`]) and
//! their format recognised from the content ([`detect`]), never from the file name.

pub mod csv;
pub mod decode;
pub mod detect;
pub mod json;
pub mod stream;
pub mod structural;
pub mod ual;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use memmap2::Mmap;

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

    /// The name shown in messages.
    pub fn display(&self) -> String {
        match self {
            Origin::Named(p) | Origin::Walked(p) => p.display().to_string(),
            Origin::Stdin => "<stdin>".to_string(),
        }
    }
}

/// An input's bytes, as mapped or read.
pub enum Bytes {
    Mapped(Mmap),
    Read(Vec<u8>),
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

/// Expands the command-line inputs: directories are walked recursively (in name order,
/// so runs are reproducible); `-` is stdin. Paths that do not exist are an error.
pub fn expand(inputs: &[PathBuf]) -> Result<Vec<Origin>> {
    let mut out = Vec::new();
    let mut stdin_seen = false;
    for input in inputs {
        if input.as_os_str() == "-" {
            if !stdin_seen {
                out.push(Origin::Stdin);
                stdin_seen = true;
            }
            continue;
        }
        let meta = std::fs::metadata(input)
            .with_context(|| format!("'{}': cannot open input", input.display()))?;
        if meta.is_dir() {
            walk(input, &mut out)
                .with_context(|| format!("'{}': cannot list directory", input.display()))?;
        } else {
            out.push(Origin::Named(input.clone()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<Origin>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        // Symlinked directories are not followed (no loops); symlinked files are read.
        let ty = entry.file_type()?;
        if ty.is_dir() {
            walk(&path, out)?;
        } else if ty.is_file() || (ty.is_symlink() && path.is_file()) {
            out.push(Origin::Walked(path));
        }
    }
    Ok(())
}

/// Opens an input read-only and maps (or reads) all of it.
pub fn load(origin: &Origin) -> Result<Bytes> {
    match origin {
        Origin::Stdin => {
            let mut buf = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .context("<stdin>: cannot read")?;
            Ok(Bytes::Read(buf))
        }
        Origin::Named(path) | Origin::Walked(path) => {
            let file = File::open(path)
                .with_context(|| format!("'{}': cannot open for reading", path.display()))?;
            map_or_read(file).with_context(|| format!("'{}': cannot read", path.display()))
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
    // SAFETY: the file is opened read-only and we never write through the map. Another
    // process truncating or rewriting the file while we read it could change the bytes
    // under us (or, on truncation, fault); this is the same trade-off ripgrep makes, and
    // exported evidence files are not expected to change during analysis.
    match unsafe { Mmap::map(&file) } {
        Ok(map) => {
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Sequential);
            Ok(Bytes::Mapped(map))
        }
        Err(_) => {
            let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            file.read_to_end(&mut buf)?;
            Ok(Bytes::Read(buf))
        }
    }
}
