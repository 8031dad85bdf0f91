//! The rows `search` writes, kept compactly and sorted in bounded memory.
//!
//! Each chunk's collector keeps its rows in a [`Block`] (one arena, only the fields the
//! output needs). When a chunk is done, its block is *sealed*: kept in memory while the
//! rows kept so far (and their dedup keys) fit in `--memory-limit`, else sorted and
//! written to a temporary file as a run ([`spill`]). Once every input is read and the
//! duplicates are known, [`Rows::for_each_view`] (rows read in place by the writer) or
//! [`Rows::for_each_batch`] (rows rebuilt) sorts the rows still in memory (in parallel)
//! and merges them with the runs on disk ([`merge`]), handing the output rows over in
//! batches, in order: by time, ties in input order (file, then position), or the
//! exact reverse with `--newest-first`. The result is the same bytes whether anything was
//! spilled or not.

pub(crate) mod block;
mod merge;
pub(crate) mod spill;

use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use block::Block;
use spill::{Segment, SpillFile};

use crate::datetime::Timestamp;
use crate::record::{AuditRecord, FieldSet, OwnedRecord, SourcePos};

pub use merge::Batches;

/// What the rows keep and how they are ordered.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    pub fields: FieldSet,
    pub with_items: bool,
    /// The rows carry the rules they matched when read (`pipeline::Tagger`).
    pub with_tags: bool,
    pub newest_first: bool,
}

/// The memory the rows may hold, the spill file, and what was spilled: shared by every
/// collector of a run.
pub(crate) struct Store {
    limit: usize,
    used: AtomicUsize,
    pub shape: Shape,
    /// Sign each row's columns for the cross-shape de-duplication (`pipeline::shapes`),
    /// within this budget.
    pub signatures: Option<std::sync::Arc<crate::pipeline::shapes::Budget>>,
    pub spill: SpillFile,
    spilled_bytes: AtomicU64,
    spilled_runs: AtomicU64,
    /// The first error writing the spill file (the run fails with it).
    error: Mutex<Option<io::Error>>,
}

/// Memory counted for each row's dedup key and bookkeeping, besides its block.
pub(crate) const ROW_OVERHEAD: usize = 24;

impl Store {
    pub fn new(limit: u64, temp_dir: Option<std::path::PathBuf>, shape: Shape) -> Store {
        Store {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            used: AtomicUsize::new(0),
            shape,
            signatures: None,
            spill: SpillFile::new(temp_dir),
            spilled_bytes: AtomicU64::new(0),
            spilled_runs: AtomicU64::new(0),
            error: Mutex::new(None),
        }
    }

    /// Counts `bytes` as held in memory.
    pub fn hold(&self, bytes: usize) {
        self.used.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts `bytes` as no longer held.
    pub fn release(&self, bytes: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| {
                Some(u.saturating_sub(bytes))
            });
    }

    /// Whether `bytes` more would go over the limit.
    fn over(&self, bytes: usize) -> bool {
        self.used.load(Ordering::Relaxed).saturating_add(bytes) > self.limit
    }

    /// Keeps the first error met while spilling: the run fails with it.
    pub fn record_error(&self, e: io::Error) {
        let mut slot = self.error.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(e);
    }

    /// The first spill error, taken.
    pub fn take_error(&self) -> Option<io::Error> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// What was written to the temporary file.
    pub fn spilled(&self) -> Spilled {
        Spilled {
            bytes: self.spilled_bytes.load(Ordering::Relaxed),
            runs: self.spilled_runs.load(Ordering::Relaxed),
            limit: self.limit as u64,
            dir: self.spill.dir(),
        }
    }

    /// Writes `block`'s rows sorted as a run; `None` (and the error kept) on failure.
    fn write(&self, block: &Block) -> Option<Segment> {
        let order = block.sorted(self.shape.newest_first);
        let mut bytes = Vec::with_capacity(block.bytes() + 16 * block.len());
        block.write_run(&order, &mut bytes);
        match self.spill.append(&bytes) {
            Ok(segment) => {
                self.spilled_bytes
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                self.spilled_runs.fetch_add(1, Ordering::Relaxed);
                Some(segment)
            }
            Err(e) => {
                self.record_error(e);
                None
            }
        }
    }
}

