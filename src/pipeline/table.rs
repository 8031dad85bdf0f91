//! The kept rows as columns of values, for `summary`, `triage` and `report`: each column
//! is one [`Key`] (actor, mailbox, operation, client address... or a field), each value
//! stored once in the column's pool and each row holding its number. A row costs a few
//! bytes per column however long its values, rules test each distinct value once, and
//! summaries count numbers, not strings.
//!
//! Each chunk's collector fills a [`ColumnChunk`] with pools of its own (no locking),
//! finding values it has read before by their raw bytes ([`raw`]), without decoding them;
//! [`Table::build`] merges the pools column by column in parallel, keeps the rows that
//! are written (not duplicates, not outside the window), and sorts them by time, ties in
//! input order, as `search` would write them.

use std::borrow::Cow;

use hashbrown::HashTable;
use std::sync::Arc;

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

mod raw;

use super::shapes::Budget;
use crate::datetime::Timestamp;
use crate::record::{has_invalid_utf8, AuditRecord, Decoded, Field, FieldSet, SourcePos};
use crate::who::Key;
use raw::{fields_lossy, Lookup, RawIndex};

/// The columns a run keeps.
#[derive(Clone, Debug)]
pub(crate) struct ColumnSpec {
    pub keys: Vec<Key>,
    /// The fields the keys are computed from.
    pub fields: FieldSet,
    /// Count the messages each row touched (`--expand-items`).
    pub with_items: bool,
    /// Keep the rules each row matched when it was read (`pipeline::Tagger`).
    pub tags: bool,
    /// Sign each row's columns for the cross-shape de-duplication (`pipeline::shapes`),
    /// within this budget.
    pub signatures: Option<Arc<Budget>>,
    /// The table is only counted ([`super::Keep::Counts`]): its rows stay in input
    /// order and their places are not kept ([`Table::pos`]).
    pub counted: bool,
}

impl ColumnSpec {
    pub fn new(keys: &[Key], with_items: bool, tags: bool) -> ColumnSpec {
        let mut fields = FieldSet::EMPTY;
        for k in keys {
            fields = fields.with_all(k.fields());
        }
        ColumnSpec {
            keys: keys.to_vec(),
            fields,
            with_items,
            tags,
            signatures: None,
            counted: false,
        }
    }
}

/// Distinct strings, each numbered once.
#[derive(Default)]
pub(crate) struct Pool {
    text: String,
    ends: Vec<usize>,
    index: HashTable<u32>,
}

impl Pool {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn get(&self, id: u32) -> &str {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..self.ends[i]).unwrap_or_default()
    }

    /// The number of `value`, added if new.
    pub fn intern(&mut self, value: &str) -> u32 {
        let hash = xxh3_64(value.as_bytes());
        let (text, ends) = (&self.text, &self.ends);
        let get = |id: u32| {
            let i = id as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] };
            &text[start..ends[i]]
        };
        if let Some(&id) = self.index.find(hash, |&id| get(id) == value) {
            return id;
        }
        let id = u32::try_from(self.ends.len()).unwrap_or(u32::MAX);
        self.text.push_str(value);
        self.ends.push(self.text.len());
        let (text, ends) = (&self.text, &self.ends);
        self.index.insert_unique(hash, id, |&id| {
            let i = id as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] };
            xxh3_64(&text.as_bytes()[start..ends[i]])
        });
        id
    }

    /// The pool without its index (no more values to add).
    fn frozen(mut self) -> Pool {
        self.index = HashTable::new();
        self.text.shrink_to_fit();
        self
    }
}

