//! Cutting a CSV body into chunks at record boundaries, for parallel workers.

use memchr::memchr2;
use rayon::prelude::*;

use super::Layout;
use crate::input::structural::{count_quotes_newlines, PieceCounts, Tokenizer};

/// A slice of the body holding whole records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Chunk {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) line: u64,
}

/// Target size of a chunk handed to one worker.
pub(super) const CHUNK_BYTES: usize = 4 << 20;

/// Cuts `text[start..]` into chunks of about `target` bytes at record boundaries.
pub(super) fn plan_chunks(text: &[u8], start: usize, line: u64, target: usize) -> Vec<Chunk> {
    let len = text.len();
    if len.saturating_sub(start) <= target {
        return vec![Chunk {
            start,
            end: len,
            line,
        }];
    }
    let cuts: Vec<usize> = (start..len).step_by(target).collect();
    // Quote and newline counts of each piece [cut_k, cut_k+1).
    let counts: Vec<PieceCounts> = cuts
        .par_iter()
        .enumerate()
        .map(|(k, &s)| {
            let e = cuts.get(k + 1).copied().unwrap_or(len);
            count_quotes_newlines(&text[s..e])
        })
        .collect();
    // Quote parity and line number at each cut.
    let mut at_cut = Vec::with_capacity(cuts.len());
    let (mut parity, mut lines) = (false, line);
    for c in &counts {
        at_cut.push((parity, lines));
        parity ^= c.quotes % 2 == 1;
        lines += c.newlines;
    }
    // The first record start at or after each cut.
    let starts: Vec<Option<(usize, u64)>> = cuts
        .par_iter()
        .zip(at_cut.par_iter())
        .enumerate()
        .map(|(k, (&cut, &(mut in_quotes, mut l)))| {
            if k == 0 {
                return Some((cut, l));
            }
            let end = cuts.get(k + 1).copied().unwrap_or(len);
            let mut pos = cut;
            while let Some(i) = memchr2(b'"', b'\n', &text[pos..end]) {
                let at = pos + i;
                if text[at] == b'"' {
                    in_quotes = !in_quotes;
                } else {
                    l += 1;
                    if !in_quotes {
                        return Some((at + 1, l));
                    }
                }
                pos = at + 1;
            }
            None
        })
        .collect();
    let starts: Vec<(usize, u64)> = starts.into_iter().flatten().collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, &(s, l))| Chunk {
            start: s,
            end: starts.get(k + 1).map_or(len, |n| n.0),
            line: l,
        })
        .filter(|c| c.start < c.end)
        .collect()
}

/// How far past a cut [`plan_speculative`] looks for a record start.
const SPECULATION_REACH: usize = 1 << 20;

/// How many line starts past a cut [`plan_speculative`] tries: enough for dozens of
/// records, few enough that an export whose rows all have the wrong width (every try
/// fails) costs little before the counted plan takes over.
const SPECULATION_TRIES: usize = 64;

/// Cuts the body into chunks of about `target` bytes like [`plan_chunks`], without its
/// counting pass over the whole text: each cut moves to the first line start after it
/// where two sound records of the header's field count begin. That is a guess (a line
/// inside a quoted field could look so), which [`super::scan_speculative`] checks. Chunks after
/// the first number their lines from 1. `None` when the body is one chunk, or when some
/// cut finds no such line start within [`SPECULATION_REACH`] or [`SPECULATION_TRIES`].
pub(super) fn plan_speculative(text: &[u8], layout: &Layout, target: usize) -> Option<Vec<Chunk>> {
    let (start, len) = (layout.body_start, text.len());
    if len.saturating_sub(start) <= target {
        return None;
    }
    let cuts: Vec<usize> = (start..len).step_by(target).collect();
    let starts: Vec<Option<usize>> = cuts
        .par_iter()
        .enumerate()
        .map(|(k, &cut)| match k {
            0 => Some(cut),
            _ => record_start_after(text, cut, layout),
        })
        .collect();
    let mut chunks: Vec<Chunk> = Vec::with_capacity(starts.len());
    for at in starts {
        let at = at?;
        if at >= len {
            continue; // the chunk before runs to the end
        }
        match chunks.last_mut() {
            Some(prev) if at <= prev.start => continue, // a long record spans the cut
            Some(prev) => prev.end = at,
            None => {}
        }
        let line = if chunks.is_empty() {
            layout.body_line
        } else {
            1
        };
        chunks.push(Chunk {
            start: at,
            end: len,
            line,
        });
    }
    Some(chunks)
}

/// The first line start after `cut` where two sound records of the header's field count
/// begin (see [`plan_speculative`]), or the end of the text when none does before it.
fn record_start_after(text: &[u8], cut: usize, layout: &Layout) -> Option<usize> {
    let reach = text.len().min(cut.saturating_add(SPECULATION_REACH));
    let expected = layout.columns.len();
    let mut from = cut;
    for _ in 0..SPECULATION_TRIES {
        let Some(i) = memchr::memchr(b'\n', &text[from..reach]) else {
            break;
        };
        let at = from + i + 1;
        // Two records within reach: a record longer than that is not looked through.
        let end = text.len().min(at.saturating_add(SPECULATION_REACH));
        let mut tokens = Tokenizer::new(text, at, end, 1, layout.delimiter);
        let fits = (0..2).all(|_| {
            tokens
                .next_record_sparse(&[], &mut [])
                .is_some_and(|r| r.sound && r.fields == expected)
        });
        if fits {
            return Some(at);
        }
        from = at;
    }
    // Near the end of the text the record before the cut may simply be the last ones:
    // the chunk before takes the rest.
    (reach == text.len()).then_some(text.len())
}
