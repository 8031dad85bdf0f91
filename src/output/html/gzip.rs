//! Gzip on every thread, for the packed timeline: one standard gzip member whose deflate
//! stream is made of pieces compressed in parallel (as pigz does).
//!
//! The timeline's JSON document of a whole export is tens of megabytes; compressed on one
//! thread it was the one serial step after the scan of `report --html` (a seventh of its
//! CPU). Here the text is cut into [`PIECE`]-byte pieces, each deflated on its own (raw,
//! with a fresh window) and ended with a sync flush, which closes it on a byte boundary
//! with a non-final block; the pieces are concatenated in order and closed by an empty
//! final block, with the gzip header in front and the CRC-32 and length of the whole
//! text behind. Any inflater reads it as one stream (the browser's
//! `DecompressionStream("gzip")` included). The pieces do not depend on the thread
//! count, so the bytes are the same at any `-j`; each piece starting without the previous
//! one's window costs a little ratio (about 1% at 256 KiB pieces).

use std::io;

use flate2::{Compress, Compression, Crc, FlushCompress};
use rayon::prelude::*;

/// The text compressed by each task.
const PIECE: usize = 1 << 18;

/// The gzip header: magic, deflate, no flags, no time, no extra flags, unknown OS.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

/// An empty final block (fixed Huffman codes, nothing but the end-of-block code).
const LAST_BLOCK: [u8; 2] = [0x03, 0x00];

/// The level the page's data blocks are compressed at. Level 3: on the 1 GB UAL bench
/// export's timeline, 1% larger than level 6 (24.4 MB against 24.1 MB) for 7% less of the
/// whole report's CPU; level 1 is 14% larger.
const BLOCK_LEVEL: u32 = 3;

/// A data block of the page: `<script type="application/x-mbxaudit-KIND" id="ID"
/// data-rows="ROWS">` holding `text` gzip-compressed (at [`BLOCK_LEVEL`]) and in base64,
/// which the page's script unpacks with the browser's `DecompressionStream` (`unpack` in
/// `report.js`). A `script` element of a type no browser runs: data, never code.
pub fn data_block(kind: &str, id: &str, rows: usize, text: &[u8]) -> io::Result<String> {
    let bytes = compress(text, Compression::new(BLOCK_LEVEL))?;
    Ok(format!(
        "<script type=\"application/x-mbxaudit-{kind}\" id=\"{id}\" data-rows=\"{rows}\">{}</script>\n",
        crate::base64::encode(&bytes)
    ))
}

/// `text` as one gzip member, compressed at `level` on every thread (see the module
/// documentation).
pub fn compress(text: &[u8], level: Compression) -> io::Result<Vec<u8>> {
    let (pieces, crc) = rayon::join(
        || {
            text.par_chunks(PIECE)
                .map(|piece| deflate_piece(piece, level))
                .collect::<io::Result<Vec<Vec<u8>>>>()
        },
        || {
            let mut crc = Crc::new();
            crc.update(text);
            crc
        },
    );
    let pieces = pieces?;
    let body: usize = pieces.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(HEADER.len() + body + LAST_BLOCK.len() + 8);
    out.extend_from_slice(&HEADER);
    for piece in &pieces {
        out.extend_from_slice(piece);
    }
    out.extend_from_slice(&LAST_BLOCK);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE: the length modulo 2^32, as RFC 1952 says.
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    Ok(out)
}

/// One piece as raw deflate blocks, none final, ended on a byte boundary (sync flush).
fn deflate_piece(piece: &[u8], level: Compression) -> io::Result<Vec<u8>> {
    let mut c = Compress::new(level, false);
    let mut out = Vec::with_capacity(piece.len() / 3 + 64);
    loop {
        let done = usize::try_from(c.total_in()).unwrap_or(usize::MAX);
        let rest = piece.get(done..).unwrap_or_default();
        if out.capacity() - out.len() < 64 {
            out.reserve(out.capacity().max(4096));
        }
        c.compress_vec(rest, &mut out, FlushCompress::Sync)
            .map_err(|e| io::Error::other(format!("compressing the timeline: {e}")))?;
        // The flush is complete once all input is taken and output room was left over.
        let taken = usize::try_from(c.total_in()).unwrap_or(usize::MAX) >= piece.len();
        if taken && out.len() < out.capacity() {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .expect("a valid gzip member");
        out
    }

    /// Text that compresses as the timeline's does (repeated, with variety).
    fn sample(len: usize) -> Vec<u8> {
        let mut s = Vec::with_capacity(len);
        let mut x = 12345u32;
        while s.len() < len {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            s.extend_from_slice(format!("{},\"op{}\",", x % 1000, (x >> 16) % 7).as_bytes());
        }
        s.truncate(len);
        s
    }

    #[test]
    fn round_trips_at_every_size_around_the_pieces() {
        for len in [0, 1, 100, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE + 17] {
            let text = sample(len);
            let gz = compress(&text, Compression::new(6)).expect("compress");
            assert_eq!(gunzip(&gz), text, "{len} bytes");
            // One member: the decoder stops at its end, and nothing follows it.
            let mut d = flate2::bufread::GzDecoder::new(&gz[..]);
            io::copy(&mut d, &mut io::sink()).expect("inflate");
            assert!(d.into_inner().is_empty(), "{len} bytes");
        }
    }

    #[test]
    fn same_bytes_at_any_thread_count() {
        let text = sample(2 * PIECE + 999);
        let with = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| compress(&text, Compression::new(6)).expect("compress"))
        };
        assert_eq!(with(1), with(3));
    }

    #[test]
    fn costs_little_ratio_against_one_stream() {
        let text = sample(4 * PIECE);
        let mut one = flate2::write::GzEncoder::new(Vec::new(), Compression::new(6));
        io::Write::write_all(&mut one, &text).expect("compress");
        let one = one.finish().expect("compress");
        let parallel = compress(&text, Compression::new(6)).expect("compress");
        assert!(
            parallel.len() * 100 <= one.len() * 102,
            "{} vs {}",
            parallel.len(),
            one.len()
        );
    }
}
