//! JSON exports: PowerShell `ConvertTo-Json` dumps of `Search-MailboxAuditLog` and
//! `Search-UnifiedAuditLog` results, and Unified Audit Log JSON / JSON Lines.
//!
//! A file holds one object, an array of objects, several of those concatenated
//! (`Out-File -Append`), or JSON Lines. Each *record object* (a top-level object, or an
//! object element of a top-level array) is one record. The reader works on the decoded
//! text, without copying it:
//!
//! 1. the layout is sniffed from the first lines: **JSON Lines** when most of them are
//!    complete values (then every line is read on its own, so a broken line costs only
//!    itself), else a **document**, where line breaks are whitespace;
//! 2. the text is cut into chunks at record boundaries: at line ends for JSON Lines; for
//!    a pretty-printed document where its layout shows a record ends, each cut proven
//!    once read ([`guess`]); else by one sequential pass of the structure [`split`]ter,
//!    which tracks strings, escapes and nesting without parsing anything, and hands each
//!    chunk to a worker as soon as it is cut;
//! 3. the chunks are read in parallel (rayon), in order: the splitter walks the bytes
//!    between records, each record is parsed by a validating [`parse`]r into borrowed
//!    members (read from its structure 64 bytes at a time, [`blocks`]) and mapped by
//!    [`ps`]. Nothing is copied for a record the visitor drops. The records are the same
//!    at any chunk size, so one thread reads the whole text in one pass, without
//!    planning.
//!
//! A large UTF-16 dump (Windows PowerShell 5.1) is not transcoded whole: its pieces are
//! transcoded one by one as they are read ([`utf16`]). [`scan_reference`] reads the slow,
//! obvious way, for the tests that hold these fast paths to it.
//!
//! Every reader of JSON text (the splitter, the parser, the quick look at AuditData in
//! `ual/fast.rs` and `ual.rs`'s recovery of a cut AuditData) reads strings, escapes and
//! nesting with the one [`lex`]er, each under its own rules.
//!
//! Broken structure (a truncated file, text between values, an unterminated string) is
//! reported through [`Visitor::malformed`] with the line where the broken value starts,
//! and reading resumes at the next value: the next line for JSON Lines, the next record
//! for a document (a record that never closes runs to the end of the file, where it is
//! reported as truncated).

mod blocks;
mod guess;
mod names;
mod one_row;
mod parse;
mod ps;
mod split;
mod utf16;

use std::ops::Range;

use memchr::memchr;
use rayon::prelude::*;

use super::visit::Visitor;
use ps::Reader;
use split::{Bound, Snapshot, Splitter, Step};
pub use utf16::{utf16_document, Utf16Document};

/// How records are laid out in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// One value (or several) per line.
    Lines,
    /// Line breaks are whitespace: pretty-printed dumps, single-line arrays.
    Document,
}

/// Lines looked at to choose the layout.
const SNIFF_LINES: usize = 16;
/// Bytes looked at to choose the layout.
pub const SNIFF_BYTES: usize = 1 << 20;

/// Chooses the layout: JSON Lines when at least half of the first lines (up to 16 within
/// the first MiB) each hold complete record objects; a line longer than that is a
/// document (whose chunks can then be cut inside it).
pub fn sniff_layout(text: &[u8]) -> Layout {
    let window = &text[..text.len().min(SNIFF_BYTES)];
    let (mut seen, mut complete) = (0usize, 0usize);
    let mut pos = 0;
    while seen < SNIFF_LINES && pos < window.len() {
        let end = match memchr(b'\n', &window[pos..]) {
            Some(i) => pos + i,
            None if window.len() == text.len() => window.len(),
            None => break,
        };
        let line = &window[pos..end];
        pos = end + 1;
        if line.trim_ascii().is_empty() {
            continue;
        }
        seen += 1;
        complete += usize::from(is_complete_line(line));
    }
    if seen > 0 && complete * 2 >= seen {
        Layout::Lines
    } else {
        Layout::Document
    }
}

