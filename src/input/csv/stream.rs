//! A CSV export that arrives in windows (standard input, a pipe), read in bounded memory
//! with the records, messages and line numbers that [`super::scan`] gives for the whole
//! text.
//!
//! The text is read one *regime* at a time: a stretch of records whose boundaries are the
//! line feeds after an even number of quote bytes since the regime's start. The first
//! regime starts at the body; a record that lost the quote parity starts a new one on its
//! second line (see `damage::resync_after`), with the parity flipped. A `Cursor` finds the
//! last boundary of each window (and, for the flip, the last line feed of the other
//! parity), the records before it are read in parallel as `scan` reads them, and the rest
//! is carried into the next window.
//!
//! A record that has no boundary within `max_record` bytes (in practice one that a
//! stray quote made run on) is not held: a `check::RecordCheck` follows it byte by byte
//! to its end and works out what `scan` would say of it, while the records that `scan`
//! would read after a resynchronisation on its second line are read *speculatively*. Once
//! the long record ends, they are kept if it is one that resynchronises, and dropped
//! otherwise. The one difference from a whole-text read: a long record that is
//! *well-formed* (a field of over `max_record` bytes) cannot be handed to the visitor, and
//! is counted as malformed with a message that says so.

use rayon::prelude::*;

use super::{scan, scan_planned, Chunk, Layout, CHUNK_BYTES};
use crate::input::structural::{masks, prefix_xor};
use crate::input::visit::Visitor;
use check::{Outcome, RecordCheck};

mod check;

/// Reads the records of a CSV body that arrives in windows; see the module documentation.
pub struct CsvStream<V> {
    layout: Layout,
    max_record: usize,
    merge: fn(&mut V, V),
    regime: Regime<V>,
    blank: Blank,
}

impl<V: Visitor + Send> CsvStream<V> {
    /// A reader of the body that `layout` (read from the start of the text, so its
    /// `body_start` is an offset in the whole text) describes. A record with no boundary
    /// within `max_record` bytes is followed without being held. `merge` adds to a
    /// visitor those of a later one (to keep their number down while such a record is
    /// followed).
    pub fn new(layout: &Layout, max_record: usize, merge: fn(&mut V, V)) -> CsvStream<V> {
        CsvStream {
            layout: layout.clone(),
            max_record: max_record.max(1),
            merge,
            regime: Regime::new(layout.body_start, layout.body_line),
            blank: Blank::new(layout.body_start),
        }
    }

    /// Reads the records that are complete in `text`, the decoded text from offset `base`
    /// of the whole, up to what has arrived; `end` when that is the end of the input. The
    /// visitors go to `out` in input order. Returns the offset before which the text is
    /// no longer needed (the caller drops it, and passes the rest again with more).
    pub fn feed<F>(
        &mut self,
        text: &[u8],
        base: usize,
        end: bool,
        make_visitor: &F,
        out: &mut dyn FnMut(V),
    ) -> usize
    where
        F: Fn() -> V + Sync,
    {
        let limit = base + text.len();
        self.blank.observe(text, base);
        let reader = Reader {
            layout: &self.layout,
            max_record: self.max_record,
            merge: self.merge,
            make_visitor,
        };
        let mut done = Vec::new();
        reader.run(&mut self.regime, text, base, limit, end, &mut done);
        done.into_iter().for_each(&mut *out);
        if end && self.blank.single_chunk(limit) {
            // The header-only warning, worded by `scan` itself: given the body's position
            // and nothing of it, it reads no record and warns, as it does for a file
            // whose body is blank.
            let mut layout = self.layout.clone();
            layout.body_start = 0;
            scan(b"", &layout, make_visitor, &|_| {})
                .into_iter()
                .for_each(&mut *out);
        }
        self.regime.needed().min(limit).max(base)
    }
}

/// What `scan` needs besides the text.
struct Reader<'r, F, V> {
    layout: &'r Layout,
    max_record: usize,
    merge: fn(&mut V, V),
    make_visitor: &'r F,
}

/// Records read with one quote parity, from `start` on.
struct Regime<V> {
    /// The next record's offset; an even number of quotes lie between it and the
    /// regime's start.
    start: usize,
    line: u64,
    cursor: Cursor,
    /// A record longer than `max_record` that starts at `start`, being followed.
    long: Option<Box<Long<V>>>,
}

/// A long record being followed, and the records read meanwhile from its second line.
struct Long<V> {
    check: RecordCheck,
    /// The regime `scan` reads after a resynchronisation on the record's second line,
    /// and its visitors so far.
    after: Option<(Regime<V>, Vec<V>)>,
}

impl<V> Regime<V> {
    fn new(start: usize, line: u64) -> Regime<V> {
        Regime {
            start,
            line,
            cursor: Cursor::new(start, line),
            long: None,
        }
    }

