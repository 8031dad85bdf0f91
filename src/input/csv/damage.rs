//! What a damaged CSV export looks like to the reader, and how it recovers: records that
//! lost the quote parity (a stray or cut quote) are cut after their first line
//! ([`resync_after`]), and the message of a malformed record says what the damage looks
//! like and what to do ([`Damage`]: cut short, bare carriage returns, NUL bytes).

use super::{Chunk, Span};
use crate::input::structural::{count_quotes_newlines, RecordSpan};

/// True when `span` is a quoted field holding a quote that is not part of a `""` pair.
pub(super) fn undoubled_quote(record: &[u8], span: &Span) -> bool {
    if !span.escaped {
        return false;
    }
    let content = record
        .get(span.start as usize..span.end as usize)
        .unwrap_or_default();
    let mut at = 0;
    while let Some(i) = memchr::memchr(b'"', &content[at..]) {
        if content.get(at + i + 1) != Some(&b'"') {
            return true;
        }
        at += i + 2;
    }
    false
}

/// Where reading resumes after a record whose quotes do not pair up.
pub(super) struct Resync {
    pub chunk: Chunk,
    /// Physical lines the broken record ran over.
    pub lines: u64,
}

/// A record that could not be split into fields (an unterminated quote, text after a
/// closing quote, too few fields, a quote not doubled inside a quoted field) and that runs
/// over several lines has most likely lost the quote parity: a stray or cut quote made
/// the later line breaks look quoted, so the "record" swallows the lines after it, up to
/// the next stray quote or the end of the file. Such a record is cut after its first
/// line, and reading resumes on the next line with the parity reset. (A record with too
/// many fields kept its quotes paired and is not cut.) The cost for a genuine multi-line
/// record that is also broken: its later lines are read, and reported, as records of
/// their own.
///
/// The chunk planner cut the text by the parity of the whole text, which no longer holds
/// after the cut: [`super::scan`] drops the later chunks and reads the rest in one pass,
/// so the records are the same at any chunk size and thread count.
pub(super) fn resync_after(text: &[u8], span: RecordSpan) -> Option<Resync> {
    let record = &text[span.start..span.end];
    let first_break = memchr::memchr(b'\n', record)?;
    let lines = 1 + count_quotes_newlines(record).newlines;
    Some(Resync {
        chunk: Chunk {
            start: span.start + first_break + 1,
            end: text.len(),
            line: span.line + 1,
        },
        lines,
    })
}

/// What a malformed record shows of the damage, for its message (empty if nothing).
pub(super) struct Damage {
    pub truncated: bool,
    bare_cr: bool,
    nuls: usize,
}

impl Damage {
    pub fn of(text: &[u8], span: RecordSpan, nuls: usize) -> Damage {
        let record = &text[span.start..span.end];
        Damage {
            truncated: text[span.end..].iter().all(|&b| b == b'\r'),
            bare_cr: memchr::memchr_iter(b'\r', record).any(|i| record.get(i + 1) != Some(&b'\n')),
            nuls,
        }
    }

    /// The damage of a record followed piece by piece, too long to hold (see
    /// `super::stream`), from what was seen of it.
    pub fn new(truncated: bool, bare_cr: bool, nuls: usize) -> Damage {
        Damage {
            truncated,
            bare_cr,
            nuls,
        }
    }
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.truncated {
            f.write_str(
                "; the file ends inside this row, so it was probably cut short (a truncated \
                 copy or export): the rows before it are read; copy or export the file again \
                 to recover this one",
            )?;
        }
        if self.bare_cr {
            f.write_str(
                "; the row holds carriage returns without line feeds (classic Mac line ends, \
                 or a damaged copy), which do not end a record here: convert the file's line \
                 ends to CRLF or LF and run again",
            )?;
        }
        if self.nuls > 0 {
            write!(
                f,
                "; the row holds {} NUL byte{} (a zero-filled or damaged region of the file)",
                self.nuls,
                if self.nuls == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

/// True when `span` is the text's last record, with no line end after it, and its last
/// bytes are the start of a UTF-8 sequence that the end of the text cut.
pub(super) fn ends_mid_utf8(text: &[u8], span: RecordSpan) -> bool {
    if span.end != text.len() {
        return false;
    }
    let record = &text[span.start..span.end];
    // The last lead byte within the last four bytes, and how many bytes follow it.
    for back in 1..=record.len().min(4) {
        let b = record[record.len() - back];
        if b & 0xC0 == 0x80 {
            continue; // a continuation byte
        }
        let need = match b {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return false,
        };
        return back < need;
    }
    false
}
