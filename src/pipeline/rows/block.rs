//! A block of kept rows in one arena: a fixed head per row (time, where its text starts,
//! its line) and the text of the fields the output needs, each prefixed with its length.
//! No allocation per row; a block is sorted and written to a temporary file as a whole
//! when memory runs short ([`super::spill`]), and read back in the same encoding.
//!
//! A row's text: a header of LEB128 numbers — the length of each field of the block's
//! [`FieldSet`](crate::record::FieldSet) (in [`Field`](crate::record::Field) order),
//! then, when the rows carry the messages they touched (`--expand-items`), their count
//! and the lengths of each message's folder, Internet Message-ID and subject, then, when
//! the rows carry the rules they matched (`triage --sigma`), their count and numbers —
//! followed by all those values' UTF-8 bytes back to back. The fields' bytes are then
//! exactly the text of the row rebuilt for the writers ([`materialize`]: one check, one
//! copy).

use super::Shape;
use crate::datetime::Timestamp;
use std::borrow::Cow;

use crate::record::{
    AuditRecord, Escape, Item, OwnedRecord, RawField, RowScratch, RowView, SourcePos,
};

/// A row's fixed part.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Head {
    /// The event time (ns since the epoch, UTC).
    pub time: i64,
    /// Where the row's text starts in the block's arena.
    at: u32,
    /// The row's line, after the block's first.
    line: u32,
}

/// Rows in the order they were kept, all in one arena.
#[derive(Debug, Default)]
pub(crate) struct Block {
    pub heads: Vec<Head>,
    text: Vec<u8>,
    /// The line the first row's line is counted from.
    pub base_line: u64,
    /// A row's lengths while it is written.
    lens: Vec<usize>,
}

/// A block holds at most this much text: the offsets are 32-bit.
const TEXT_MAX: usize = 1 << 31;

impl Block {
    pub fn len(&self) -> usize {
        self.heads.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heads.is_empty()
    }

    /// Bytes of memory the block holds.
    pub fn bytes(&self) -> usize {
        self.heads.capacity() * std::mem::size_of::<Head>() + self.text.capacity()
    }

    /// Gives back the room the arena grew into but does not use (before the block is kept
    /// for long: a vector grown by doubling may be half empty).
    pub fn shrink(&mut self) {
        if self.text.capacity() > self.text.len() + self.text.len() / 8 {
            self.text.shrink_to_fit();
        }
        if self.heads.capacity() > self.heads.len() + self.heads.len() / 8 {
            self.heads.shrink_to_fit();
        }
        self.lens = Vec::new();
    }

    /// Whether a row of `line` fits: the text and the line offsets are 32-bit.
    pub fn has_room(&self, line: u64) -> bool {
        self.heads.is_empty()
            || (self.text.len() < TEXT_MAX
                && line
                    .checked_sub(self.base_line)
                    .is_some_and(|d| d < u64::from(u32::MAX)))
    }