/// Why the file is not read, when its first record object is a wrapper (a Graph page,
/// an Elastic or Splunk export) whose first record is not one mbxaudit reads: the message
/// names the wrapper and how to extract its records. Looks no further than the first MiB
/// after that record's start.
pub fn refuse_wrapper(text: &[u8]) -> Option<String> {
    let mut sp = Splitter::new(0, 1, Bound::File);
    let Step::Record { start, .. } = sp.next(text, text.len()) else {
        return None;
    };
    ps::refusal(text, start, text.len().min(start + SNIFF_BYTES))
}

/// True when `line` holds one or more record objects and nothing else.
fn is_complete_line(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    if !matches!(t.first(), Some(b'{' | b'[')) || !matches!(t.last(), Some(b'}' | b']')) {
        return false;
    }
    let mut sp = Splitter::new(0, 1, Bound::Line);
    let mut records = false;
    loop {
        match sp.next(line, line.len()) {
            Step::Record { .. } => {
                if sp.skip_record(line, line.len()).is_none() {
                    return false;
                }
                records = true;
            }
            Step::Error { .. } => return false,
            Step::End => return records,
        }
    }
}

/// A slice of the text holding whole records, and the splitter's state at its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Chunk {
    start: Snapshot,
    end: usize,
}

/// Target size of a chunk handed to one worker.
const CHUNK_BYTES: usize = 4 << 20;

/// JSON Lines: cuts at the first line end after every `target` bytes. Each chunk numbers
/// its lines from 1 (see [`scan_line_chunks`]).
fn plan_lines(text: &[u8], target: usize) -> Vec<Chunk> {
    let mut cuts = vec![0];
    let mut pos = 0;
    while pos + target < text.len() {
        match memchr(b'\n', &text[pos + target..]) {
            Some(i) if pos + target + i + 1 < text.len() => {
                pos += target + i + 1;
                cuts.push(pos);
            }
            _ => break,
        }
    }
    cuts.iter()
        .enumerate()
        .map(|(k, &s)| Chunk {
            start: Snapshot {
                pos: s,
                line: 1,
                array: None,
            },
            end: cuts.get(k + 1).copied().unwrap_or(text.len()),
        })
        .collect()
}

/// JSON Lines in chunks of about `target` bytes cut at line ends, read in parallel, each
/// numbering its lines from 1 and counting them as it reads (no pass over the text to
/// count them first); then each chunk's lines are shifted by those of the chunks before
/// it, and by `first_line - 1`.
fn scan_line_chunks<V, F>(
    text: &[u8],
    target: usize,
    first_line: u64,
    make_visitor: &F,
    done: &(dyn Fn(Range<usize>) + Sync),
) -> Vec<V>
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    let read: Vec<(V, u64)> = plan_lines(text, target)
        .par_iter()
        .with_max_len(1)
        .map(|chunk| {
            let mut visitor = make_visitor();
            let mut progress = Progress::new(done, chunk.start.pos, usize::MAX);
            let mut reader = Reader::default();
            let lines = read_lines(text, chunk, &mut reader, &mut visitor, &mut progress);
            visitor.chunk_done();
            progress.finish(chunk.end);
            (visitor, lines)
        })
        .collect();
    let mut shift = first_line.saturating_sub(1);
    read.into_iter()
        .map(|(mut visitor, lines)| {
            visitor.shift_lines(shift);
            shift += lines;
            visitor
        })
        .collect()
}

/// A document from `from` on: one pass of the splitter, cutting after the first record
/// (or error) that ends past every `target` bytes. Hands each chunk to `chunk` as soon as
/// it is cut, with whether it is the last.
fn plan_document(text: &[u8], from: Snapshot, target: usize, mut chunk: impl FnMut(Chunk, bool)) {
    let len = text.len();
    let mut sp = Splitter::resume(from, Bound::File);
    let mut start = sp.snapshot(text);
    loop {
        match sp.next(text, len) {
            Step::End => break,
            Step::Record { .. } => {
                sp.skip_record(text, len);
            }
            Step::Error { .. } => {}
        }
        if sp.pos() >= start.pos + target && sp.pos() < len {
            let cut = sp.snapshot(text);
            chunk(
                Chunk {
                    start,
                    end: cut.pos,
                },
                false,
            );
            start = cut;
        }
    }
    chunk(Chunk { start, end: len }, true);
}

