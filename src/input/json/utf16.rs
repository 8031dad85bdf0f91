//! Windows PowerShell 5.1 dumps (UTF-16) read in pieces, each transcoded as it is read.
//!
//! `Out-File` in Windows PowerShell writes UTF-16. Transcoding a whole dump to UTF-8
//! before reading it writes (and faults in) a second copy of the file and reads every
//! byte twice more. A pretty-printed dump is cut by its layout instead (`guess.rs`): the
//! cuts are found in the UTF-16 bytes (the pattern is ASCII, so a cut never splits a
//! character), and each piece is transcoded into a buffer its thread reuses and read from
//! there, in parallel; the cuts are then proven as for UTF-8 text. The text, and whether
//! invalid sequences were replaced, are those of decoding the whole file at once (a piece
//! starts after an ASCII `}`, where a decoder holds nothing over). Anything else (a small
//! file, JSON Lines, another layout) takes the usual way: the whole file transcoded first;
//! from a cut that is not proven on, the rest is transcoded and read by the planner.

use std::ops::Range;

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE};
use rayon::prelude::*;

use super::guess::{self, prove, Entry, Guess, Piece};
use super::split::Snapshot;
use super::{read_document, scan_planned, sniff_layout, Layout, Progress, Visitor};
use super::{CHUNK_BYTES, SNIFF_BYTES};
use crate::input::decode;
use crate::input::detect::{detect, Detected};

/// A UTF-16 JSON document that can be read in pieces.
pub struct Utf16Document<'a> {
    /// The text after the byte order mark, an even number of bytes.
    body: &'a [u8],
    /// Where `body` starts in the input's bytes (after the byte order mark).
    body_start: usize,
    encoding: &'static Encoding,
    /// The encoding as the run names it (`UTF-16LE (BOM)`).
    pub name: String,
    /// The file has an odd number of bytes (the last one is left out, as `decode` does).
    pub odd_byte: bool,
    /// The `--encoding` a byte order mark contradicted (see `Decoded::overridden`).
    pub overridden: Option<&'static Encoding>,
    guess: Guess,
}

/// UTF-16 bytes decoded to recognise the file: at least the UTF-8 bytes
/// [`sniff_layout`] looks at, and more.
const HEAD_BYTES: usize = 2 * SNIFF_BYTES + 4;

/// `bytes` as a UTF-16 document that can be read in pieces: UTF-16 (by its byte order
/// mark, `--encoding` or its zero bytes, as `decode` chooses), larger than its head, a
/// JSON document (not JSON Lines) whose first record gives its layout. `None`: the usual
/// way.
pub fn utf16_document<'a>(
    bytes: &'a [u8],
    forced: Option<&'static Encoding>,
) -> Option<Utf16Document<'a>> {
    let choice = decode::choose(bytes, forced);
    let encoding = choice.encoding;
    if encoding != UTF_16LE && encoding != UTF_16BE {
        return None;
    }
    let body = &bytes[choice.skip..];
    let odd_byte = body.len() % 2 == 1;
    let body = &body[..body.len() & !1];
    if body.len() <= 2 * HEAD_BYTES {
        return None;
    }
    let (head, _) = encoding.decode_without_bom_handling(&body[..HEAD_BYTES]);
    let head = head.as_bytes();
    if detect(head) != Detected::Json || sniff_layout(head) != Layout::Document {
        return None;
    }
    let guess = guess::guess(head)?;
    Some(Utf16Document {
        body,
        body_start: choice.skip,
        encoding,
        name: choice.name(),
        odd_byte,
        overridden: choice.overridden,
        guess,
    })
}

