//! The kept rows in output order: the rows still in memory are sorted in parallel, the
//! runs on disk are read through small buffers, and a k-way merge of the two hands the
//! rows over in batches ([`Batches`]). Rows in memory are rebuilt in parallel, a batch
//! at a time, or handed over where they lie, for writers that read them in place
//! ([`Batches::next_views`]); rows from disk are rebuilt as they are merged.
//!
//! The order is by time, ties by input order: the index of the block a row was kept in
//! (blocks are numbered in input order, file by file) and its position in that block;
//! with `--newest-first`, the exact reverse. Every run was sorted the same way when it
//! was written, so a merge of any runs gives one order, whatever went to disk.

use std::collections::BinaryHeap;
use std::io;

use rayon::prelude::*;

use super::block::{lines_of, materialize, view, Block};
use super::spill::RunReader;
use super::{Place, Rows};
use crate::datetime::Timestamp;
use crate::record::{OwnedRecord, RowScratch, RowSource, RowView, SourcePos};

/// Rows rebuilt at a time.
const BATCH: usize = 4096;

/// A row in memory: its time, its block's index and its position there.
#[derive(Clone, Copy, Debug)]
struct Ref {
    time: i64,
    block: u32,
    pos: u32,
}

/// The order key: larger first (a max-heap), so oldest first reverses every part.
type Order = (i64, u32, u32);

fn order(newest_first: bool, time: i64, block: u32, pos: u32) -> Order {
    if newest_first {
        (time, block, pos)
    } else {
        (!time, !block, !pos)
    }
}

/// A run being merged: its reader, and the row it stands at.
struct Cursor<'r> {
    reader: RunReader<'r>,
    block: u32,
    file: u32,
    first: u64,
    line_shift: u64,
    /// The current row's time and position, `None` at the end.
    at: Option<(i64, u32)>,
}

impl Cursor<'_> {
    /// Moves to the next row that is written.
    fn advance(&mut self, rows: &Rows) -> io::Result<()> {
        self.at = None;
        while let Some(row) = self.reader.next()? {
            if rows.written(self.file, self.first + u64::from(row.pos)) {
                self.at = Some((row.time, row.pos));
                break;
            }
        }
        Ok(())
    }
}

/// A row of the batch being made.
enum Pick {
    Memory(Ref),
    Built(OwnedRecord),
}

/// The rows in output order, a batch at a time.
pub struct Batches<'r> {
    rows: &'r Rows,
    memory: Vec<Ref>,
    next_memory: usize,
    runs: Vec<Cursor<'r>>,
    /// The next row of each source: `(order, source)`, the in-memory rows being source
    /// `runs.len()`.
    heap: BinaryHeap<(Order, usize)>,
    /// The rows of the batch being handed over, picked in order.
    picks: Vec<Pick>,
    batch: Vec<OwnedRecord>,
}

/// A batch's rows read in place ([`Batches::next_views`]).
pub(crate) struct Picked<'b> {
    rows: &'b Rows,
    picks: &'b [Pick],
}

impl RowSource for Picked<'_> {
    fn len(&self) -> usize {
        self.picks.len()
    }

    fn row<'s>(&'s self, i: usize, scratch: &'s mut RowScratch) -> RowView<'s> {
        match &self.picks[i] {
            Pick::Memory(r) => view_of(self.rows, *r, scratch),
            Pick::Built(row) => row.view(),
        }
    }

    fn lines(&self, i: usize) -> usize {
        if !self.rows.store.shape.with_items {
            return 1;
        }
        match &self.picks[i] {
            Pick::Memory(r) => match in_memory(self.rows, *r) {
                Ok((block, at, _, _)) => lines_of(block.text(at), self.rows.store.shape),
                Err(_) => 1,
            },
            Pick::Built(row) => row.items.len().max(1),
        }
    }
}