/// Reads every record of a JSON export, in parallel; returns one visitor per chunk, in
/// input order. `done(range)` is called as each part `text[range]` is finished (for
/// progress, and to release its pages).
pub fn scan<V, F>(text: &[u8], make_visitor: F, done: &(dyn Fn(Range<usize>) + Sync)) -> Vec<V>
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    let threads = rayon::current_num_threads();
    scan_with_chunk_size(text, make_visitor, done, CHUNK_BYTES, threads)
}

/// See [`scan`]. Chunks cut where records end give the same records in the same order
/// whatever their size, so the way the work is shared does not change the result:
///
/// - one thread, or a text of one chunk: a single sequential pass, no planning;
/// - JSON Lines: chunks cut at line ends (no scan), read in parallel, lines numbered
///   from 1 in each and shifted afterwards;
/// - a document: cut where its layout shows records end, the cuts proven after reading
///   (`guess.rs`); else the planner runs on this thread and hands each chunk to a rayon
///   task as soon as it is cut, so the records are read while the rest is still planned.
fn scan_with_chunk_size<V, F>(
    text: &[u8],
    make_visitor: F,
    done: &(dyn Fn(Range<usize>) + Sync),
    target: usize,
    threads: usize,
) -> Vec<V>
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    let target = target.max(1);
    let layout = sniff_layout(text);
    if threads <= 1 || text.len() <= target {
        let mut visitor = make_visitor();
        let all = Chunk {
            start: Snapshot {
                pos: 0,
                line: 1,
                array: None,
            },
            end: text.len(),
        };
        let mut progress = Progress::new(done, 0, target);
        read_chunk(text, layout, &all, true, &mut visitor, &mut progress);
        visitor.chunk_done();
        progress.finish(text.len());
        return vec![visitor];
    }
    match layout {
        Layout::Lines => scan_line_chunks(text, target, 1, &make_visitor, done),
        Layout::Document => guess::scan(text, target, &make_visitor, done).unwrap_or_else(|| {
            let start = Snapshot {
                pos: 0,
                line: 1,
                array: None,
            };
            scan_planned(text, start, target, &make_visitor, done)
        }),
    }
}

/// A document from `from` on, cut by the planner: it runs on this thread and hands each
/// chunk to a rayon task as soon as it is cut, so the records are read while the rest is
/// still planned.
fn scan_planned<V, F>(
    text: &[u8],
    from: Snapshot,
    target: usize,
    make_visitor: &F,
    done: &(dyn Fn(Range<usize>) + Sync),
) -> Vec<V>
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    let read = |chunk: &Chunk, last: bool| {
        let mut visitor = make_visitor();
        let mut progress = Progress::new(done, chunk.start.pos, usize::MAX);
        let bounds = (chunk.start, chunk.end, text.len());
        read_document(text, bounds, last, &mut visitor, &mut progress);
        visitor.chunk_done();
        progress.finish(chunk.end);
        visitor
    };
    let read = &read;
    let results = std::sync::Mutex::new(Vec::new());
    rayon::scope(|scope| {
        let mut k = 0;
        plan_document(text, from, target, |chunk, last| {
            let results = &results;
            let index = k;
            k += 1;
            scope.spawn(move |_| {
                let visitor = read(&chunk, last);
                let mut results = results.lock().unwrap_or_else(|e| e.into_inner());
                results.push((index, visitor));
            });
        });
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(k, _)| *k);
    results.into_iter().map(|(_, v)| v).collect()
}