/// The fields `key`'s value is found by in a raw index: those that decide it
/// ([`raw::deciding`]) when the value is the first of its fields not blank and the row
/// holds no invalid UTF-8 (`utf8_checked`: no other field can then make decoding
/// replace some); else all it reads.
fn lookup_fields(key: Key, rec: &AuditRecord<'_>, utf8_checked: bool) -> &'static [Field] {
    if utf8_checked && key.first_filled() {
        raw::deciding(rec, key.fields())
    } else {
        key.fields()
    }
}

/// The rows one collector kept, as column numbers into pools of its own.
#[derive(Default)]
pub(crate) struct ColumnChunk {
    /// The position in its file's kept rows of the chunk's first row.
    pub first: u64,
    pools: Vec<Pool>,
    /// Per column, its values by their raw fields, while the chunk is being filled.
    raw: Vec<RawIndex>,
    ids: Vec<Vec<u32>>,
    times: Vec<i64>,
    lines: Vec<u64>,
    /// Each row's tags, as a value of `tag_pool` (see [`tag_text`]), when kept.
    tag_pool: Pool,
    tag_ids: Vec<u32>,
}

/// A row's tags as one pooled value: the numbers in decimal, comma-separated.
fn tag_text(tags: &[u32], out: &mut String) {
    out.clear();
    for (i, t) in tags.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = std::fmt::Write::write_fmt(out, format_args!("{t}"));
    }
}

/// The tags written by [`tag_text`].
fn parse_tags(text: &str) -> Box<[u32]> {
    text.split(',').filter_map(|t| t.parse().ok()).collect()
}

impl ColumnChunk {
    fn len(&self) -> usize {
        self.times.len()
    }
}

/// A collector's columns (several collectors' once absorbed), in keeping order.
#[derive(Default)]
pub(crate) struct ColumnPart {
    chunks: Vec<ColumnChunk>,
    pub rows: u64,
    decoded: Decoded,
    scratch: Vec<u8>,
    tag_scratch: String,
    /// Per column, what its raw index said of the row being pushed.
    lookups: Vec<Lookup>,
}

impl ColumnPart {
    /// Keeps a row; returns whether invalid UTF-8 was replaced in any of its fields.
    pub fn push(
        &mut self,
        spec: &ColumnSpec,
        rec: &AuditRecord<'_>,
        time: Timestamp,
        line: u64,
        utf8_checked: bool,
        tags: &[u32],
    ) -> bool {
        if self.chunks.is_empty() {
            self.chunks.push(ColumnChunk {
                first: self.rows,
                pools: spec.keys.iter().map(|_| Pool::default()).collect(),
                ids: spec.keys.iter().map(|_| Vec::new()).collect(),
                ..ColumnChunk::default()
            });
        }
        self.rows += 1;
        let Some(chunk) = self.chunks.last_mut() else {
            return false;
        };
        if chunk.raw.len() != spec.keys.len() {
            chunk.raw = spec.keys.iter().map(|_| RawIndex::default()).collect();
        }
        // Values read before in the chunk are found by their raw fields; only the fields
        // of the others are decoded.
        let mut lossy = false;
        let mut decode = FieldSet::EMPTY;
        let mut read = FieldSet::EMPTY;
        self.lookups.clear();
        for (key, raw) in spec.keys.iter().zip(&mut chunk.raw) {
            read = read.with_all(key.fields());
            let found = raw.find(rec, lookup_fields(*key, rec, utf8_checked));
            match found {
                Lookup::Found { lossy: l, .. } => lossy |= l,
                Lookup::New(_) | Lookup::Off => decode = decode.with_all(key.fields()),
            }
            self.lookups.push(found);
        }
        if decode != FieldSet::EMPTY {
            lossy |= self.decoded.fill(rec, decode);
        }
        for (c, key) in spec.keys.iter().enumerate() {
            let id = match self.lookups[c] {
                Lookup::Found { id, .. } => id,
                Lookup::New(hash) => {
                    let id = chunk.pools[c].intern(&key.value(&self.decoded));
                    let fields = lookup_fields(*key, rec, utf8_checked);
                    let l = fields_lossy(rec, fields, &mut self.scratch);
                    chunk.raw[c].insert(hash, rec, fields, id, l);
                    id
                }
                Lookup::Off => chunk.pools[c].intern(&key.value(&self.decoded)),
            };
            chunk.ids[c].push(id);
        }
        // Fields kept beyond the keys' (none when built by `ColumnSpec::new`).
        if spec.fields != read {
            lossy |= self.decoded.fill(rec, spec.fields);
        }
        lossy = lossy || (!utf8_checked && has_invalid_utf8(rec, spec.fields, &mut self.scratch));
        chunk.times.push(time.0);
        chunk.lines.push(line);
        if spec.tags {
            tag_text(tags, &mut self.tag_scratch);
            let id = chunk.tag_pool.intern(&self.tag_scratch);
            chunk.tag_ids.push(id);
        }
        lossy
    }

