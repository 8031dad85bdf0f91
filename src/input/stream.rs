//! Streams: standard input, and named pipes or devices given as paths. They cannot be
//! mapped and may be larger than memory, so they are read in windows of raw bytes (on a
//! thread of their own, so that reading overlaps the scan) and never held whole.

use std::fs::File;
use std::io::{self, Read};
use std::sync::mpsc;

use anyhow::{Context, Result};

use super::Origin;

/// Raw bytes read at a time from a stream, unless `MBXAUDIT_STDIN_WINDOW` says otherwise.
pub const DEFAULT_WINDOW: usize = 16 << 20;

/// The (hidden) environment variable that sets the window size in bytes, for tests.
pub const WINDOW_ENV: &str = "MBXAUDIT_STDIN_WINDOW";

/// The window size: [`DEFAULT_WINDOW`], or [`WINDOW_ENV`] when set to a positive number.
pub fn window_size() -> usize {
    std::env::var(WINDOW_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_WINDOW)
}

/// True when `origin` is read as a stream: standard input, or a path that is neither a
/// regular file nor a directory (a named pipe, `<(zcat ...)`, a device).
pub fn is_stream(origin: &Origin) -> bool {
    match origin {
        Origin::Stdin => true,
        Origin::Named(p) | Origin::Walked(p) => {
            std::fs::metadata(p).is_ok_and(|m| !m.is_file() && !m.is_dir())
        }
    }
}

/// Opens a stream read-only.
pub fn open(origin: &Origin) -> Result<Box<dyn Read + Send>> {
    Ok(match origin {
        Origin::Stdin => Box::new(io::stdin()),
        // Not named here: the caller names the input once.
        Origin::Named(path) | Origin::Walked(path) => {
            Box::new(File::open(path).context("cannot open for reading")?)
        }
    })
}

/// The windows of a stream, as the reading thread hands them over.
pub struct Windows {
    rx: mpsc::Receiver<io::Result<Vec<u8>>>,
    recycle: mpsc::Sender<Vec<u8>>,
    current: Option<Vec<u8>>,
    bytes: u64,
}

impl Windows {
    /// The next window (never empty), or `None` at the end of the stream.
    pub fn next_window(&mut self) -> io::Result<Option<&[u8]>> {
        if let Some(done) = self.current.take() {
            let _ = self.recycle.send(done);
        }
        match self.rx.recv() {
            Ok(Ok(window)) => {
                self.bytes += window.len() as u64;
                Ok(Some(self.current.insert(window)))
            }
            Ok(Err(e)) => Err(e),
            Err(mpsc::RecvError) => Ok(None),
        }
    }

    /// Bytes handed over so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// Reads `reader` in windows of `window` bytes on a thread of its own, which passes each
/// window to `observe` as it is read (to hash it), and runs `consume` on the windows.
/// At most two windows are in memory: the one being read and the one handed over.
pub fn read_windows<T>(
    mut reader: impl Read + Send,
    window: usize,
    observe: &mut (dyn FnMut(&[u8]) + Send),
    consume: impl FnOnce(&mut Windows) -> T,
) -> T {
    let window = window.max(1);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel(0);
        let (recycle, recycled) = mpsc::channel::<Vec<u8>>();
        scope.spawn(move || loop {
            let mut buf = recycled.try_recv().unwrap_or_default();
            buf.clear();
            buf.reserve_exact(window);
            let got = (&mut reader).take(window as u64).read_to_end(&mut buf);
            let last = match got {
                Ok(n) => {
                    observe(&buf);
                    n < window
                }
                Err(_) => true,
            };
            let sent = match got {
                Ok(0) => Ok(()),
                Ok(_) => tx.send(Ok(buf)),
                Err(e) => tx.send(Err(e)),
            };
            if last || sent.is_err() {
                return; // dropping `tx` tells the end
            }
        });
        let mut windows = Windows {
            rx,
            recycle,
            current: None,
            bytes: 0,
        };
        let result = consume(&mut windows);
        // Stops the reader if `consume` left early (it then fails to hand over).
        drop(windows);
        result
    })
}