/// JSON Lines that arrive in windows (standard input, a pipe): `text` holds whole lines
/// (or the rest of the input), the first of them line `first_line` of the input. Each
/// line is read on its own, as [`scan`] reads the lines of a whole file; returns one
/// visitor per chunk, in input order.
pub fn scan_lines<V, F>(text: &[u8], first_line: u64, make_visitor: F) -> Vec<V>
where
    V: Visitor + Send,
    F: Fn() -> V + Sync,
{
    scan_line_chunks(text, CHUNK_BYTES, first_line, &make_visitor, &|_| {})
}

/// Reports progress in bytes: every `every` bytes read, and at the end.
struct Progress<'d> {
    done: &'d (dyn Fn(Range<usize>) + Sync),
    reported: usize,
    every: usize,
}

impl<'d> Progress<'d> {
    fn new(done: &'d (dyn Fn(Range<usize>) + Sync), start: usize, every: usize) -> Self {
        Progress {
            done,
            reported: start,
            every,
        }
    }

    fn at(&mut self, pos: usize) {
        if pos.saturating_sub(self.reported) >= self.every {
            (self.done)(self.reported..pos);
            self.reported = pos;
        }
    }

    fn finish(&mut self, end: usize) {
        if end > self.reported {
            (self.done)(self.reported..end);
            self.reported = end;
        }
    }
}

/// Reads every record of a JSON export in one sequential pass, each record with the
/// byte parser and AuditData with serde_json, without the quick look: the reference the
/// fast paths (records read from their blocks, the glance, pieces read in parallel, UTF-16
/// transcoded piece by piece) are held to.
pub fn scan_reference<V: Visitor>(text: &[u8], visitor: &mut V) {
    let all = Chunk {
        start: Snapshot {
            pos: 0,
            line: 1,
            array: None,
        },
        end: text.len(),
    };
    let layout = sniff_layout(text);
    let mut progress = Progress::new(&|_| {}, 0, usize::MAX);
    let mut reader = Reader::reference();
    read_chunk_with(
        text,
        layout,
        &all,
        true,
        &mut reader,
        visitor,
        &mut progress,
    );
}

fn read_chunk<V: Visitor>(
    text: &[u8],
    layout: Layout,
    chunk: &Chunk,
    last: bool,
    visitor: &mut V,
    progress: &mut Progress<'_>,
) {
    let mut reader = Reader::default();
    read_chunk_with(text, layout, chunk, last, &mut reader, visitor, progress);
}

fn read_chunk_with<'t, V: Visitor>(
    text: &'t [u8],
    layout: Layout,
    chunk: &Chunk,
    last: bool,
    reader: &mut Reader<'t>,
    visitor: &mut V,
    progress: &mut Progress<'_>,
) {
    match layout {
        Layout::Lines => {
            read_lines(text, chunk, reader, visitor, progress);
        }
        Layout::Document => {
            let mut sp = Splitter::resume(chunk.start, Bound::File);
            let stop = (!last).then_some(chunk.end);
            read_values(text, &mut sp, text.len(), stop, reader, visitor, progress);
        }
    }
}

/// Reads the lines of `chunk`, each on its own; returns how many.
fn read_lines<'t, V: Visitor>(
    text: &'t [u8],
    chunk: &Chunk,
    reader: &mut Reader<'t>,
    visitor: &mut V,
    progress: &mut Progress<'_>,
) -> u64 {
    let mut pos = chunk.start.pos;
    let mut line = chunk.start.line;
    while pos < chunk.end {
        // Most lines hold one plainly valid record: read it before its line end is
        // known (the record's scan finds it), as the splitter would read the line.
        if let Some(next) = read_one_line(text, pos, chunk.end, line, reader, visitor) {
            progress.at(pos);
            pos = next;
            line += 1;
            continue;
        }
        let eol = memchr(b'\n', &text[pos..chunk.end]).map_or(chunk.end, |i| pos + i);
        progress.at(pos);
        one_row::read_line(text, (pos, eol), line, reader, visitor);
        pos = eol + 1;
        line += 1;
    }
    line - chunk.start.line
}