/// What went to disk in a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spilled {
    pub bytes: u64,
    pub runs: u64,
    /// `--memory-limit`, bytes.
    pub limit: u64,
    pub dir: std::path::PathBuf,
}

/// Where a sealed block's rows are.
pub(crate) enum Place {
    Memory(Block),
    /// A run: the rows sorted, their lines to be shifted by `line_shift`.
    Disk {
        segment: Segment,
        line_shift: u64,
    },
}

/// A sealed block of a file's rows.
pub(crate) struct Slot {
    /// The position in its file's kept rows of the block's first row.
    pub first: u64,
    pub rows: u32,
    pub place: Place,
    /// Bytes counted as held in memory for it.
    held: usize,
}

/// The rows one collector kept (several collectors' once absorbed), in keeping order.
#[derive(Default)]
pub(crate) struct RowPart {
    pub slots: Vec<Slot>,
    open: Block,
    /// Rows in the part (sealed and open).
    pub rows: u64,
}

impl RowPart {
    /// Keeps a row (and `tags`, when the shape keeps them); returns whether invalid UTF-8
    /// was replaced.
    pub fn push(
        &mut self,
        store: &Store,
        rec: &AuditRecord<'_>,
        time: Timestamp,
        line: u64,
        tags: &[u32],
    ) -> bool {
        if !self.open.has_room(line) {
            self.seal(store);
        }
        self.rows += 1;
        self.open.push(rec, store.shape, time, line, tags)
    }

    /// The open block's first row.
    fn open_first(&self) -> u64 {
        self.rows - self.open.len() as u64
    }

    /// Seals the open block: kept in memory if it fits, else written as a run.
    pub fn seal(&mut self, store: &Store) {
        if self.open.is_empty() {
            return;
        }
        let first = self.open_first();
        let mut block = std::mem::take(&mut self.open);
        let rows = block.len() as u32;
        let keys = ROW_OVERHEAD * block.len();
        store.hold(keys);
        let bytes = block.bytes();
        if store.over(bytes) {
            if let Some(segment) = store.write(&block) {
                self.slots.push(Slot {
                    first,
                    rows,
                    place: Place::Disk {
                        segment,
                        line_shift: 0,
                    },
                    held: keys,
                });
                return;
            }
        }
        block.shrink();
        let bytes = block.bytes();
        store.hold(bytes);
        self.slots.push(Slot {
            first,
            rows,
            place: Place::Memory(block),
            held: keys + bytes,
        });
    }

    /// Sets the time of row `ordinal`; false when the row is in a run on disk (which
    /// [`RowPart::resort`] then rewrites).
    pub fn set_time(&mut self, ordinal: u64, time: Timestamp) -> bool {
        let open_first = self.open_first();
        if ordinal >= open_first {
            if let Some(h) = self.open.heads.get_mut((ordinal - open_first) as usize) {
                h.time = time.0;
            }
            return true;
        }
        let k = self.slots.partition_point(|s| s.first <= ordinal) - 1;
        let slot = &mut self.slots[k];
        match &mut slot.place {
            Place::Memory(block) => {
                if let Some(h) = block.heads.get_mut((ordinal - slot.first) as usize) {
                    h.time = time.0;
                }
                true
            }
            Place::Disk { .. } => false,
        }
    }