    /// The first offset still needed.
    fn needed(&self) -> usize {
        match &self.long {
            None => self.start,
            Some(long) => match &long.after {
                Some((after, _)) => after.needed().min(long.check.pos()),
                None => long.check.pos(),
            },
        }
    }
}

impl<F, V> Reader<'_, F, V>
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    /// Reads what it can of `r` from `text` (offset `base`) up to offset `limit`, which is
    /// the end of the input for this regime when `end`.
    fn run(
        &self,
        r: &mut Regime<V>,
        text: &[u8],
        base: usize,
        limit: usize,
        end: bool,
        out: &mut Vec<V>,
    ) {
        loop {
            if let Some(long) = r.long.as_deref_mut() {
                long.check.feed(text, base, limit, end);
                if long.after.is_none() {
                    if let Some((at, line)) = long.check.second_line() {
                        long.after = Some((Regime::new(at, line), Vec::new()));
                    }
                }
                if let Some((after, after_out)) = &mut long.after {
                    // Up to the long record's end at most: past it, its outcome decides.
                    let stop = long.check.end().unwrap_or(limit).min(limit);
                    self.run(after, text, base, stop, false, after_out);
                    if after_out.len() >= 64 {
                        let mut all = after_out.drain(..);
                        if let Some(mut first) = all.next() {
                            all.for_each(|v| (self.merge)(&mut first, v));
                            after_out.push(first);
                        }
                    }
                }
                let Some(outcome) = long
                    .check
                    .outcome(self.layout.columns.len(), self.max_record)
                else {
                    return; // the record goes on past what has arrived
                };
                let long = *r.long.take().expect("a long record is being followed");
                match outcome {
                    Outcome::Resync { line, message } => {
                        let mut visitor = (self.make_visitor)();
                        visitor.malformed(line, message);
                        out.push(visitor);
                        let (after, after_out) = long
                            .after
                            .expect("a record that resynchronises has a second line");
                        out.extend(after_out);
                        *r = after;
                    }
                    Outcome::Malformed {
                        line,
                        message,
                        next,
                        next_line,
                    } => {
                        if let Some(message) = message {
                            let mut visitor = (self.make_visitor)();
                            visitor.malformed(line, message);
                            out.push(visitor);
                        }
                        *r = Regime::new(next, next_line);
                    }
                }
                continue;
            }

            let (cut, cut_line) = if end {
                (limit, 0)
            } else {
                r.cursor.scan(text, base, limit);
                match r.cursor.boundary(r.start) {
                    Some(b) => b,
                    None => {
                        if limit.saturating_sub(r.start) > self.max_record {
                            r.long = Some(Box::new(Long {
                                check: RecordCheck::new(r.start, r.line, self.layout.delimiter),
                                after: None,
                            }));
                            continue;
                        }
                        return; // the record at `start` is not complete yet
                    }
                }
            };
            if cut <= r.start {
                return;
            }
            let (visitors, rest) = self.scan_part(&text[..cut - base], r.start - base, r.line, end);
            out.extend(visitors);
            match rest {
                None if end => {
                    r.start = limit;
                    return;
                }
                None => {
                    r.start = cut;
                    r.line = cut_line;
                }
                Some(rest) => {
                    // A record lost the parity: `scan` reads on from its second line with
                    // the parity flipped, which may move the last boundary.
                    r.start = base + rest.start;
                    r.line = rest.line;
                    r.cursor.flip(r.start);
                }
            }
        }
    }

    /// Reads the records of `text[start..]` (whole records, or the rest of the input when
    /// `end`) in parallel chunks, as `scan` does. Returns the visitors in order and, when
    /// a record lost the quote parity and `end` is false, where reading resumes: the
    /// records from there are read by the caller with the flipped parity.
    fn scan_part(
        &self,
        text: &[u8],
        start: usize,
        line: u64,
        end: bool,
    ) -> (Vec<V>, Option<Chunk>) {
        let place = (start, line);
        scan_planned(
            text,
            self.layout,
            place,
            &self.make_visitor,
            &|_| {},
            CHUNK_BYTES,
            end,
        )
    }
}

/// The boundaries seen so far in a regime: the last line feed after an even number of
/// quote bytes since the regime's start (a record boundary), and the last after an odd
/// number (a boundary once a resynchronisation flips the parity). Found 64 bytes at a
/// time from the quote and newline masks, as the tokenizer finds them, and never
/// scanned twice.
#[derive(Clone, Copy, Debug)]
struct Cursor {
    /// Scanned up to here.
    pos: usize,
    /// Odd number of quotes between the regime's start and `pos`.
    odd: bool,
    /// Physical line at `pos`.
    line: u64,
    /// `[even, odd]`: offset just after the last such line feed, and the line there.
    last: [Option<(usize, u64)>; 2],
}