impl<'r> Batches<'r> {
    pub(crate) fn new(rows: &'r Rows) -> io::Result<Batches<'r>> {
        let newest_first = rows.store.shape.newest_first;
        let mut memory: Vec<Ref> = rows
            .blocks
            .par_iter()
            .enumerate()
            .flat_map_iter(|(g, (file, slot))| {
                let block = match &slot.place {
                    Place::Memory(block) => Some(block),
                    Place::Disk { .. } => None,
                };
                let g = g as u32;
                block.into_iter().flat_map(move |b| {
                    (0..b.len() as u32)
                        .filter(move |&pos| rows.written(*file, slot.first + u64::from(pos)))
                        .map(move |pos| Ref {
                            time: b.heads[pos as usize].time,
                            block: g,
                            pos,
                        })
                })
            })
            .collect();
        memory.par_sort_unstable_by_key(|r| {
            std::cmp::Reverse(order(newest_first, r.time, r.block, r.pos))
        });

        let disk = rows
            .blocks
            .iter()
            .filter(|(_, s)| matches!(s.place, Place::Disk { .. }))
            .count();
        let limit = usize::try_from(rows.store.spilled().limit).unwrap_or(usize::MAX);
        let buffer = (limit / (4 * disk.max(1))).clamp(16 << 10, 1 << 20);
        let mut runs = Vec::with_capacity(disk);
        for (g, (file, slot)) in rows.blocks.iter().enumerate() {
            if let Place::Disk {
                segment,
                line_shift,
            } = &slot.place
            {
                let mut cursor = Cursor {
                    reader: RunReader::new(&rows.store.spill, *segment, buffer),
                    block: g as u32,
                    file: *file,
                    first: slot.first,
                    line_shift: *line_shift,
                    at: None,
                };
                cursor.advance(rows)?;
                runs.push(cursor);
            }
        }
        let mut heap = BinaryHeap::with_capacity(runs.len() + 1);
        for (k, c) in runs.iter().enumerate() {
            if let Some((time, pos)) = c.at {
                heap.push((order(newest_first, time, c.block, pos), k));
            }
        }
        if let Some(r) = memory.first() {
            heap.push((order(newest_first, r.time, r.block, r.pos), runs.len()));
        }
        Ok(Batches {
            rows,
            memory,
            next_memory: 0,
            runs,
            heap,
            picks: Vec::new(),
            batch: Vec::new(),
        })
    }

    /// Picks the rows of the next batch; `false` when every row was handed over.
    fn pick(&mut self) -> io::Result<bool> {
        self.picks.clear();
        let rows = self.rows;
        if self.runs.is_empty() {
            // Everything is in memory: a slice of the sorted rows.
            let start = self.next_memory;
            let end = (start + BATCH).min(self.memory.len());
            self.next_memory = end;
            self.picks
                .extend(self.memory[start..end].iter().map(|&r| Pick::Memory(r)));
            return Ok(!self.picks.is_empty());
        }
        let newest_first = rows.store.shape.newest_first;
        let shape = rows.store.shape;
        while self.picks.len() < BATCH {
            let Some((_, source)) = self.heap.pop() else {
                break;
            };
            if source == self.runs.len() {
                let r = self.memory[self.next_memory];
                self.picks.push(Pick::Memory(r));
                self.next_memory += 1;
                if let Some(r) = self.memory.get(self.next_memory) {
                    self.heap
                        .push((order(newest_first, r.time, r.block, r.pos), source));
                }
                continue;
            }
            let c = &mut self.runs[source];
            if let Some(row) = c.reader.current() {
                let pos = crate::record::SourcePos {
                    file: c.file,
                    line: row.line + c.line_shift,
                };
                self.picks.push(Pick::Built(materialize(
                    row.text,
                    shape,
                    Timestamp(row.time),
                    pos,
                )));
            }
            c.advance(rows)?;
            if let Some((time, pos)) = c.at {
                self.heap
                    .push((order(newest_first, time, c.block, pos), source));
            }
        }
        Ok(!self.picks.is_empty())
    }

    /// The next batch, rebuilt (in parallel), or `None` when every row was handed over.
    pub fn next_batch(&mut self) -> io::Result<Option<&[OwnedRecord]>> {
        if !self.pick()? {
            return Ok(None);
        }
        let rows = self.rows;
        self.batch = std::mem::take(&mut self.picks)
            .into_par_iter()
            .map(|p| match p {
                Pick::Memory(r) => build(rows, r),
                Pick::Built(row) => row,
            })
            .collect();
        Ok(Some(&self.batch))
    }

    /// The next batch, its rows to be read in place by the writer, or `None` when every
    /// row was handed over.
    pub(crate) fn next_views(&mut self) -> io::Result<Option<Picked<'_>>> {
        Ok(self.pick()?.then_some(Picked {
            rows: self.rows,
            picks: &self.picks,
        }))
    }
}

/// The in-memory row `r`: its block, its place there, where it came from and its time;
/// else (never: only rows in memory are `Ref`s) where its file starts, for an empty row.
fn in_memory(rows: &Rows, r: Ref) -> Result<(&Block, usize, SourcePos, Timestamp), SourcePos> {
    let (file, slot) = &rows.blocks[r.block as usize];
    let Place::Memory(block) = &slot.place else {
        return Err(Rows::pos(*file, 0));
    };
    let at = r.pos as usize;
    let time = Timestamp(block.heads[at].time);
    Ok((block, at, Rows::pos(*file, block.line(at)), time))
}

/// The in-memory row `r`, read in place.
fn view_of<'s>(rows: &'s Rows, r: Ref, scratch: &'s mut RowScratch) -> RowView<'s> {
    match in_memory(rows, r) {
        Ok((block, at, pos, time)) => view(block.text(at), rows.store.shape, time, pos, scratch),
        Err(pos) => RowView::empty(Timestamp(r.time), pos, scratch),
    }
}

/// Rebuilds the in-memory row `r`.
fn build(rows: &Rows, r: Ref) -> OwnedRecord {
    match in_memory(rows, r) {
        Ok((block, at, pos, time)) => materialize(block.text(at), rows.store.shape, time, pos),
        Err(pos) => OwnedRecord::from_parts(&[], Timestamp(r.time), pos, Vec::new()),
    }
}
