//! SHA-256 as the manifest and streams need it: of bytes in memory, and of what passes
//! through a writer ([`HashingWriter`]). RustCrypto's `sha2` (SHA-NI where the CPU has it):
//! no hand-rolled cryptography.

use std::io::Write;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// A writer that hashes what goes through it (or only counts it, see
/// [`HashingWriter::counting`]).
pub struct HashingWriter<'w> {
    inner: &'w mut (dyn Write + Send),
    hasher: Option<Sha256>,
    bytes: u64,
}

/// What was written: its size and SHA-256 (lower-case hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Written {
    pub bytes: u64,
    pub sha256: String,
}

impl<'w> HashingWriter<'w> {
    pub fn new(inner: &'w mut (dyn Write + Send)) -> Self {
        HashingWriter {
            inner,
            hasher: Some(Sha256::new()),
            bytes: 0,
        }
    }

    /// A writer that counts the bytes and does not hash them (no manifest asked for):
    /// [`Written::sha256`] is then empty.
    pub fn counting(inner: &'w mut (dyn Write + Send)) -> Self {
        HashingWriter {
            inner,
            hasher: None,
            bytes: 0,
        }
    }

    pub fn finish(self) -> Written {
        Written {
            bytes: self.bytes,
            sha256: self.hasher.map_or_else(String::new, |h| hex(&h.finalize())),
        }
    }
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The SHA-256 of `bytes`, as hex (for tests and tools).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_text() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut sink = Vec::new();
        let mut w = HashingWriter::new(&mut sink);
        w.write_all(b"a").unwrap();
        w.write_all(b"bc").unwrap();
        let written = w.finish();
        assert_eq!(written.bytes, 3);
        assert_eq!(written.sha256, sha256_hex(b"abc"));
        assert_eq!(sink, b"abc");
    }
}