impl Cursor {
    fn new(start: usize, line: u64) -> Cursor {
        Cursor {
            pos: start,
            odd: false,
            line,
            last: [None, None],
        }
    }

    /// Scans `[pos, limit)` of `text` (which holds the whole from offset `base`): a long
    /// stretch in parallel pieces, whose counts are then added up in order.
    fn scan(&mut self, text: &[u8], base: usize, limit: usize) {
        const PIECE: usize = 1 << 20;
        if limit.saturating_sub(self.pos) <= 2 * PIECE {
            self.scan_serial(text, base, limit);
            return;
        }
        let pieces: Vec<Cursor> = (self.pos..limit)
            .step_by(PIECE)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|start| {
                // Counted from the piece's start: lines from 0, parity even.
                let mut piece = Cursor::new(start, 0);
                piece.scan_serial(text, base, (start + PIECE).min(limit));
                piece
            })
            .collect();
        for piece in pieces {
            for (slot, last) in piece.last.into_iter().enumerate() {
                if let Some((at, lines)) = last {
                    self.last[slot ^ usize::from(self.odd)] = Some((at, self.line + lines));
                }
            }
            self.line += piece.line;
            self.odd ^= piece.odd;
            self.pos = piece.pos;
        }
    }

    fn scan_serial(&mut self, text: &[u8], base: usize, limit: usize) {
        while self.pos < limit {
            let at = self.pos - base;
            let n = (limit - self.pos).min(64);
            // The delimiter is not needed; `"` keeps it out of the way.
            let m = match text[at..at + n].first_chunk::<64>() {
                Some(block) => masks(block, b'"'),
                None => {
                    let mut block = [0u8; 64];
                    block[..n].copy_from_slice(&text[at..at + n]);
                    masks(&block, b'"')
                }
            };
            let inside = prefix_xor(m.quotes) ^ if self.odd { u64::MAX } else { 0 };
            for (slot, bits) in [m.newlines & !inside, m.newlines & inside]
                .into_iter()
                .enumerate()
            {
                if bits != 0 {
                    let bit = 63 - bits.leading_zeros();
                    let upto = if bit == 63 {
                        u64::MAX
                    } else {
                        (1u64 << (bit + 1)) - 1
                    };
                    let line = self.line + u64::from((m.newlines & upto).count_ones());
                    self.last[slot] = Some((self.pos + bit as usize + 1, line));
                }
            }
            self.line += u64::from(m.newlines.count_ones());
            self.odd ^= m.quotes.count_ones() % 2 == 1;
            self.pos += n;
        }
    }

    /// The last record boundary after `start`.
    fn boundary(&self, start: usize) -> Option<(usize, u64)> {
        self.last[0].filter(|&(at, _)| at > start)
    }

    /// The regime restarts at `start`, after a line feed inside quotes: the parity flips.
    fn flip(&mut self, start: usize) {
        self.odd = !self.odd;
        let keep = |b: Option<(usize, u64)>| b.filter(|&(at, _)| at >= start);
        self.last = [keep(self.last[1]), keep(self.last[0])];
    }
}

/// Whether the body is blank, and whether `scan` would plan it as one chunk: its
/// header-only warning needs both (it is given when the body holds nothing but ASCII
/// whitespace and makes a single chunk).
struct Blank {
    body_start: usize,
    seen: usize,
    blank: bool,
    /// Line feeds at or after `body_start + CHUNK_BYTES`, where the planner cuts, and
    /// the offset of the last.
    late_newlines: u64,
    last_late: usize,
}

impl Blank {
    fn new(body_start: usize) -> Blank {
        Blank {
            body_start,
            seen: body_start,
            blank: true,
            late_newlines: 0,
            last_late: 0,
        }
    }

    fn observe(&mut self, text: &[u8], base: usize) {
        let limit = base + text.len();
        if !self.blank || limit <= self.seen {
            self.seen = self.seen.max(limit);
            return;
        }
        let from = self.seen.max(base);
        let new = &text[from - base..];
        if !new.trim_ascii().is_empty() {
            self.blank = false;
        } else {
            let late = self.body_start.saturating_add(CHUNK_BYTES);
            for i in memchr::memchr_iter(b'\n', new) {
                if from + i >= late {
                    self.late_newlines += 1;
                    self.last_late = from + i;
                }
            }
        }
        self.seen = limit;
    }

    /// At the end of the input (`len` bytes): the body is blank and one chunk. A cut's
    /// chunk starts after the first line feed past the cut, and one that would start at
    /// the very end is dropped.
    fn single_chunk(&self, len: usize) -> bool {
        self.blank
            && (self.late_newlines == 0 || (self.late_newlines == 1 && self.last_late + 1 == len))
    }
}

/// `n` bytes, in MiB when that is exact: the bound in messages.
pub fn size_name(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

#[cfg(test)]
mod tests;