    /// Appends a row: the shape's fields of `rec` (and its messages, and `tags`, when the
    /// shape keeps them). Returns whether invalid UTF-8 was replaced. The caller checked
    /// [`Block::has_room`].
    pub fn push(
        &mut self,
        rec: &AuditRecord<'_>,
        shape: Shape,
        time: Timestamp,
        line: u64,
        tags: &[u32],
    ) -> bool {
        let (fields, with_items) = (shape.fields, shape.with_items);
        let tags = if shape.with_tags { tags } else { &[] };
        if self.heads.is_empty() {
            self.base_line = line;
        }
        let at = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        let line = u32::try_from(line.saturating_sub(self.base_line)).unwrap_or(u32::MAX);
        self.heads.push(Head {
            time: time.0,
            at,
            line,
        });
        let mut lossy = false;
        let start = self.text.len();
        let (text, lens) = (&mut self.text, &mut self.lens);
        lens.clear();
        // One byte a number is reserved for the header (lengths under 128, the usual),
        // written in place once the values are; a longer one moves the values.
        let n = fields.count();
        let numbers =
            n + if with_items {
                1 + 3 * rec.items.len()
            } else {
                0
            } + if shape.with_tags { 1 + tags.len() } else { 0 };
        text.resize(start + numbers, 0);
        let mut value = |field: RawField<'_>, lens: &mut Vec<usize>| {
            let (len, l) = put_text(text, field);
            lens.push(len);
            lossy |= l;
        };
        for field in fields.fields() {
            value(rec.get(field), lens);
        }
        if with_items {
            lens.push(rec.items.len());
            for item in rec.items {
                value(item.folder, lens);
                value(item.internet_message_id, lens);
                value(item.subject, lens);
            }
        }
        if shape.with_tags {
            lens.push(tags.len());
            lens.extend(tags.iter().map(|&t| t as usize));
        }
        // `lens` holds the numbers in write order: fields, then (count, items...), then
        // (count, tags...); each count was pushed before what it counts.
        if lens.iter().all(|&l| l < 0x80) {
            for (slot, &len) in self.text[start..start + numbers]
                .iter_mut()
                .zip(lens.iter())
            {
                *slot = len as u8;
            }
        } else {
            let mut header = Vec::with_capacity(numbers + 8);
            for &len in lens.iter() {
                put_len(&mut header, len);
            }
            self.text.splice(start..start + numbers, header);
        }
        lossy
    }

    /// Appends a row whose text is already encoded (a row moved from another block).
    pub fn push_raw(&mut self, time: Timestamp, line: u64, text: &[u8]) {
        if self.heads.is_empty() {
            self.base_line = line;
        }
        self.heads.push(Head {
            time: time.0,
            at: u32::try_from(self.text.len()).unwrap_or(u32::MAX),
            line: u32::try_from(line.saturating_sub(self.base_line)).unwrap_or(u32::MAX),
        });
        self.text.extend_from_slice(text);
    }

    /// The text of row `pos`.
    pub fn text(&self, pos: usize) -> &[u8] {
        let start = self.heads[pos].at as usize;
        let end = self
            .heads
            .get(pos + 1)
            .map_or(self.text.len(), |h| h.at as usize);
        self.text.get(start..end).unwrap_or_default()
    }

    pub fn line(&self, pos: usize) -> u64 {
        self.base_line + u64::from(self.heads[pos].line)
    }

    /// Adds `by` to every line.
    pub fn shift_lines(&mut self, by: u64) {
        self.base_line += by;
    }

    /// The rows' positions sorted by time, ties in keeping order; with `newest_first`,
    /// the exact reverse.
    pub fn sorted(&self, newest_first: bool) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.heads.len() as u32).collect();
        order.sort_by_key(|&p| self.heads[p as usize].time);
        if newest_first {
            order.reverse();
        }
        order
    }

    /// Appends rows `order` as a run ([`RunRow`] records) to `out`.
    pub fn write_run(&self, order: &[u32], out: &mut Vec<u8>) {
        for &pos in order {
            let p = pos as usize;
            let text = self.text(p);
            let mut head = [0u8; 3 * 10 + 8];
            let mut n = 0;
            head[n..n + 8].copy_from_slice(&self.heads[p].time.to_le_bytes());
            n += 8;
            n += leb(&mut head[n..], u64::from(pos));
            n += leb(&mut head[n..], self.line(p));
            let mut len = [0u8; 10];
            let k = leb(&mut len, (n + text.len()) as u64);
            out.extend_from_slice(&len[..k]);
            out.extend_from_slice(&head[..n]);
            out.extend_from_slice(text);
        }
    }

    /// Rebuilds a block from a run written by [`Block::write_run`]: the rows in run order,
    /// with their positions in the original block.
    pub fn from_run(mut run: &[u8]) -> Option<(Block, Vec<u32>)> {
        let mut rows = Vec::new();
        while !run.is_empty() {
            let (row, rest) = RunRow::parse(run)?;
            run = rest;
            rows.push(row);
        }
        let mut block = Block {
            base_line: rows.iter().map(|r| r.line).min().unwrap_or(0),
            ..Block::default()
        };
        let mut positions = Vec::with_capacity(rows.len());
        for row in rows {
            block.heads.push(Head {
                time: row.time,
                at: u32::try_from(block.text.len()).ok()?,
                line: u32::try_from(row.line - block.base_line).ok()?,
            });
            block.text.extend_from_slice(row.text);
            positions.push(row.pos);
        }
        Some((block, positions))
    }
}

