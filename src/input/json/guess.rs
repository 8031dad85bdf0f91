//! A document cut for parallel reading without a sequential pass: cuts guessed from the
//! layout, then proven.
//!
//! Where a document's records end can only be known by reading it from the start (a `}`
//! may close a record, a nested object, or lie in a string). The planner does that in one
//! pass on one thread, which costs as much as reading the records on the others. But a
//! pretty-printed dump (`ConvertTo-Json`) shows where its records end: each record's
//! closing brace stands alone on its line, indented as the first record's opening brace,
//! and nested objects are indented deeper (a string cannot hold a line break). So:
//!
//! 1. the first record's indentation gives the pattern (`\n`, that indentation, `}`);
//!    a cut is guessed just past the first such brace after every `target` bytes;
//! 2. the pieces are read in parallel, each from the state its cut implies: between two
//!    elements of the top-level array (or two top-level objects), on line 1;
//! 3. each cut is then proven, in order: the piece before it, itself read from a proven
//!    start, must have stopped exactly there, in that state. A piece read from a true cut
//!    reads as the whole text would, so its line numbers only need shifting; the rare
//!    piece whose messages spell out a line, or the line of the array it is in (damaged
//!    records), is read again from its proven start. At the first cut that is not proven
//!    (another layout, a damaged file), the planner reads again from the start of the
//!    piece before it (which read nothing past the cut, so a wrong cut costs a piece).

use std::ops::Range;

use rayon::prelude::*;

use super::split::{Bound, Snapshot, Splitter, Step};
use super::{read_document, scan_planned, Progress, Visitor};

/// The line of the top-level array a guessed piece starts in: not known there. A piece
/// whose messages need it is read again once its start is proven.
pub(super) const UNKNOWN_LINE: u64 = u64::MAX;

/// What the first record says about the others.
pub(super) struct Guess {
    /// A line break, the first record's indentation and `}`: how a record ends.
    pub pattern: Vec<u8>,
    /// The first record is an element of a top-level array.
    pub in_array: bool,
}

/// The pattern of the first record's end, when it opens at the start of a line (after
/// its indentation) and closes alike.
pub(super) fn guess(text: &[u8]) -> Option<Guess> {
    let mut sp = Splitter::new(0, 1, Bound::File);
    let Step::Record { start, .. } = sp.next(text, text.len()) else {
        return None;
    };
    let in_array = sp.snapshot(text).array.is_some();
    let line_start = text[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let indent = &text[line_start..start];
    if !indent.iter().all(|&b| b == b' ' || b == b'\t') {
        return None;
    }
    let end = sp.skip_record(text, text.len())?;
    let mut pattern = b"\n".to_vec();
    pattern.extend_from_slice(indent);
    pattern.push(b'}');
    text[..end]
        .ends_with(&pattern)
        .then_some(Guess { pattern, in_array })
}

/// Offsets of the guessed cuts in `bytes`, 0 first: just past the first `pattern` at or
/// after every `target` bytes, at a multiple of `unit` (the code unit of the encoding).
pub(super) fn cuts(bytes: &[u8], target: usize, pattern: &[u8], unit: usize) -> Vec<usize> {
    let finder = memchr::memmem::Finder::new(pattern);
    let mut cuts = vec![0];
    let mut from = target.next_multiple_of(unit);
    while from < bytes.len() {
        let Some(i) = finder.find(&bytes[from..]) else {
            break;
        };
        let cut = from + i + pattern.len();
        if !(from + i).is_multiple_of(unit) {
            from += i + 1;
            continue;
        }
        if cut >= bytes.len() {
            break;
        }
        cuts.push(cut);
        from = (cut + target).next_multiple_of(unit);
    }
    cuts
}

/// The state of the splitter where a piece starts, but for its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub line: u64,
    pub array: Option<u64>,
}

impl Entry {
    /// Where the first piece starts.
    pub const FIRST: Entry = Entry {
        line: 1,
        array: None,
    };

    /// What a piece after the first is read from before its cut is proven.
    pub fn assumed(in_array: bool) -> Entry {
        Entry {
            line: 1,
            array: in_array.then_some(UNKNOWN_LINE),
        }
    }
}

/// One piece as read from an [`Entry`]: its visitor, where the splitter stopped (line
/// numbers as read), whether its messages spell out lines, and whether it stopped at the
/// cut after it, just past a record that closed there.
pub(super) struct Piece<V> {
    pub visitor: V,
    pub end: Entry,
    pub spelt_lines: bool,
    pub at_cut: bool,
}

impl<V> Piece<V> {
    /// A piece read by [`read_document`] up to `end`, a cut.
    pub fn of(visitor: V, stopped: super::Stopped, end: usize) -> Piece<V> {
        Piece {
            visitor,
            end: Entry {
                line: stopped.state.line,
                array: stopped.state.array,
            },
            spelt_lines: stopped.spelt_lines,
            at_cut: stopped.state.pos == end && stopped.record_end == Some(end),
        }
    }
}

