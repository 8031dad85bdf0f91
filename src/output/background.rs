//! Writing on a thread of its own: [`in_background`] hands a writer to its caller whose
//! bytes are gathered into large buffers and written (and hashed, for a manifest) by
//! another thread, while the caller goes on formatting the next rows.
//!
//! Why: the rows of a whole export are formatted in parallel, but writing them — the
//! kernel's copy into the page cache or a pipe, the report's SHA-256 — is one stream, and
//! done inline every formatting thread waits for it at each batch (about a tenth of a 1 GB
//! legacy dump's output phase, perf). Here the bytes leave in the order they were
//! written, a few buffers may wait at most (memory stays bounded), and the first write
//! error is the one returned, as it would be inline.

use std::io::{self, Write};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

/// Bytes gathered before a buffer is handed to the writing thread.
const BUFFER: usize = 1 << 20;
/// Buffers that may wait for the writing thread.
const WAITING: usize = 4;

/// Runs `f` with a writer whose bytes `out` receives, in order, on another thread; then
/// flushes `out`. Returns what `f` returns, or the first error of either side (the
/// writing thread's first: when it fails, `f` only sees that the writer is gone).
///
/// With one thread asked for (`-j 1`) the bytes are written inline: the run uses one
/// processor, as the option says.
pub fn in_background<R>(
    out: &mut (dyn Write + Send),
    f: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<R>,
) -> io::Result<R> {
    if rayon::current_num_threads() <= 1 {
        let r = f(out)?;
        out.flush()?;
        return Ok(r);
    }
    std::thread::scope(|scope| {
        let (full, to_write) = sync_channel::<Vec<u8>>(WAITING);
        let (recycle, empty) = channel::<Vec<u8>>();
        let writing = scope.spawn(move || write_all(out, to_write, recycle));
        let mut front = Front {
            buffer: Vec::with_capacity(BUFFER),
            full: Some(full),
            empty,
        };
        let result = f(&mut front).and_then(|r| front.flush().map(|()| r));
        // The writing thread ends when the channel closes.
        drop(front);
        let written = writing
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writing thread panicked")));
        written.and(result)
    })
}

/// The writing thread: every buffer in order into `out`, each sent back to be reused;
/// stops at the first error (the sender then finds the channel closed).
fn write_all(
    out: &mut (dyn Write + Send),
    to_write: Receiver<Vec<u8>>,
    recycle: Sender<Vec<u8>>,
) -> io::Result<()> {
    for mut buffer in to_write {
        out.write_all(&buffer)?;
        buffer.clear();
        // The front may be gone already: then the buffer is simply freed.
        let _ = recycle.send(buffer);
    }
    out.flush()
}

/// The caller's side: gathers bytes and sends full buffers.
struct Front {
    buffer: Vec<u8>,
    full: Option<SyncSender<Vec<u8>>>,
    empty: Receiver<Vec<u8>>,
}

impl Front {
    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let next = self
            .empty
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BUFFER));
        let buffer = std::mem::replace(&mut self.buffer, next);
        let gone = || io::Error::new(io::ErrorKind::BrokenPipe, "the output was closed");
        self.full
            .as_ref()
            .ok_or_else(gone)?
            .send(buffer)
            .map_err(|_| gone())
    }
}

impl Write for Front {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.write_all(bytes)?;
        Ok(bytes.len())
    }

    fn write_all(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let room = BUFFER.saturating_sub(self.buffer.len()).max(1);
            let (now, later) = bytes.split_at(room.min(bytes.len()));
            self.buffer.extend_from_slice(now);
            bytes = later;
            if self.buffer.len() >= BUFFER {
                self.send()?;
            }
        }
        Ok(())
    }

    /// Sends what is gathered (the writing thread flushes `out` at the end).
    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` on a pool of `threads` threads (one: the bytes are written inline).
    fn on(threads: usize, f: impl FnOnce() + Send) {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(f);
    }

    #[test]
    fn bytes_arrive_in_order_whatever_the_write_sizes() {
        on(2, || in_order(true));
        on(1, || in_order(false));
    }

    /// A sink that keeps the bytes and the threads that wrote them.
    #[derive(Default)]
    struct Recording {
        bytes: Vec<u8>,
        threads: Vec<std::thread::ThreadId>,
    }

    impl Write for Recording {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.bytes.extend_from_slice(bytes);
            self.threads.push(std::thread::current().id());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Bytes written in every size arrive in order; on another thread when `threaded`.
    fn in_order(threaded: bool) {
        let mut out = Recording::default();
        let sizes = [0usize, 1, 7, BUFFER - 3, 5, BUFFER, 2 * BUFFER + 11, 100];
        let mut expected = Vec::new();
        let n = in_background(&mut out, |w| {
            for (k, &len) in sizes.iter().enumerate() {
                let bytes: Vec<u8> = (0..len).map(|i| (i * 31 + k) as u8).collect();
                w.write_all(&bytes)?;
                expected.extend_from_slice(&bytes);
            }
            Ok(sizes.len())
        })
        .expect("written");
        assert_eq!(n, sizes.len());
        assert_eq!(out.bytes, expected);
        let here = std::thread::current().id();
        assert!(!out.threads.is_empty());
        assert_eq!(out.threads.iter().all(|&t| t != here), threaded);
    }

    /// A sink that fails after `left` bytes.
    struct Failing {
        left: usize,
    }

    impl Write for Failing {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if self.left == 0 {
                return Err(io::Error::other("disk full"));
            }
            let n = bytes.len().min(self.left);
            self.left -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_writing_error_is_the_one_returned() {
        on(2, writing_error);
        on(1, writing_error);
    }

    fn writing_error() {
        let mut out = Failing { left: BUFFER + 10 };
        let err = in_background(&mut out, |w| {
            for _ in 0..64 {
                w.write_all(&[b'x'; BUFFER])?;
            }
            Ok(())
        })
        .expect_err("the sink fails");
        assert_eq!(err.to_string(), "disk full");
    }

    #[test]
    fn the_caller_error_is_returned_when_writing_went_well() {
        on(2, caller_error);
        on(1, caller_error);
    }

    fn caller_error() {
        let mut out = Vec::new();
        let err = in_background(&mut out, |w| -> io::Result<()> {
            w.write_all(b"abc")?;
            Err(io::Error::other("bad row"))
        })
        .expect_err("the caller fails");
        assert_eq!(err.to_string(), "bad row");
    }
}