/// One row of a run, as written by [`Block::write_run`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunRow<'a> {
    pub time: i64,
    /// The row's position in the block it was kept in.
    pub pos: u32,
    pub line: u64,
    pub text: &'a [u8],
}

impl<'a> RunRow<'a> {
    /// The row at the start of `bytes`, and what follows it; `None` when `bytes` does not
    /// hold a whole row.
    pub fn parse(bytes: &'a [u8]) -> Option<(RunRow<'a>, &'a [u8])> {
        let (len, rest) = get_len(bytes)?;
        let record = rest.get(..len)?;
        let rest = &rest[len..];
        let time = i64::from_le_bytes(record.get(..8)?.try_into().ok()?);
        let (pos, r) = get_u64(&record[8..])?;
        let (line, text) = get_u64(r)?;
        let row = RunRow {
            time,
            pos: u32::try_from(pos).ok()?,
            line,
            text,
        };
        Some((row, rest))
    }

    /// How many bytes the record at the start of `bytes` takes, when its length is there.
    pub fn size(bytes: &[u8]) -> Option<usize> {
        let (len, rest) = get_len(bytes)?;
        Some(bytes.len() - rest.len() + len)
    }
}

/// The lengths of a row's fields.
type Lens = [usize; crate::record::FIELD_COUNT];

/// Decodes a row's text (see the module documentation): its messages and tags into
/// `scratch`; returns its fields' bytes and lengths.
fn decode<'r>(row: &'r [u8], shape: Shape, scratch: &mut RowScratch) -> (&'r [u8], Lens) {
    let (fields, with_items) = (shape.fields, shape.with_items);
    let mut rest = row;
    let mut next = || {
        let (n, r) = get_len(rest).unwrap_or((0, &[]));
        rest = r;
        n
    };
    let mut lens: Lens = [0; crate::record::FIELD_COUNT];
    let mut total = 0usize;
    for len in lens.iter_mut().take(fields.count()) {
        *len = next();
        total = total.saturating_add(*len);
    }
    let mut item_lens = Vec::new();
    if with_items {
        // Each length takes at least a byte: a count beyond the row's bytes is damage.
        let count = next().min(row.len());
        item_lens.reserve(3 * count);
        for _ in 0..3 * count {
            item_lens.push(next());
        }
    }
    scratch.tags.clear();
    if shape.with_tags {
        let count = next().min(row.len());
        for _ in 0..count {
            scratch.tags.push(u32::try_from(next()).unwrap_or(u32::MAX));
        }
    }
    let text = rest.get(..total).unwrap_or_default();
    let mut after = rest.get(total..).unwrap_or_default();
    let mut take = |len: usize| -> Box<str> {
        let (value, r) = after.split_at(len.min(after.len()));
        after = r;
        Box::from(String::from_utf8_lossy(value))
    };
    scratch.items.clear();
    scratch
        .items
        .extend(item_lens.chunks_exact(3).map(|l| Item {
            folder: take(l[0]),
            internet_message_id: take(l[1]),
            subject: take(l[2]),
        }));
    (text, lens)
}

/// How many lines a row is written on (see the module documentation for its text): one
/// per message it carries, at least one; what [`decode`] decodes, without decoding it.
pub(crate) fn lines_of(row: &[u8], shape: Shape) -> usize {
    if !shape.with_items {
        return 1;
    }
    let mut rest = row;
    for _ in 0..shape.fields.count() {
        rest = get_len(rest).map_or(&[][..], |(_, r)| r);
    }
    let count = get_len(rest).map_or(0, |(n, _)| n).min(row.len());
    count.max(1)
}

/// A row's fields' text, checked: the standard library's check, not simdutf8 (a row's
/// text is a few hundred bytes, mostly ASCII, which it passes a word at a time without
/// simdutf8's set-up and its copy of the last bytes). Invalid UTF-8 (never stored by
/// [`put_text`], but a run read back from disk could be damaged) is replaced.
fn checked(text: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(text) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(text),
    }
}

