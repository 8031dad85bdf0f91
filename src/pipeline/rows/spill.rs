//! Sorted runs of rows on disk, when the rows kept outgrow `--memory-limit`.
//!
//! All runs go to one temporary file in `--temp-dir` (the system's by default), created
//! unnamed where the system allows it and otherwise removed as soon as it is created
//! (`tempfile::tempfile_in`): nothing is left behind, whether the run ends, fails or is
//! interrupted. A run is a segment of that file; segments are appended under a lock and
//! read back with positioned reads, each run through its own small buffer
//! ([`RunReader`]), so that many runs can be merged at once.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::block::RunRow;

/// Where a run lies in the spill file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Segment {
    pub offset: u64,
    pub len: u64,
}

/// The file the runs are written to, created on first use.
pub(crate) struct SpillFile {
    dir: Option<PathBuf>,
    /// The file and its length.
    file: Mutex<Option<(File, u64)>>,
    /// A clone of the file's handle for reading (positioned reads do not share a cursor).
    reader: std::sync::OnceLock<File>,
}

impl SpillFile {
    pub fn new(dir: Option<PathBuf>) -> SpillFile {
        SpillFile {
            dir,
            file: Mutex::new(None),
            reader: std::sync::OnceLock::new(),
        }
    }

    /// The directory the file is (or would be) in, for messages.
    pub fn dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(std::env::temp_dir)
    }

    /// Appends `bytes` as a new segment.
    pub fn append(&self, bytes: &[u8]) -> io::Result<Segment> {
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            let file = match &self.dir {
                Some(dir) => tempfile::tempfile_in(dir),
                None => tempfile::tempfile(),
            }?;
            let _ = self.reader.set(file.try_clone()?);
            *guard = Some((file, 0));
        }
        let Some((file, len)) = guard.as_mut() else {
            return Err(io::Error::other("the temporary file is gone"));
        };
        file.write_all(bytes)?;
        let segment = Segment {
            offset: *len,
            len: bytes.len() as u64,
        };
        *len += bytes.len() as u64;
        Ok(segment)
    }

    /// Reads all of `segment`.
    pub fn read(&self, segment: Segment) -> io::Result<Vec<u8>> {
        let len = usize::try_from(segment.len).map_err(io::Error::other)?;
        let mut buf = vec![0u8; len];
        let mut done = 0;
        while done < len {
            let n = self.read_at(&mut buf[done..], segment.offset + done as u64)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the temporary file is shorter than what was written to it",
                ));
            }
            done += n;
        }
        Ok(buf)
    }

    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let Some(file) = self.reader.get() else {
            return Err(io::Error::other(
                "nothing was written to the temporary file",
            ));
        };
        read_at(file, buf, offset)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

/// Reads the rows of one run in order, through a buffer of its own.
pub(crate) struct RunReader<'f> {
    file: &'f SpillFile,
    segment: Segment,
    /// Bytes of the segment read into `buf` so far.
    read: u64,
    buf: Vec<u8>,
    /// The unconsumed bytes of `buf`.
    start: usize,
    end: usize,
    /// Where the row [`RunReader::next`] last returned lies in `buf`.
    last: (usize, usize),
}

impl<'f> RunReader<'f> {
    pub fn new(file: &'f SpillFile, segment: Segment, buffer: usize) -> RunReader<'f> {
        RunReader {
            file,
            segment,
            read: 0,
            buf: vec![0u8; buffer.max(64)],
            start: 0,
            end: 0,
            last: (0, 0),
        }
    }

    /// The row [`RunReader::next`] last returned (until it is called again).
    pub fn current(&self) -> Option<RunRow<'_>> {
        let (at, size) = self.last;
        RunRow::parse(self.buf.get(at..at + size)?).map(|(row, _)| row)
    }

    /// The next row, or `None` at the end of the run.
    pub fn next(&mut self) -> io::Result<Option<RunRow<'_>>> {
        loop {
            let ready = &self.buf[self.start..self.end];
            if let Some(size) = RunRow::size(ready).filter(|&s| s <= ready.len()) {
                let at = self.start;
                self.start += size;
                self.last = (at, size);
                let Some((row, _)) = RunRow::parse(&self.buf[at..at + size]) else {
                    return Err(damaged());
                };
                return Ok(Some(row));
            }
            let left = self.segment.len - self.read;
            if left == 0 {
                return if self.start == self.end {
                    Ok(None)
                } else {
                    Err(damaged())
                };
            }
            // Move what is left to the front, grow the buffer for a long row, fill.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            let need = RunRow::size(&self.buf[..self.end]).unwrap_or(0);
            if need > self.buf.len() {
                self.buf.resize(need, 0);
            }
            let room = (self.buf.len() - self.end).min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = self.file.read_at(
                &mut self.buf[self.end..self.end + room],
                self.segment.offset + self.read,
            )?;
            if n == 0 {
                return Err(damaged());
            }
            self.end += n;
            self.read += n as u64;
        }
    }
}

fn damaged() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "a run read back from the temporary file is damaged",
    )
}

/// A readable name for a size in bytes (`64 MiB`, `1.5 GiB`).
pub fn size_name(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KIB * KIB * KIB {
        format!("{:.1} GiB", b / (KIB * KIB * KIB))
    } else if b >= KIB * KIB {
        format!("{:.0} MiB", b / (KIB * KIB))
    } else if b >= KIB {
        format!("{:.0} KiB", b / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Whether `dir` can hold temporary files (checked before reading, so that a bad
/// `--temp-dir` fails at once).
pub fn check_dir(dir: &Path) -> io::Result<()> {
    tempfile::tempfile_in(dir).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::Timestamp;
    use crate::pipeline::rows::block::Block;
    use crate::record::{AuditRecord, Escape, Field, FieldSet, RawField};

    #[test]
    fn runs_read_back_through_small_buffers() {
        let dir = tempfile::tempdir().unwrap();
        let spill = SpillFile::new(Some(dir.path().to_path_buf()));
        let fields = FieldSet::EMPTY.with(Field::ItemSubject);
        let mut block = Block::default();
        let texts: Vec<Vec<u8>> = (0..50)
            .map(|i| vec![b'a' + (i % 26) as u8; i * 7])
            .collect();
        for (i, t) in texts.iter().enumerate() {
            let mut r = AuditRecord::default();
            r.set(Field::ItemSubject, RawField::new(t, Escape::None));
            let shape = super::super::Shape {
                fields,
                with_items: false,
                with_tags: false,
                newest_first: false,
            };
            block.push(&r, shape, Timestamp(i as i64 % 7), i as u64 + 2, &[]);
        }
        let order = block.sorted(false);
        let mut bytes = Vec::new();
        block.write_run(&order, &mut bytes);
        let _other = spill.append(b"something before").unwrap();
        let seg = spill.append(&bytes).unwrap();
        assert_eq!(spill.read(seg).unwrap(), bytes);
        for buffer in [1, 64, 100, 1 << 16] {
            let mut reader = RunReader::new(&spill, seg, buffer);
            let mut k = 0;
            while let Some(row) = reader.next().unwrap() {
                let p = order[k] as usize;
                assert_eq!(row.pos as usize, p);
                assert_eq!(row.text, block.text(p));
                assert_eq!(row.line, p as u64 + 2);
                k += 1;
            }
            assert_eq!(k, 50, "buffer {buffer}");
        }
        assert_eq!(size_name(64 << 20), "64 MiB");
        assert_eq!(size_name(3 << 29), "1.5 GiB");
    }
}