/// Proves, in order, the cuts of pieces read from [`Entry::assumed`] (and the first from
/// [`Entry::FIRST`]): piece k is kept, its lines shifted, when it starts at a proven cut;
/// `again(k, entry)` reads it again from its true entry when its messages spell lines.
/// At the first cut not proven, `rest(k, entry)` reads everything from piece k's start.
pub(super) fn prove<V: Visitor>(
    pieces: Vec<Piece<V>>,
    in_array: bool,
    again: impl Fn(usize, Entry) -> Piece<V>,
    rest: impl FnOnce(usize, Entry) -> Vec<V>,
) -> Vec<V> {
    let n = pieces.len();
    let mut out = Vec::with_capacity(n);
    // The true state where piece k starts.
    let mut start = Entry::FIRST;
    for (k, piece) in pieces.into_iter().enumerate() {
        let at_cut = piece.at_cut;
        let (visitor, end) = if k > 0 && piece.spelt_lines {
            let again = again(k, start);
            (again.visitor, again.end)
        } else {
            let shift = start.line - 1;
            let Piece {
                mut visitor,
                mut end,
                ..
            } = piece;
            visitor.shift_lines(shift);
            end.line += shift;
            end.array = end.array.map(|line| match line {
                UNKNOWN_LINE => start.array.unwrap_or(UNKNOWN_LINE),
                line => line + shift,
            });
            (visitor, end)
        };
        if k + 1 == n {
            out.push(visitor);
            break;
        }
        // The cut after piece k is proven when piece k (read from a proven start)
        // stopped there, past a record that closed there, in the state piece k + 1 was
        // read from. Else piece k stopped short of where it should have, and everything
        // from its start is read again.
        if !at_cut || end.array.is_some() != in_array {
            out.extend(rest(k, start));
            return out;
        }
        out.push(visitor);
        start = end;
    }
    out
}

/// Reads `text`, a document, in pieces cut by the layout; `None` when the layout gives
/// no cut (the caller plans instead).
pub(super) fn scan<V, F>(
    text: &[u8],
    target: usize,
    make_visitor: &F,
    done: &(dyn Fn(Range<usize>) + Sync),
) -> Option<Vec<V>>
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    let guess = guess(text)?;
    let cuts = cuts(text, target, &guess.pattern, 1);
    if cuts.len() < 2 {
        return None;
    }
    let n = cuts.len();
    let end_of = |k: usize| cuts.get(k + 1).copied().unwrap_or(text.len());
    // A piece reads nothing past its end: a wrong cut costs its piece only.
    let read = |k: usize, entry: Entry, progress: &mut Progress<'_>| {
        let mut visitor = make_visitor();
        let start = Snapshot {
            pos: cuts[k],
            line: entry.line,
            array: entry.array,
        };
        let end = end_of(k);
        let stopped = read_document(text, (start, end, end), k + 1 == n, &mut visitor, progress);
        visitor.chunk_done();
        Piece::of(visitor, stopped, end)
    };
    let pieces: Vec<Piece<V>> = (0..n)
        .into_par_iter()
        .with_max_len(1)
        .map(|k| {
            let mut progress = Progress::new(done, cuts[k], usize::MAX);
            let entry = match k {
                0 => Entry::FIRST,
                _ => Entry::assumed(guess.in_array),
            };
            let piece = read(k, entry, &mut progress);
            progress.finish(end_of(k));
            piece
        })
        .collect();
    let again = |k: usize, entry: Entry| read(k, entry, &mut Progress::new(&|_| {}, 0, usize::MAX));
    // (Every byte was reported done by the pieces already.)
    let rest = |k: usize, entry: Entry| {
        let start = Snapshot {
            pos: cuts[k],
            line: entry.line,
            array: entry.array,
        };
        scan_planned(text, start, target, make_visitor, &|_| {})
    };
    Some(prove(pieces, guess.in_array, again, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_record_ends_from_the_first_record() {
        let ps51 = "\u{feff}[\r\n    {\r\n        \"a\":  {\r\n                  \"b\":  1\r\n              },\r\n        \"c\":  2\r\n    },\r\n    {\r\n        \"a\":  3\r\n    }\r\n]\r\n";
        let text = ps51.trim_start_matches('\u{feff}').as_bytes();
        let g = guess(text).expect("pretty-printed");
        assert_eq!(g.pattern, b"\n    }");
        assert!(g.in_array);
        let s = std::str::from_utf8(text).unwrap();
        let ends = [
            s.find("\n    },").unwrap() + 6,
            s.rfind("\n    }").unwrap() + 6,
        ];
        assert_eq!(cuts(text, 1, &g.pattern, 1), vec![0, ends[0], ends[1]]);
        assert_eq!(cuts(text, ends[0], &g.pattern, 1), vec![0, ends[1]]);
        assert!(guess(br#"[{"a":1},{"a":2}]"#).is_none());
        let bare = b"{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n";
        let g = guess(bare).expect("bare objects");
        assert!(!g.in_array);
        assert_eq!(cuts(bare, 1, &g.pattern, 1), vec![0, 12, 25]);
    }
}