    /// Sets the time of row `ordinal`.
    pub fn set_time(&mut self, ordinal: u64, time: Timestamp) {
        let k = self.chunks.partition_point(|c| c.first <= ordinal);
        if let Some(chunk) = k.checked_sub(1).and_then(|k| self.chunks.get_mut(k)) {
            if let Some(t) = chunk.times.get_mut((ordinal - chunk.first) as usize) {
                *t = time.0;
            }
        }
    }

    pub fn shift_lines(&mut self, by: u64) {
        for chunk in &mut self.chunks {
            for line in &mut chunk.lines {
                *line += by;
            }
        }
    }

    /// The chunk read so far is done: its raw indexes go (rows pushed after this start
    /// new ones), so that a scan's many finished chunks do not hold them until merged.
    pub fn seal(&mut self) {
        for chunk in &mut self.chunks {
            chunk.raw = Vec::new();
        }
    }

    /// Appends `later`'s rows, which follow this part's in the input.
    pub fn absorb(&mut self, later: ColumnPart) {
        self.seal(); // no more rows for the earlier chunks
        for mut chunk in later.chunks {
            chunk.first += self.rows;
            self.chunks.push(chunk);
        }
        self.rows += later.rows;
    }

    pub fn into_chunks(self) -> Vec<ColumnChunk> {
        let mut chunks = self.chunks;
        for chunk in &mut chunks {
            chunk.raw = Vec::new();
        }
        chunks
    }
}

/// One column of the table.
struct Column {
    pool: Pool,
    ids: Vec<u32>,
}

/// The rows written, as columns, sorted by time (ties in input order).
pub struct Table {
    keys: Vec<Key>,
    columns: Vec<Column>,
    times: Vec<Timestamp>,
    pos: Vec<SourcePos>,
    /// Messages each row touched (`--expand-items`), else empty.
    items: Vec<u32>,
    /// Each row's tags, by number into `tag_sets` (empty when tags are not kept).
    tag_ids: Vec<u32>,
    tag_sets: Vec<Box<[u32]>>,
}

/// Whether the row at a position of its file's kept rows is written.
pub(crate) type Written<'a> = &'a (dyn Fn(u64) -> bool + Sync);

/// A file's chunks, and which of its rows are written.
pub(crate) struct FileColumns<'a> {
    pub file: u32,
    pub chunks: Vec<ColumnChunk>,
    pub written: Written<'a>,
    /// Messages per row by position in the file's kept rows (empty without items).
    pub items: &'a [u32],
}

