//! What a collector keeps of each row that passes the rules: the row itself, compactly
//! ([`RowPart`] for `search`'s output, [`ColumnPart`] for summaries and triage), its
//! dedup key, its columns' [`Signatures`] when the run compares exports of different
//! column sets, and — for a culture date that reads differently month-first and day-first —
//! both readings until the file's day/month order is known.
//!
//! That order is known once the file's dates prove one (a day above 12): from then on
//! the file can only be read in that order or be rejected (if a later date proves the
//! other). So when a chunk is done and some chunk of its file has already proved an
//! order, its waiting rows take their time at once, before their block is sealed (and
//! perhaps written to disk); what still waits at the end of the file is settled then
//! ([`Kept::decide`]), and a run on disk whose times change is read back and rewritten.

use std::io;

use super::rows::block::{self, Block};
use super::rows::{Place, RowPart, Rows, Slot, Store};
use super::shapes::{Budget, Signatures};
use super::table::{ColumnChunk, ColumnPart, ColumnSpec};
use crate::datetime::{DateOrder, Timestamp};
use crate::filter::DateWindow;
use crate::input::visit::{EventKey, OnDemand};
use crate::record::{has_invalid_utf8, AuditRecord, FieldSet, OwnedRecord};

/// A row's time: known, or one of two readings until the file's day/month order is known.
#[derive(Clone, Copy, Debug)]
pub(super) enum TimeCell {
    Known(Timestamp),
    Undecided { mdy: Timestamp, dmy: Timestamp },
}

/// Where a run's kept rows go.
#[derive(Clone, Copy)]
pub(crate) enum Sink<'s> {
    Rows(&'s Store),
    Columns(&'s ColumnSpec),
}

impl<'s> Sink<'s> {
    /// The fields kept of each row.
    pub fn fields(self) -> FieldSet {
        match self {
            Sink::Rows(store) => store.shape.fields,
            Sink::Columns(spec) => spec.fields,
        }
    }

    pub fn with_items(self) -> bool {
        match self {
            Sink::Rows(store) => store.shape.with_items,
            Sink::Columns(spec) => spec.with_items,
        }
    }

    /// The budget within which each row's columns are signed for the cross-shape
    /// de-duplication ([`super::shapes`]): only in runs of two or more inputs.
    pub fn signature_budget(self) -> Option<&'s Budget> {
        match self {
            Sink::Rows(store) => store.signatures.as_deref(),
            Sink::Columns(spec) => spec.signatures.as_deref(),
        }
    }
}

/// A kept row whose time waits for the file's day/month order.
struct Undecided {
    ordinal: u64,
    key: EventKey,
    mdy: Timestamp,
    dmy: Timestamp,
}

enum Data {
    Rows(RowPart),
    Columns(Box<ColumnPart>),
}

/// The rows one collector kept.
pub(super) struct Kept<'s> {
    sink: Sink<'s>,
    data: Data,
    /// Each row's dedup key, by position (a waiting row's once its time is known).
    keys: Vec<u128>,
    undecided: Vec<Undecided>,
    /// Rows that turned out to be outside the date window once their time was known.
    excluded: Vec<u64>,
    /// Messages each row touched (`--expand-items`), for line counts.
    items: Vec<u32>,
    /// Each row's columns, hashed ([`Sink::with_signatures`]).
    signatures: Option<Signatures>,
    scratch: Vec<u8>,
}

/// A file's kept rows, settled.
pub(crate) struct FileKept {
    pub file: u32,
    pub rows: u64,
    pub keys: Vec<u128>,
    /// Positions of rows not written, ascending (outside the window; duplicates are
    /// added by [`super::dedup`]).
    pub excluded: Vec<u64>,
    pub items: Vec<u32>,
    pub data: FileData,
    /// Each row's columns, hashed, when the run compares shapes ([`super::shapes`]).
    pub signatures: Option<Signatures>,
}

pub(crate) enum FileData {
    Rows(Vec<Slot>),
    Columns(Vec<ColumnChunk>),
}