/// Rebuilds a row from its text (see the module documentation).
pub(crate) fn materialize(
    row: &[u8],
    shape: Shape,
    time: Timestamp,
    pos: SourcePos,
) -> OwnedRecord {
    let mut scratch = RowScratch::default();
    let (text, lens) = decode(row, shape, &mut scratch);
    let text = checked(text).into_owned();
    scratch.set_ends(shape.fields, &lens, text.len());
    scratch.into_record(text, time, pos)
}

/// A row read in place from its text (see the module documentation): nothing copied but
/// what `scratch` holds (the fields' ends, messages and tags; the text, only when it had
/// to be repaired).
pub(crate) fn view<'s>(
    row: &'s [u8],
    shape: Shape,
    time: Timestamp,
    pos: SourcePos,
    scratch: &'s mut RowScratch,
) -> RowView<'s> {
    let (text, lens) = decode(row, shape, scratch);
    let text = checked(text);
    scratch.set_ends(shape.fields, &lens, text.len());
    let text = match text {
        Cow::Borrowed(text) => text,
        Cow::Owned(repaired) => {
            scratch.repaired = repaired;
            &scratch.repaired
        }
    };
    RowView::new(text, scratch, time, pos)
}

fn put_len(out: &mut Vec<u8>, n: usize) {
    let mut buf = [0u8; 10];
    let k = leb(&mut buf, n as u64);
    out.extend_from_slice(&buf[..k]);
}

/// Appends `field` unescaped to `out` (a 50 MB field goes straight into the arena);
/// invalid UTF-8 becomes U+FFFD. Returns its length and whether any was replaced.
fn put_text(out: &mut Vec<u8>, field: RawField<'_>) -> (usize, bool) {
    let start = out.len();
    // An ASCII field stays ASCII when its doubled quotes are undone, so the input's bytes
    // are looked at, not the copy: reading back bytes just stored waits on the stores
    // (a quarter of this function's samples in a legacy dump). A JSON escape (`\u00e9`)
    // may make ASCII text into more, so its copy is looked at.
    let plain = field.escape != Escape::Json;
    let ascii_in = plain && field.bytes.is_ascii();
    field.unescape_into(out);
    let ascii = ascii_in || (!plain && out[start..].is_ascii());
    let mut lossy = false;
    if !ascii && simdutf8::basic::from_utf8(&out[start..]).is_err() {
        let fixed = String::from_utf8_lossy(&out[start..]).into_owned();
        out.truncate(start);
        out.extend_from_slice(fixed.as_bytes());
        lossy = true;
    }
    (out.len() - start, lossy)
}

/// Writes `n` as LEB128 into `out` (10 bytes suffice); returns the bytes written.
fn leb(out: &mut [u8], mut n: u64) -> usize {
    let mut k = 0;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out[k] = byte;
            return k + 1;
        }
        out[k] = byte | 0x80;
        k += 1;
    }
}

fn get_u64(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut n = 0u64;
    for (k, &b) in bytes.iter().enumerate().take(10) {
        n |= u64::from(b & 0x7f) << (7 * k);
        if b & 0x80 == 0 {
            return Some((n, &bytes[k + 1..]));
        }
    }
    None
}