impl Table {
    /// Merges the files' chunks into one table (files in input order).
    pub(crate) fn build(spec: &ColumnSpec, files: Vec<FileColumns<'_>>) -> Table {
        // Every chunk, in input order: its index breaks ties in time.
        let mut chunks: Vec<(u32, ColumnChunk)> = Vec::new();
        let mut written: Vec<(Written<'_>, &[u32])> = Vec::new();
        for f in files {
            for c in f.chunks {
                chunks.push((f.file, c));
                written.push((f.written, f.items));
            }
        }
        if spec.counted && !spec.with_items && !spec.tags {
            return Table::counted(spec, chunks, &written);
        }
        // The rows written, sorted.
        let mut order: Vec<(i64, u32, u32)> = chunks
            .par_iter()
            .enumerate()
            .flat_map_iter(|(g, (_, c))| {
                let keep = written[g].0;
                (0..c.len() as u32)
                    .filter(move |&r| keep(c.first + u64::from(r)))
                    .map(move |r| (c.times[r as usize], g as u32, r))
            })
            .collect();
        order.par_sort_unstable();

        let times = order.iter().map(|&(t, _, _)| Timestamp(t)).collect();
        let pos = order
            .iter()
            .map(|&(_, g, r)| {
                let (file, c) = &chunks[g as usize];
                SourcePos {
                    file: *file,
                    line: c.lines[r as usize],
                }
            })
            .collect();
        let items = if spec.with_items {
            order
                .iter()
                .map(|&(_, g, r)| {
                    let (_, c) = &chunks[g as usize];
                    let items = written[g as usize].1;
                    let ordinal = c.first + u64::from(r);
                    usize::try_from(ordinal)
                        .ok()
                        .and_then(|o| items.get(o))
                        .copied()
                        .unwrap_or(0)
                })
                .collect()
        } else {
            Vec::new()
        };
        let (tag_ids, tag_sets) = if spec.tags {
            merge_tags(&chunks, &order)
        } else {
            (Vec::new(), Vec::new())
        };
        let columns = merged_columns(spec, &mut chunks, |maps| {
            order
                .iter()
                .map(|&(_, g, r)| {
                    let (map, ids) = &maps[g as usize];
                    map[ids[r as usize] as usize]
                })
                .collect()
        });
        Table {
            keys: spec.keys.clone(),
            columns,
            times,
            pos,
            items,
            tag_ids,
            tag_sets,
        }
    }

    /// The table of [`Table::build`] for a count ([`ColumnSpec::counted`]): the rows
    /// written in input order (a count is the same in any order), without their places:
    /// no sort, and none of the memory the sort's order and the places take (fresh pages,
    /// a fault each 4 KiB: half of the table's 25 ms after a whole UAL export's scan).
    fn counted(
        spec: &ColumnSpec,
        mut chunks: Vec<(u32, ColumnChunk)>,
        written: &[(Written<'_>, &[u32])],
    ) -> Table {
        // Each chunk's rows written (all of them, but for duplicates).
        let rows: Vec<Vec<u32>> = chunks
            .par_iter()
            .zip(written)
            .map(|((_, c), (keep, _))| {
                (0..c.len() as u32)
                    .filter(|&r| keep(c.first + u64::from(r)))
                    .collect()
            })
            .collect();
        let times = chunks
            .iter()
            .zip(&rows)
            .flat_map(|((_, c), rows)| rows.iter().map(|&r| Timestamp(c.times[r as usize])))
            .collect();
        let columns = merged_columns(spec, &mut chunks, |maps| {
            maps.iter()
                .zip(&rows)
                .flat_map(|((map, ids), rows)| rows.iter().map(|&r| map[ids[r as usize] as usize]))
                .collect()
        });
        Table {
            keys: spec.keys.clone(),
            columns,
            times,
            ..Table::empty()
        }
    }

    /// A table of `rows` (for tests, and rows already in memory).
    pub fn from_records<R: crate::record::Fields>(
        keys: &[Key],
        rows: &[R],
        time: impl Fn(&R) -> Timestamp,
        pos: impl Fn(&R) -> SourcePos,
        items: impl Fn(&R) -> u32,
    ) -> Table {
        let mut columns: Vec<Column> = keys
            .iter()
            .map(|_| Column {
                pool: Pool::default(),
                ids: Vec::new(),
            })
            .collect();
        for row in rows {
            for (c, key) in keys.iter().enumerate() {
                let id = columns[c].pool.intern(&key.value(row));
                columns[c].ids.push(id);
            }
        }
        let mut tag_pool = Pool::default();
        let mut text = String::new();
        let tag_ids: Vec<u32> = rows
            .iter()
            .map(|r| {
                tag_text(r.tags(), &mut text);
                tag_pool.intern(&text)
            })
            .collect();
        let tag_sets = (0..tag_pool.len() as u32)
            .map(|id| parse_tags(tag_pool.get(id)))
            .collect();
        Table {
            keys: keys.to_vec(),
            columns,
            times: rows.iter().map(&time).collect(),
            pos: rows.iter().map(&pos).collect(),
            items: rows.iter().map(&items).collect(),
            tag_ids,
            tag_sets,
        }
    }

    /// A table of no rows.
    pub fn empty() -> Table {
        Table {
            keys: Vec::new(),
            columns: Vec::new(),
            times: Vec::new(),
            pos: Vec::new(),
            items: Vec::new(),
            tag_ids: Vec::new(),
            tag_sets: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    pub fn time(&self, row: usize) -> Timestamp {
        self.times[row]
    }

    /// Where row `row` was read. A table only counted ([`ColumnSpec::counted`]) keeps
    /// no places, and its reader (the summary) asks for none.
    pub fn pos(&self, row: usize) -> SourcePos {
        self.pos[row]
    }

    /// The messages row `row` touched (0 when not counted).
    pub fn items(&self, row: usize) -> u32 {
        self.items.get(row).copied().unwrap_or(0)
    }

    /// The rules row `row` matched when it was read, ascending (empty when tags were not
    /// kept).
    pub fn tags(&self, row: usize) -> &[u32] {
        self.tag_ids
            .get(row)
            .and_then(|&id| self.tag_sets.get(id as usize))
            .map_or(&[], |t| &t[..])
    }

    /// Row `row` rebuilt as a record of the fields kept as read ([`Key::AsRead`]), its
    /// time, place and tags: what the writers of rows read (see
    /// `output::workbook::row_keys`).
    pub fn record(&self, row: usize) -> Option<crate::record::OwnedRecord> {
        if row >= self.len() {
            return None;
        }
        let mut fields: Vec<(crate::record::Field, &str)> = self
            .keys
            .iter()
            .enumerate()
            .filter_map(|(c, k)| match k {
                Key::AsRead(f) => Some((*f, self.text(c, self.id(c, row)))),
                _ => None,
            })
            .collect();
        fields.sort_by_key(|&(f, _)| f as usize);
        fields.dedup_by_key(|&mut (f, _)| f as usize);
        let mut rec = crate::record::OwnedRecord::from_parts(
            &fields,
            self.time(row),
            self.pos(row),
            Vec::new(),
        );
        rec.tags = self.tags(row).into();
        Some(rec)
    }

    /// The column holding `key`.
    pub fn column(&self, key: Key) -> Option<usize> {
        self.keys.iter().position(|&k| k == key)
    }

    /// The number of the value of column `col` in row `row`.
    pub fn id(&self, col: usize, row: usize) -> u32 {
        self.columns[col].ids[row]
    }

    /// Value number `id` of column `col`.
    pub fn text(&self, col: usize, id: u32) -> &str {
        self.columns[col].pool.get(id)
    }

    /// How many distinct values column `col` holds.
    pub fn distinct(&self, col: usize) -> usize {
        self.columns[col].pool.len()
    }

    /// The value of `key` in row `row` (empty when the table does not keep it).
    pub fn value(&self, key: Key, row: usize) -> Cow<'_, str> {
        match self.column(key) {
            Some(c) => Cow::Borrowed(self.text(c, self.id(c, row))),
            None => Cow::Borrowed(""),
        }
    }

    /// For each value of column `col`, the number of its lower-cased form (values that
    /// differ only in case share one).
    pub fn lower_ids(&self, col: usize) -> Vec<u32> {
        let pool = &self.columns[col].pool;
        let mut lower = Pool::default();
        (0..pool.len() as u32)
            .map(|id| {
                let v = pool.get(id);
                if v.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
                    lower.intern(&v.to_lowercase())
                } else {
                    lower.intern(v)
                }
            })
            .collect()
    }
}

/// The table's columns from the chunks' (taken from `chunks`), column by column in
/// parallel: one pool each, every chunk's numbers mapped into it (`maps`: per chunk, its
/// number → the pool's, and its rows' numbers), the rows' numbers then read by `ids`.
fn merged_columns(
    spec: &ColumnSpec,
    chunks: &mut [(u32, ColumnChunk)],
    ids: impl Fn(&[(Vec<u32>, Vec<u32>)]) -> Vec<u32> + Sync,
) -> Vec<Column> {
    let mut per_column: Vec<Vec<(Pool, Vec<u32>)>> =
        (0..spec.keys.len()).map(|_| Vec::new()).collect();
    for (_, c) in chunks {
        let pools = std::mem::take(&mut c.pools);
        let ids = std::mem::take(&mut c.ids);
        for (k, (p, i)) in pools.into_iter().zip(ids).enumerate() {
            per_column[k].push((p, i));
        }
    }
    per_column
        .into_par_iter()
        .map(|parts| {
            let mut pool = Pool::default();
            let maps: Vec<(Vec<u32>, Vec<u32>)> = parts
                .into_iter()
                .map(|(p, ids)| {
                    let map = (0..p.len() as u32)
                        .map(|id| pool.intern(p.get(id)))
                        .collect();
                    (map, ids)
                })
                .collect();
            Column {
                ids: ids(&maps),
                pool: pool.frozen(),
            }
        })
        .collect()
}

/// Every chunk's tags mapped into one numbering, for the rows of `order`.
fn merge_tags(
    chunks: &[(u32, ColumnChunk)],
    order: &[(i64, u32, u32)],
) -> (Vec<u32>, Vec<Box<[u32]>>) {
    let mut pool = Pool::default();
    let maps: Vec<Vec<u32>> = chunks
        .iter()
        .map(|(_, c)| {
            (0..c.tag_pool.len() as u32)
                .map(|id| pool.intern(c.tag_pool.get(id)))
                .collect()
        })
        .collect();
    let ids = order
        .iter()
        .map(|&(_, g, r)| {
            let (_, c) = &chunks[g as usize];
            c.tag_ids
                .get(r as usize)
                .and_then(|&id| maps[g as usize].get(id as usize))
                .copied()
                .unwrap_or(u32::MAX)
        })
        .collect();
    let sets = (0..pool.len() as u32)
        .map(|id| parse_tags(pool.get(id)))
        .collect();
    (ids, sets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Escape, Field, RawField};

    #[test]
    fn pools_number_each_value_once() {
        let mut p = Pool::default();
        assert_eq!(p.intern("a"), 0);
        assert_eq!(p.intern(""), 1);
        assert_eq!(p.intern("bb"), 2);
        assert_eq!(p.intern("a"), 0);
        assert_eq!(p.intern(""), 1);
        assert_eq!((p.get(0), p.get(1), p.get(2)), ("a", "", "bb"));
        for i in 0..1000 {
            assert_eq!(p.intern(&i.to_string()) as usize, 3 + i);
        }
        assert_eq!(p.intern("999"), 1002);
    }

    #[test]
    fn tables_merge_chunks_and_sort() {
        let spec = ColumnSpec::new(&[Key::Operation, Key::ClientIp], false, true);
        let row = |op: &'static [u8], ip: &'static [u8]| {
            let mut r = AuditRecord::default();
            r.set(Field::Operation, RawField::new(op, Escape::None));
            r.set(Field::ClientIpAddress, RawField::new(ip, Escape::None));
            r
        };
        let mut a = ColumnPart::default();
        a.push(
            &spec,
            &row(b"Move", b"1.2.3.4:5"),
            Timestamp(30),
            2,
            false,
            &[],
        );
        a.push(
            &spec,
            &row(b"Copy", b"1.2.3.4"),
            Timestamp(10),
            3,
            false,
            &[2],
        );
        let mut b = ColumnPart::default();
        b.push(
            &spec,
            &row(b"Move", b"9.9.9.9"),
            Timestamp(10),
            4,
            false,
            &[1, 7],
        );
        b.push(&spec, &row(b"Send", b""), Timestamp(5), 5, false, &[]);
        a.absorb(b);
        a.set_time(3, Timestamp(1));
        a.shift_lines(10);
        let skip_second = |o: u64| o != 1;
        let t = Table::build(
            &spec,
            vec![FileColumns {
                file: 0,
                chunks: a.into_chunks(),
                written: &skip_second,
                items: &[],
            }],
        );
        assert_eq!(t.len(), 3);
        let ops: Vec<_> = (0..3)
            .map(|i| t.value(Key::Operation, i).into_owned())
            .collect();
        assert_eq!(ops, ["Send", "Move", "Move"]);
        assert_eq!(t.value(Key::ClientIp, 1), "9.9.9.9");
        assert_eq!(t.value(Key::ClientIp, 2), "1.2.3.4");
        assert_eq!(t.pos(0).line, 15);
        assert_eq!(t.time(0), Timestamp(1));
        assert_eq!(
            t.distinct(0),
            3,
            "values of rows not written stay in the pool"
        );
        assert_eq!(t.value(Key::Actor, 0), "");
        let tags: Vec<&[u32]> = (0..3).map(|i| t.tags(i)).collect();
        assert_eq!(tags, [&[][..], &[1, 7][..], &[][..]]);
    }
}