    /// Rewrites the runs holding the rows of `times` (`(ordinal, time)`, ascending) with
    /// those times: each is read back, changed, sorted and sealed again.
    pub fn resort(&mut self, store: &Store, times: &[(u64, Timestamp)]) -> io::Result<()> {
        for slot in &mut self.slots {
            let end = slot.first + u64::from(slot.rows);
            let lo = times.partition_point(|(o, _)| *o < slot.first);
            let hi = times.partition_point(|(o, _)| *o < end);
            if lo == hi {
                continue;
            }
            let Place::Disk {
                segment,
                line_shift,
            } = &slot.place
            else {
                continue;
            };
            let bytes = store.spill.read(*segment)?;
            let Some((sorted, positions)) = Block::from_run(&bytes) else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a run read back from the temporary file is damaged",
                ));
            };
            // Back to keeping order, with the new times.
            let mut order: Vec<usize> = (0..positions.len()).collect();
            order.sort_by_key(|&k| positions[k]);
            let mut block = Block::default();
            rebuild(&sorted, &order, &mut block);
            block.shift_lines(*line_shift);
            for &(ordinal, time) in &times[lo..hi] {
                if let Some(h) = block.heads.get_mut((ordinal - slot.first) as usize) {
                    h.time = time.0;
                }
            }
            let mut part = RowPart {
                slots: Vec::new(),
                open: block,
                rows: u64::from(slot.rows),
            };
            part.seal(store);
            if let Some(mut new) = part.slots.pop() {
                new.first = slot.first;
                store.release(slot.held);
                *slot = new;
            }
        }
        if let Some(e) = store.take_error() {
            return Err(e);
        }
        Ok(())
    }

    /// Adds `by` to every line.
    pub fn shift_lines(&mut self, by: u64) {
        self.open.shift_lines(by);
        for slot in &mut self.slots {
            match &mut slot.place {
                Place::Memory(block) => block.shift_lines(by),
                Place::Disk { line_shift, .. } => *line_shift += by,
            }
        }
    }

    /// Appends `later`'s rows, which follow this part's in the input.
    pub fn absorb(&mut self, store: &Store, mut later: RowPart) {
        self.seal(store);
        later.seal(store);
        for mut slot in later.slots.drain(..) {
            slot.first += self.rows;
            self.slots.push(slot);
        }
        self.rows += later.rows;
    }

    /// Releases the memory counted for the part (when it is dropped unused).
    pub fn release(&mut self, store: &Store) {
        for slot in self.slots.drain(..) {
            store.release(slot.held);
        }
    }
}

/// Copies the rows of `sorted` into `block` in `order` (positions of `sorted`).
fn rebuild(sorted: &Block, order: &[usize], block: &mut Block) {
    for &k in order {
        block.push_raw(
            Timestamp(sorted.heads[k].time),
            sorted.line(k),
            sorted.text(k),
        );
    }
}

/// The rows of every file, ready to be written in order.
pub struct Rows {
    pub(crate) store: Store,
    /// Every sealed block, in input order (file, then position): its index breaks ties.
    pub(crate) blocks: Vec<(u32, Slot)>,
    /// Per file, the positions of rows not to write (duplicates, outside the window).
    pub(crate) excluded: Vec<Vec<u64>>,
    /// Rows to write.
    pub count: u64,
    /// Report lines (one per message with `--expand-items`).
    pub lines: u64,
}

impl Rows {
    /// Whether row `ordinal` of `file` is written.
    pub(crate) fn written(&self, file: u32, ordinal: u64) -> bool {
        let bits = &self.excluded[file as usize];
        let (w, b) = ((ordinal / 64) as usize, ordinal % 64);
        bits.get(w).is_none_or(|word| word & (1 << b) == 0)
    }

    /// What was spilled to disk, if anything.
    pub fn spilled(&self) -> Option<Spilled> {
        let s = self.store.spilled();
        (s.runs > 0).then_some(s)
    }

    /// Every row to write, materialised (tests and small outputs).
    pub fn collect(&self) -> io::Result<Vec<OwnedRecord>> {
        let mut all = Vec::new();
        self.for_each_batch(|batch| {
            all.extend_from_slice(batch);
            Ok(())
        })?;
        Ok(all)
    }

    /// Hands the rows to `f` in order, in batches.
    pub fn for_each_batch(
        &self,
        mut f: impl FnMut(&[OwnedRecord]) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut batches = Batches::new(self)?;
        while let Some(batch) = batches.next_batch()? {
            f(batch)?;
        }
        Ok(())
    }

    /// Hands the rows to `f` in order, in batches, each row to be read in place where it
    /// is written ([`crate::record::RowSource`]).
    pub fn for_each_view(
        &self,
        mut f: impl FnMut(&dyn crate::record::RowSource) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut batches = Batches::new(self)?;
        while let Some(batch) = batches.next_views()? {
            f(&batch)?;
        }
        Ok(())
    }

    pub(crate) fn pos(file: u32, line: u64) -> SourcePos {
        SourcePos { file, line }
    }
}