thread_local! {
    /// Each thread's buffer for the pieces it transcodes.
    static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl Utf16Document<'_> {
    /// Bytes of the text (after the byte order mark and an odd last byte).
    pub fn body_len(&self) -> usize {
        self.body.len()
    }

    /// `ascii` in this document's encoding.
    fn encode(&self, ascii: &[u8]) -> Vec<u8> {
        ascii
            .iter()
            .flat_map(|&b| {
                if self.encoding == UTF_16LE {
                    [b, 0]
                } else {
                    [0, b]
                }
            })
            .collect()
    }

    /// Transcodes `raw` (whole characters) into `buffer`; returns the text's length and
    /// whether invalid sequences were replaced.
    fn transcode(&self, raw: &[u8], buffer: &mut Vec<u8>) -> (usize, bool) {
        let mut decoder = self.encoding.new_decoder_without_bom_handling();
        // Room for mostly ASCII text (half the raw bytes) first, grown when a piece needs
        // more: the worst case (1.5 times) zero-filled three times what an export's text
        // takes, once per thread and run.
        if buffer.len() < raw.len() / 2 + 4096 {
            buffer.resize(raw.len() / 2 + 4096, 0);
        }
        let (mut read, mut written, mut replaced) = (0, 0, false);
        loop {
            let (result, r, w, rep) =
                decoder.decode_to_utf8(&raw[read..], &mut buffer[written..], true);
            (read, written, replaced) = (read + r, written + w, replaced | rep);
            if result == encoding_rs::CoderResult::InputEmpty {
                return (written, replaced);
            }
            let more = decoder
                .max_utf8_buffer_length(raw.len() - read)
                .unwrap_or((raw.len() - read).saturating_mul(3));
            buffer.resize(written + more.max(4096), 0);
        }
    }

    /// Reads every record, in parallel; returns one visitor per piece, in order, and
    /// whether invalid sequences were replaced. `done(range)` is called as each piece is
    /// transcoded and read: `range` is where its raw bytes lie in the input (given to
    /// [`utf16_document`]), for progress and to release their pages (a piece read again
    /// to prove a cut reads them again, which a released page allows).
    pub fn scan<V, F>(
        &self,
        make_visitor: F,
        done: &(dyn Fn(Range<usize>) + Sync),
    ) -> (Vec<V>, bool)
    where
        V: Visitor + Send,
        F: Fn() -> V + Sync,
    {
        let body = self.body;
        let pattern = self.encode(&self.guess.pattern);
        // Pieces of about the chunk size once transcoded (ASCII text halves).
        let cuts = guess::cuts(body, 2 * CHUNK_BYTES, &pattern, 2);
        let n = cuts.len();
        let end_of = |k: usize| cuts.get(k + 1).copied().unwrap_or(body.len());
        let replaced = AtomicBool::new(false);
        let quiet = |_: Range<usize>| {};
        let read = |k: usize, entry: Entry| {
            BUFFER.with_borrow_mut(|buffer| {
                let (len, r) = self.transcode(&body[cuts[k]..end_of(k)], buffer);
                replaced.fetch_or(r, Ordering::Relaxed);
                let text = &buffer[..len];
                let start = Snapshot {
                    pos: 0,
                    line: entry.line,
                    array: entry.array,
                };
                let mut visitor = make_visitor();
                let mut progress = Progress::new(&quiet, 0, usize::MAX);
                let bounds = (start, len, len);
                let stopped = read_document(text, bounds, k + 1 == n, &mut visitor, &mut progress);
                visitor.chunk_done();
                Piece::of(visitor, stopped, len)
            })
        };
        let pieces: Vec<Piece<V>> = (0..n)
            .into_par_iter()
            .with_max_len(1)
            .map(|k| {
                let entry = match k {
                    0 => Entry::FIRST,
                    _ => Entry::assumed(self.guess.in_array),
                };
                let piece = read(k, entry);
                done(self.body_start + cuts[k]..self.body_start + end_of(k));
                piece
            })
            .collect();
        let rest = |k: usize, entry: Entry| {
            let mut text = Vec::new();
            let (len, r) = self.transcode(&body[cuts[k]..], &mut text);
            replaced.fetch_or(r, Ordering::Relaxed);
            text.truncate(len);
            let start = Snapshot {
                pos: 0,
                line: entry.line,
                array: entry.array,
            };
            scan_planned(&text, start, CHUNK_BYTES, &make_visitor, &quiet)
        };
        let visitors = prove(pieces, self.guess.in_array, read, rest);
        (visitors, replaced.into_inner())
    }
}

#[cfg(test)]
mod tests;