fn get_len(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let (n, rest) = get_u64(bytes)?;
    Some((usize::try_from(n).ok()?, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Field, ItemView};

    fn record<'a>(op: &'a [u8], subject: &'a [u8], items: &'a [ItemView<'a>]) -> AuditRecord<'a> {
        let mut r = AuditRecord::default();
        r.set(Field::Operation, RawField::new(op, Escape::None));
        r.set(
            Field::ItemSubject,
            RawField::new(subject, Escape::CsvQuotes),
        );
        r.items = items;
        r
    }

    #[test]
    fn rows_of_any_text_are_rebuilt_as_utf8() {
        // ASCII (told without the validator), other UTF-8, and bytes that are not UTF-8
        // (a damaged run read back): the last replaced, never taken as they stand.
        let shape = Shape {
            fields: crate::record::FieldSet::EMPTY
                .with(Field::Operation)
                .with(Field::ItemSubject),
            with_items: false,
            with_tags: false,
            newest_first: false,
        };
        let pos = SourcePos { file: 0, line: 1 };
        let mut b = Block::default();
        b.push(&record(b"Move", b"plain", &[]), shape, Timestamp(1), 1, &[]);
        b.push(
            &record(b"Move", "Café ☕".as_bytes(), &[]),
            shape,
            Timestamp(1),
            2,
            &[],
        );
        let subject = |row: &[u8]| {
            materialize(row, shape, Timestamp(1), pos)
                .get(Field::ItemSubject)
                .to_string()
        };
        assert_eq!(subject(b.text(0)), "plain");
        assert_eq!(subject(b.text(1)), "Café ☕");
        // Lengths 4 and 3, then the fields' bytes: the byte that is not UTF-8 comes out
        // replaced (the replacement is longer, so the field keeps its first 3 bytes).
        assert_eq!(subject(b"\x04\x03Move\xffab"), "\u{FFFD}");
    }

    #[test]
    fn put_text_replaces_what_is_not_utf8_after_unescaping() {
        // (escape, input bytes, text kept, replaced?)
        let cases: [(Escape, &[u8], &str, bool); 8] = [
            (Escape::None, b"plain", "plain", false),
            (Escape::CsvQuotes, br#"say ""hi"""#, r#"say "hi""#, false),
            (
                Escape::CsvQuotes,
                "Café \"\"☕\"\"".as_bytes(),
                "Café \"☕\"",
                false,
            ),
            (Escape::None, b"ab\xffcd", "ab\u{FFFD}cd", true),
            (Escape::CsvQuotes, b"\xc3\"\"", "\u{FFFD}\"", true),
            // ASCII escapes that unescape to other text: the copy is what is checked.
            (Escape::Json, br"Caf\u00e9", "Café", false),
            (Escape::Json, br"a\/b", "a/b", false),
            (Escape::Json, b"x\xfe", "x\u{FFFD}", true),
        ];
        for (escape, bytes, want, replaced) in cases {
            let mut out = b"before".to_vec();
            let (len, lossy) = put_text(&mut out, RawField::new(bytes, escape));
            assert_eq!(&out[..6], b"before");
            assert_eq!(std::str::from_utf8(&out[6..]).unwrap(), want, "{bytes:?}");
            assert_eq!((len, lossy), (want.len(), replaced), "{bytes:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// A row read in place (one scratch reused from row to row, as a writer's thread
        /// does) is the row `materialize` rebuilds: every field, message, tag, time and
        /// place, and as many lines; and so is a row whose text is damaged.
        #[test]
        fn views_read_rows_as_materialize_rebuilds_them(
            field_bits in proptest::prelude::any::<u64>(),
            with_items in proptest::prelude::any::<bool>(),
            with_tags in proptest::prelude::any::<bool>(),
            rows in proptest::collection::vec(
                (
                    proptest::collection::vec(
                        proptest::collection::vec(
                            proptest::prop_oneof![
                                proptest::prelude::Just(b'a'),
                                proptest::prelude::Just(b'"'),
                                proptest::prelude::Just(0xC3u8),
                                proptest::prelude::Just(0xA9u8),
                                proptest::prelude::Just(0xFFu8),
                            ],
                            0..140,
                        ),
                        3,
                    ),
                    0..3usize,
                    proptest::collection::vec(0..300u32, 0..4),
                ),
                1..6,
            ),
            damage in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            let mut fields = crate::record::FieldSet::EMPTY;
            for (i, &f) in Field::ALL.iter().enumerate() {
                if field_bits >> i & 1 == 1 {
                    fields = fields.with(f);
                }
            }
            let shape = Shape { fields, with_items, with_tags, newest_first: false };
            let mut b = Block::default();
            for (k, (values, item_count, tags)) in rows.iter().enumerate() {
                let items: Vec<ItemView<'_>> = (0..*item_count)
                    .map(|_| ItemView {
                        folder: RawField::new(&values[2], Escape::None),
                        internet_message_id: RawField::new(b"<m@x>", Escape::None),
                        subject: RawField::new(&values[0], Escape::CsvQuotes),
                    })
                    .collect();
                let mut rec = record(&values[0], &values[1], &items);
                rec.set(Field::ClientIp, RawField::new(&values[2], Escape::None));
                b.push(&rec, shape, Timestamp(k as i64), 10 + k as u64, tags);
            }
            let mut scratch = RowScratch::default();
            let pos = |line| SourcePos { file: 2, line };
            for p in 0..b.len() {
                let (time, at) = (Timestamp(b.heads[p].time), pos(b.line(p)));
                let want = materialize(b.text(p), shape, time, at);
                let got = view(b.text(p), shape, time, at, &mut scratch);
                proptest::prop_assert_eq!(got.to_owned_record(), want.clone());
                proptest::prop_assert_eq!(lines_of(b.text(p), shape), want.items.len().max(1));
                for f in Field::ALL {
                    proptest::prop_assert_eq!(got.get(f), want.get(f));
                }
            }
            let want = materialize(&damage, shape, Timestamp(1), pos(1));
            let got = view(&damage, shape, Timestamp(1), pos(1), &mut scratch);
            proptest::prop_assert_eq!(got.to_owned_record(), want.clone());
            proptest::prop_assert_eq!(lines_of(&damage, shape), want.items.len().max(1));
        }
    }

    #[test]
    fn rows_round_trip_through_a_run() {
        let fields = crate::record::FieldSet::EMPTY
            .with(Field::Operation)
            .with(Field::ItemSubject);
        let shape = Shape {
            fields,
            with_items: true,
            with_tags: true,
            newest_first: false,
        };
        let items = [ItemView {
            folder: RawField::new(b"\\Inbox", Escape::None),
            internet_message_id: RawField::new(b"<m@x>", Escape::None),
            subject: RawField::new(b"hi", Escape::None),
        }];
        let mut b = Block::default();
        let long = vec![b'x'; 300];
        assert!(!b.push(
            &record(b"Move", br#"a ""q"""#, &[]),
            shape,
            Timestamp(30),
            5,
            &[]
        ));
        assert!(b.push(
            &record(b"Copy", b"\xff", &items),
            shape,
            Timestamp(10),
            9,
            &[3, 200]
        ));
        assert!(!b.push(&record(b"Send", &long, &[]), shape, Timestamp(30), 12, &[1]));
        let order = b.sorted(false);
        assert_eq!(order, vec![1, 0, 2]);
        assert_eq!(b.sorted(true), vec![2, 0, 1]);
        let mut run = Vec::new();
        b.write_run(&order, &mut run);
        let (back, positions) = Block::from_run(&run).unwrap();
        assert_eq!(positions, vec![1, 0, 2]);
        let pos = |line| SourcePos { file: 0, line };
        for (k, &p) in positions.iter().enumerate() {
            let p = p as usize;
            let want = materialize(b.text(p), shape, Timestamp(b.heads[p].time), pos(b.line(p)));
            let got = materialize(
                back.text(k),
                shape,
                Timestamp(back.heads[k].time),
                pos(back.line(k)),
            );
            assert_eq!(got, want);
        }
        let copy = materialize(b.text(1), shape, Timestamp(10), pos(9));
        assert_eq!(copy.get(Field::Operation), "Copy");
        assert_eq!(copy.get(Field::ItemSubject), "\u{FFFD}");
        assert_eq!(copy.items.len(), 1);
        assert_eq!(&*copy.items[0].internet_message_id, "<m@x>");
        assert_eq!(&*copy.tags, &[3, 200], "tags survive a run");
        let first = materialize(b.text(0), shape, Timestamp(30), pos(5));
        assert_eq!(first.get(Field::ItemSubject), "a \"q\"");
        assert_eq!(
            materialize(b.text(2), shape, Timestamp(30), pos(12))
                .get(Field::ItemSubject)
                .len(),
            300
        );
        // A cut run is refused, not misread.
        assert!(Block::from_run(&run[..run.len() - 1]).is_none());
    }

    #[test]
    fn varints() {
        for n in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut buf = [0u8; 10];
            let k = leb(&mut buf, n);
            assert_eq!(get_u64(&buf[..k]), Some((n, &[][..])));
        }
        assert_eq!(get_u64(&[0x80; 11]), None);
    }
}