impl<'s> Kept<'s> {
    pub fn new(sink: Sink<'s>) -> Kept<'s> {
        Kept {
            sink,
            data: match sink {
                Sink::Rows(_) => Data::Rows(RowPart::default()),
                Sink::Columns(_) => Data::Columns(Box::default()),
            },
            keys: Vec::new(),
            undecided: Vec::new(),
            excluded: Vec::new(),
            items: Vec::new(),
            signatures: sink.signature_budget().map(|_| Signatures::default()),
            scratch: Vec::new(),
        }
    }

    pub fn rows(&self) -> u64 {
        self.keys.len() as u64
    }

    /// Keeps `rec` (the whole record, read with `on_demand`), tagged with `tags` (the
    /// rules it matched); returns whether invalid UTF-8 was replaced in one of its
    /// fields (`utf8_checked`: the reader vouched that none holds any).
    pub fn push(
        &mut self,
        rec: &AuditRecord<'_>,
        time: TimeCell,
        on_demand: &dyn OnDemand,
        line: u64,
        utf8_checked: bool,
        tags: &[u32],
    ) -> bool {
        let ordinal = self.rows();
        let key = on_demand.event_key();
        let provisional = match time {
            TimeCell::Known(t) => {
                self.keys.push(key.with_time(t));
                t
            }
            TimeCell::Undecided { mdy, dmy } => {
                self.keys.push(0);
                self.undecided.push(Undecided {
                    ordinal,
                    key,
                    mdy,
                    dmy,
                });
                mdy
            }
        };
        if let Some(signatures) = &mut self.signatures {
            let before = signatures.bytes();
            signatures.push(rec, on_demand, provisional);
            let grown = signatures.bytes().saturating_sub(before);
            if !self.sink.signature_budget().is_some_and(|b| b.take(grown)) {
                self.signatures = None; // over the budget: the rule is skipped
            }
        }
        if self.sink.with_items() {
            self.items
                .push(u32::try_from(rec.message_count()).unwrap_or(u32::MAX));
        }
        match (&mut self.data, self.sink) {
            (Data::Rows(part), Sink::Rows(store)) => {
                let lossy = part.push(store, rec, provisional, line, tags);
                lossy
                    || (!utf8_checked
                        && has_invalid_utf8(rec, store.shape.fields, &mut self.scratch))
            }
            (Data::Columns(part), Sink::Columns(spec)) => {
                part.push(spec, rec, provisional, line, utf8_checked, tags)
            }
            _ => false,
        }
    }

    /// A chunk is done: its waiting rows take their time if `order` is known (returns how
    /// many then fall outside `window`), and its rows are sealed.
    pub fn chunk_done(&mut self, order: Option<DateOrder>, window: DateWindow) -> u64 {
        let mut drops = 0;
        if let Some(order) = order {
            if !self.undecided.is_empty() {
                match self.decide(order, window) {
                    Ok(n) => drops = n,
                    Err(e) => self.fail(e),
                }
            }
        }
        match (&mut self.data, self.sink) {
            (Data::Rows(part), Sink::Rows(store)) => part.seal(store),
            (Data::Columns(part), _) => part.seal(),
            _ => {}
        }
        drops
    }

    fn fail(&self, e: io::Error) {
        if let Sink::Rows(store) = self.sink {
            store.record_error(e);
        }
    }

    /// Gives every waiting row its time in `order`; returns how many fall outside
    /// `window` (they are left out).
    pub fn decide(&mut self, order: DateOrder, window: DateWindow) -> io::Result<u64> {
        let mut drops = 0;
        let mut on_disk = Vec::new();
        for u in std::mem::take(&mut self.undecided) {
            let time = match order {
                DateOrder::Mdy => u.mdy,
                DateOrder::Dmy => u.dmy,
            };
            if let Some(k) = usize::try_from(u.ordinal)
                .ok()
                .and_then(|o| self.keys.get_mut(o))
            {
                *k = u.key.with_time(time);
            }
            if let Some(signatures) = &mut self.signatures {
                signatures.set_time(u.ordinal, time);
            }
            if !window.contains(time) {
                self.excluded.push(u.ordinal);
                drops += 1;
            }
            if time == u.mdy {
                continue; // kept with that time already
            }
            match &mut self.data {
                Data::Rows(part) => {
                    if !part.set_time(u.ordinal, time) {
                        on_disk.push((u.ordinal, time));
                    }
                }
                Data::Columns(part) => part.set_time(u.ordinal, time),
            }
        }
        if !on_disk.is_empty() {
            on_disk.sort_unstable_by_key(|&(o, _)| o);
            if let (Data::Rows(part), Sink::Rows(store)) = (&mut self.data, self.sink) {
                part.resort(store, &on_disk)?;
            }
        }
        Ok(drops)
    }

    pub fn shift_lines(&mut self, by: u64) {
        match &mut self.data {
            Data::Rows(part) => part.shift_lines(by),
            Data::Columns(part) => part.shift_lines(by),
        }
    }

    /// Appends `later`'s rows, which follow this collector's in the input.
    pub fn absorb(&mut self, mut later: Kept<'s>) {
        let base = self.rows();
        self.keys.append(&mut later.keys);
        self.items.append(&mut later.items);
        if let (Some(mine), Some(theirs)) = (&mut self.signatures, later.signatures.take()) {
            mine.absorb(theirs);
        }
        self.excluded
            .extend(later.excluded.drain(..).map(|o| o + base));
        self.undecided
            .extend(later.undecided.drain(..).map(|u| Undecided {
                ordinal: u.ordinal + base,
                ..u
            }));
        let data = std::mem::replace(&mut later.data, Data::Columns(Box::default()));
        match (&mut self.data, data, self.sink) {
            (Data::Rows(mine), Data::Rows(theirs), Sink::Rows(store)) => mine.absorb(store, theirs),
            (Data::Columns(mine), Data::Columns(theirs), _) => mine.absorb(*theirs),
            _ => {}
        }
    }

    /// The file's kept rows, once every waiting row was decided.
    pub fn finish(mut self, file: u32) -> FileKept {
        if let (Data::Rows(part), Sink::Rows(store)) = (&mut self.data, self.sink) {
            part.seal(store);
        }
        let mut excluded = std::mem::take(&mut self.excluded);
        excluded.sort_unstable();
        excluded.dedup();
        let data = match std::mem::replace(&mut self.data, Data::Columns(Box::default())) {
            Data::Rows(mut part) => FileData::Rows(std::mem::take(&mut part.slots)),
            Data::Columns(part) => FileData::Columns(part.into_chunks()),
        };
        FileKept {
            file,
            rows: self.rows(),
            keys: std::mem::take(&mut self.keys),
            excluded,
            items: std::mem::take(&mut self.items),
            data,
            signatures: self.signatures.take(),
        }
    }
}

/// A file's kept rows in keeping order, without those excluded (for tests: every block
/// read whole into memory).
pub(crate) fn in_input_order(store: &Store, kept: &FileKept) -> io::Result<Vec<OwnedRecord>> {
    let FileData::Rows(slots) = &kept.data else {
        return Ok(Vec::new());
    };
    let shape = store.shape;
    let mut excluded = kept.excluded.iter().copied().peekable();
    let mut out = Vec::new();
    for slot in slots {
        let loaded;
        let (block, positions): (&Block, Vec<u32>) = match &slot.place {
            Place::Memory(block) => (block, (0..block.len() as u32).collect()),
            Place::Disk {
                segment,
                line_shift,
            } => {
                let bytes = store.spill.read(*segment)?;
                let Some((mut b, p)) = Block::from_run(&bytes) else {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "a run read back from the temporary file is damaged",
                    ));
                };
                b.shift_lines(*line_shift);
                loaded = b;
                (&loaded, p)
            }
        };
        let mut order: Vec<usize> = (0..positions.len()).collect();
        order.sort_by_key(|&k| positions[k]);
        for k in order {
            let ordinal = slot.first + u64::from(positions[k]);
            while excluded.next_if(|&o| o < ordinal).is_some() {}
            if excluded.next_if_eq(&ordinal).is_some() {
                continue;
            }
            out.push(block::materialize(
                block.text(k),
                shape,
                Timestamp(block.heads[k].time),
                Rows::pos(kept.file, block.line(k)),
            ));
        }
    }
    Ok(out)
}

impl Drop for Kept<'_> {
    /// A collector dropped unused (a chunk plan that failed its check, a rejected file)
    /// gives back the memory counted for its rows.
    fn drop(&mut self) {
        if let (Data::Rows(part), Sink::Rows(store)) = (&mut self.data, self.sink) {
            part.release(store);
        }
    }
}