/// A line that holds one record object, plainly valid, then only whitespace: the record
/// is visited (as [`read_values`] would visit it) and the next line's start returned.
/// `None` leaves the line to the splitter.
fn read_one_line<'t, V: Visitor>(
    text: &'t [u8],
    pos: usize,
    end: usize,
    line: u64,
    reader: &mut Reader<'t>,
    visitor: &mut V,
) -> Option<usize> {
    let blank = |p: &mut usize| {
        while *p < end && matches!(text[*p], b' ' | b'\t' | b'\r') {
            *p += 1;
        }
    };
    let mut start = pos;
    blank(&mut start);
    if text.get(start) != Some(&b'{') {
        return None;
    }
    let record_end = reader.parse_one_line(&text[..end], start)?;
    let mut after = record_end;
    blank(&mut after);
    if after < end && text[after] != b'\n' {
        return None; // more on the line
    }
    reader.visit(text, (start, record_end), line, visitor);
    Some(after + 1)
}

/// Reads the records of a document from `start` until the splitter reaches `end` (after
/// a record or an error: a chunk ends where the planner cut), or to the end of the text
/// for the `last` chunk, which reports what is left open. Nothing past `limit` is read.
fn read_document<V: Visitor>(
    text: &[u8],
    (start, end, limit): (Snapshot, usize, usize),
    last: bool,
    visitor: &mut V,
    progress: &mut Progress<'_>,
) -> Stopped {
    let mut reader = Reader::default();
    let mut sp = Splitter::resume(start, Bound::File);
    let stop = (!last).then_some(end);
    let mut stopped = read_values(text, &mut sp, limit, stop, &mut reader, visitor, progress);
    stopped.state = sp.snapshot(text);
    stopped
}

/// Where and how [`read_values`] stopped.
#[derive(Clone, Copy, Debug)]
struct Stopped {
    /// The splitter's state.
    state: Snapshot,
    /// A message spells out a line number (or the line of an array not known there: see
    /// `guess.rs`).
    spelt_lines: bool,
    /// Where the last step ended, when it was a record that closed.
    record_end: Option<usize>,
}

/// Runs `sp` up to `limit` (or until it reaches `stop`), reading each record of a
/// document (JSON Lines lines are read by `one_row::read_line`). The returned state is
/// the caller's to fill in.
fn read_values<'t, V: Visitor>(
    text: &'t [u8],
    sp: &mut Splitter,
    limit: usize,
    stop: Option<usize>,
    reader: &mut Reader<'t>,
    visitor: &mut V,
    progress: &mut Progress<'_>,
) -> Stopped {
    let mut stopped = Stopped {
        state: Snapshot {
            pos: 0,
            line: 0,
            array: None,
        },
        spelt_lines: false,
        record_end: None,
    };
    while stop.is_none_or(|s| sp.pos() < s) {
        progress.at(sp.pos());
        stopped.record_end = None;
        match sp.next(text, limit) {
            Step::End => break,
            Step::Error { line, reason } => {
                stopped.spelt_lines |= line == guess::UNKNOWN_LINE;
                visitor.malformed(line, reason);
            }
            Step::Record { start, line } => match reader.parse(text, start, limit) {
                Ok(end) => {
                    sp.record_parsed(end, reader.line_feeds());
                    stopped.record_end = Some(end);
                    reader.visit(text, (start, end), line, visitor);
                }
                Err(e) => {
                    let at = sp.line_at(text, e.at);
                    let closed = sp.skip_record(text, limit);
                    stopped.record_end = closed;
                    let reason = match closed {
                        None => format!(
                            "truncated: the record that starts here is not closed at the end of the {}",
                            match sp.bound() {
                                Bound::File => {
                                    "file: the file was probably cut short (a truncated copy or \
                                     export); the records before it are read, copy or export \
                                     the file again to recover this one"
                                }
                                Bound::Line => "line",
                            }
                        ),
                        Some(_) if at != line => {
                            stopped.spelt_lines = true;
                            format!("not valid JSON: {} (line {at})", e.what)
                        }
                        Some(_) => format!("not valid JSON: {}", e.what),
                    };
                    visitor.malformed(line, reason);
                }
            },
        }
    }
    stopped
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod wrapper_tests;
