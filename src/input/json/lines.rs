//! JSON Lines: a look at each line before it is structured.
//!
//! Most lines of a Unified Audit Log JSON Lines export (one AuditData object per line, as
//! the Management Activity API and Microsoft-Extractor-Suite write them) are dropped by
//! a rule that reads a few top-level members and the subjects: the date window, the
//! record types, `--subject`. The full path structures every line first (token offsets,
//! members, their meaning) and only then takes the quick look at AuditData. This module
//! takes that look first, straight from the line's bytes, and drops a line only when the
//! full path would drop it the same way:
//!
//! 1. one pass over the line, 64 bytes at a time ([`check`]), proves that it holds one
//!    JSON object, valid as the full parser reads it, then only blanks; it checks JSON's
//!    grammar on bitmasks rather than token by token (which byte may follow which, keys
//!    before colons, objects and arrays closed in order), and so accepts only compact
//!    JSON (no whitespace between tokens: what those collectors write). Anything else, and
//!    anything it is unsure of, goes to the full path;
//! 2. the top-level member names are looked up in a table of names met before
//!    ([`Names`]): the record must be a bare AuditData object (the full reader's `Kind`),
//!    with no name repeated and no escape in a name (serde_json must read it as the full
//!    path's quick look assumes);
//! 3. the members the quick look reads are taken from there, and the look
//!    (`ual::fast::glance_parsed`, the one the full path takes after parsing) is handed to
//!    [`Visitor::prefilter`].
//!
//! A line the visitor keeps, or that any step refuses, is read by the full path as
//! before. When the look stops paying (a job whose rules drop nothing), it is taken ever
//! more rarely ([`LineLook`]'s back-off). The tests hold it to the full path, on lines
//! built to break each rule.

use super::blocks::{check_escapes, escaped_bytes, prefetch, scalar, PREFETCH_AHEAD};
use super::ps::scalar as scalar_field;
use crate::input::json_lex::{lenient, Quoting};
use crate::input::structural::{opaque, Isa};
use crate::input::ual::fast::{glance_parsed, member_index};
use crate::input::visit::Visitor;
use crate::record::RawField;

mod classes;
use classes::{Classes, Classify};

/// Deepest nesting the look follows (the full parser allows more; deeper lines are
/// left to it).
const MAX_DEPTH: usize = 32;

/// A line [`check`] found to hold one compact JSON object, valid, then blanks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Checked {
    /// Just past the object's closing brace.
    pub record_end: usize,
    /// Where the next line starts (past the line feed, or `end + 1` at the end).
    pub next: usize,
}

/// What the check keeps from line to line: buffers of offsets from the object's start.
#[derive(Default)]
pub(super) struct Scratch {
    /// The opening and closing quote of each top-level member name, in turn.
    pub names: Vec<u32>,
    /// Where each number or literal starts.
    scalars: Vec<u32>,
    nesting: Nesting,
}

/// What one block leaves to the next: the top bit of each class (the byte after it is
/// bit 0 of the next block), and the carries of the escapes, strings and names.
#[derive(Clone, Copy, Default)]
struct Carry {
    escape: u64,
    in_string: u64,
    /// After `{` or `,`: a name may start (a value in an array).
    member_start: u64,
    /// After `{`.
    open_obj: u64,
    /// After `[`, `:` or `,`: a value starts.
    value: u64,
    /// After `[`.
    open_arr: u64,
    /// After a value's last byte (a string's closing quote, a closing bracket, a scalar).
    value_end: u64,
    scalar: u64,
    /// After the closing quote of a string that started a member.
    name_close: u64,
    /// 1 when such a string runs on into the next block (the addition's carry).
    name_run: u64,
}

/// The byte after each bit of `x` (bit 0 from the block before).
#[inline(always)]
fn after(x: u64, carry: u64) -> u64 {
    x << 1 | carry
}

/// Bits `from..to` (`to` ≤ 64).
#[inline(always)]
fn range(from: u32, to: u32) -> u64 {
    let upto = |n: u32| if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    upto(to) & !upto(from)
}

/// Appends `base` plus the index of each set bit of `bits` to `out[*len..]`, eight at a
/// time without a branch per bit (the slots past the last are overwritten next).
#[inline(always)]
fn push_bits(out: &mut Vec<u32>, len: &mut usize, base: u32, mut bits: u64) {
    let n = bits.count_ones() as usize;
    if out.len() < *len + 64 {
        out.resize(*len + 64, 0);
    }
    if let Some(dst) = out.get_mut(*len..*len + 64) {
        let mut k = 0;
        while k < n {
            for slot in &mut dst[k..k + 8] {
                *slot = base + opaque(u64::from(bits.trailing_zeros())) as u32;
                bits &= bits.wrapping_sub(1);
            }
            k += 8;
        }
    }
    *len += n;
}

/// The open containers: for each depth, whether it is an array, where it opened, and
/// the colons and commas found directly in it.
#[derive(Default)]
struct Nesting {
    depth: usize,
    arrays: u64,
    opened: [usize; MAX_DEPTH],
    colons: [u32; MAX_DEPTH],
    commas: [u32; MAX_DEPTH],
}

impl Nesting {
    /// Counts the colons and commas of a span into the innermost container.
    #[inline(always)]
    fn count(&mut self, colons: u64, commas: u64) {
        if let Some(d) = self.depth.checked_sub(1) {
            self.colons[d] += colons.count_ones();
            self.commas[d] += commas.count_ones();
        }
    }

    /// Opens a container at `pos`; false past [`MAX_DEPTH`].
    #[inline(always)]
    fn open(&mut self, array: bool, pos: usize) -> bool {
        let d = self.depth;
        if d >= MAX_DEPTH {
            return false;
        }
        self.arrays = self.arrays & !(1 << d) | u64::from(array) << d;
        self.opened[d] = pos;
        self.colons[d] = 0;
        self.commas[d] = 0;
        self.depth += 1;
        true
    }

    /// Closes the innermost container at `pos`: true when it is of that kind and holds
    /// what it must. Given the checks on masks (which byte may follow which, and a colon
    /// only after a member's first string), an array holds no colon directly, and an
    /// object either nothing or one colon per member (one more than its commas): each
    /// member is then `"name":value`.
    #[inline(always)]
    fn close(&mut self, array: bool, pos: usize) -> bool {
        let Some(d) = self.depth.checked_sub(1) else {
            return false;
        };
        self.depth = d;
        let (colons, commas) = (self.colons[d], self.commas[d]);
        if self.arrays >> d & 1 == 1 {
            array && colons == 0
        } else {
            let empty = pos == self.opened[d] + 1;
            !array && (colons == commas + 1 || empty && colons == 0 && commas == 0)
        }
    }
}

/// Checks the line whose object opens at `text[start]` (a `{`) and that ends at the first
/// line feed (or `end`): `Some` when it holds that one object, valid and compact, then only
/// spaces, tabs or carriage returns. The quotes of the object's top-level member names are
/// left in `scratch.names`. `None` when it is not so, or not plainly so: the full path
/// reads the line then.
#[inline(always)]
fn check_with<C: Classify>(
    text: &[u8],
    start: usize,
    end: usize,
    scratch: &mut Scratch,
) -> Option<Checked> {
    let text = text.get(..end)?;
    if text.get(start) != Some(&b'{') || end - start > u32::MAX as usize - 128 {
        return None;
    }
    let (mut names, mut scalars) = (0usize, 0usize);
    let mut c = Carry::default();
    let nest = &mut scratch.nesting;
    nest.depth = 0;
    let mut record_end: Option<usize> = None;
    let mut at = start;
    loop {
        prefetch(text, at + PREFETCH_AHEAD);
        let block = match text.get(at..).and_then(|r| r.first_chunk::<64>()) {
            Some(block) => *block,
            None => {
                // The last, short block, padded with spaces (outside a string: blanks).
                let mut block = [b' '; 64];
                let rest = text.get(at..).unwrap_or_default();
                block[..rest.len()].copy_from_slice(rest);
                block
            }
        };
        let last_block = text.len() - at <= 64;
        // SAFETY: `run` instantiates this only with a classifier the processor has.
        let m: Classes = unsafe { C::classes(&block) };
        // The line ends at its first line feed (outside strings, as checked below).
        let live = match m.newlines {
            0 => u64::MAX,
            n => (n & n.wrapping_neg()) - 1,
        };
        if record_end.is_none() {
            let escaped = escaped_bytes(m.backslashes, &mut c.escape);
            let quotes = m.quotes & !escaped;
            // SAFETY: as above.
            let inside = unsafe { C::prefix_xor(quotes) } ^ c.in_string;
            c.in_string = ((inside as i64) >> 63) as u64;
            let outside = !inside;
            let out = outside & live;
            let colon = m.colons & out;
            let comma = m.commas & out;
            // Brackets in order: the nesting, the counts of colons and commas in each
            // container, the spans at depth 1, and where the object ends.
            let mut brackets = (m.open_obj | m.close_obj | m.open_arr | m.close_arr) & out;
            let mut body = live;
            let mut depth_one = 0u64;
            let mut from = 0u32;
            while brackets != 0 {
                let i = brackets.trailing_zeros();
                brackets &= brackets - 1;
                let span = range(from, i);
                nest.count(colon & span, comma & span);
                if nest.depth == 1 {
                    depth_one |= span;
                }
                let pos = at + i as usize;
                let ok = match block[i as usize] {
                    b'{' => nest.open(false, pos),
                    b'[' => nest.open(true, pos),
                    b'}' => nest.close(false, pos),
                    _ => nest.close(true, pos),
                };
                if !ok {
                    return None;
                }
                from = i + 1;
                if nest.depth == 0 {
                    record_end = Some(pos + 1);
                    body = live & range(0, i + 1);
                    break;
                }
            }
            if record_end.is_none() {
                let span = range(from, 64);
                nest.count(colon & span, comma & span);
                if nest.depth == 1 {
                    depth_one |= span;
                }
                if live != u64::MAX || last_block {
                    return None; // the line ends inside the object
                }
            }
            // A control byte in a string, a backslash outside one (and, since the look
            // takes compact JSON only, any blank outside strings).
            if (m.controls & inside | (m.backslashes | m.spaces | m.controls) & outside) & body != 0
            {
                return None;
            }
            let escapes = escaped & inside & body;
            if escapes != 0 {
                let (bad, surrogates) = check_escapes(text, at, escapes);
                if bad | surrogates != 0 {
                    return None;
                }
            }
            // Which byte may follow which, inside the object and outside strings.
            let out = out & body;
            let open_obj = m.open_obj & out;
            let open_arr = m.open_arr & out;
            let closer = (m.close_obj | m.close_arr) & out;
            let open_quote = quotes & inside & body;
            let close_quote = quotes & out;
            let scalar_bytes = out & !(m.quotes | m.structurals());
            let scalar_starts = scalar_bytes & !after(scalar_bytes, c.scalar);
            let value_start = open_quote | scalar_starts | open_obj | open_arr;
            let value_end = close_quote | closer | scalar_bytes;
            let member_start = open_obj | comma;
            let after_open_obj = after(open_obj, c.open_obj);
            let after_open_arr = after(open_arr, c.open_arr);
            let after_scalar = after(scalar_bytes, c.scalar);
            // A string after `{` or `,` that is followed by a colon is a member's name:
            // the addition carries each such string's opening bit to its closing quote.
            let name_open = open_quote & after(member_start, c.member_start);
            let (sum, o1) = inside.overflowing_add(name_open);
            let (sum, o2) = sum.overflowing_add(c.name_run);
            let name_close = sum & !inside & body;
            let after_name = after(name_close, c.name_close);
            let mut bad = after_open_obj & !(open_quote | closer);
            bad |= after(colon | comma | open_arr, c.value) & !value_start & !after_open_arr;
            bad |= after_open_arr & !(value_start | closer);
            bad |= after(value_end, c.value_end)
                & !(comma | closer | colon | scalar_bytes & after_scalar);
            // A colon only after a member's first string (and so never after a value).
            bad |= colon & !after_name;
            if bad & body != 0 {
                return None;
            }
            let base = (at - start) as u32;
            push_bits(&mut scratch.scalars, &mut scalars, base, scalar_starts);
            let top_names = (name_open | name_close) & depth_one;
            push_bits(&mut scratch.names, &mut names, base, top_names);
            // (Each through `opaque`: else LLVM packs these into vector registers, and
            // unpacks them again next block, at a cost.)
            c.member_start = opaque(member_start >> 63);
            c.open_obj = opaque(open_obj >> 63);
            c.value = opaque((colon | comma | open_arr) >> 63);
            c.open_arr = opaque(open_arr >> 63);
            c.value_end = opaque(value_end >> 63);
            c.scalar = opaque(scalar_bytes >> 63);
            c.name_close = opaque(name_close >> 63);
            c.name_run = opaque(u64::from(o1 | o2));
        }
        if live != u64::MAX || last_block {
            let record_end = record_end?;
            let line_end = match live {
                u64::MAX => end,
                _ => at + live.count_ones() as usize,
            };
            let blanks = text.get(record_end..line_end)?;
            if !blanks.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
                return None; // more than blanks after the object
            }
            let next = line_end + 1;
            // Every number and literal, as the parser reads them.
            for &s in scratch.scalars.get(..scalars)? {
                scalar(text, start + s as usize)?;
            }
            scratch.names.truncate(names);
            return Some(Checked { record_end, next });
        }
        at += 64;
    }
}

/// [`check_with`] with the best classifier of `isa`; `None` without one (the full path
/// reads every line then).
pub(super) fn check(
    isa: Isa,
    text: &[u8],
    start: usize,
    end: usize,
    scratch: &mut Scratch,
) -> Option<Checked> {
    classes::run(isa, text, start, end, scratch)
}

/// What the look needs of a top-level member name, learned once per name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct NameInfo {
    /// The roles of `ps::Reader::kind` it plays (the `ROLE_*` bits).
    roles: u8,
    /// Its index among the members the quick look reads.
    glance: Option<u8>,
    /// Holds a backslash: serde_json reads it unescaped, which this table does not.
    escaped: bool,
}

const ROLE_CREATION_TIME: u8 = 1;
const ROLE_OPERATION: u8 = 2;
const ROLE_WORKLOAD: u8 = 4;
const ROLE_RECORD_TYPE: u8 = 8;
const ROLE_LAST_ACCESSED: u8 = 16;
const ROLE_AUDIT_DATA: u8 = 32;

/// The names `ps::Reader::kind` tells records apart by (compared as it does: trimmed,
/// ignoring ASCII case).
const ROLES: &[(&[u8], u8)] = &[
    (b"CreationTime", ROLE_CREATION_TIME),
    (b"Operation", ROLE_OPERATION),
    (b"Workload", ROLE_WORKLOAD),
    (b"RecordType", ROLE_RECORD_TYPE),
    (b"LastAccessed", ROLE_LAST_ACCESSED),
    (b"AuditData", ROLE_AUDIT_DATA),
];

fn name_info(name: &[u8]) -> NameInfo {
    let trimmed = name.trim_ascii();
    NameInfo {
        roles: ROLES
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(trimmed))
            .fold(0, |bits, (_, bit)| bits | bit),
        glance: member_index(name).and_then(|i| u8::try_from(i).ok()),
        escaped: name.contains(&b'\\'),
    }
}

/// Longest name the table holds (longer ones send the line to the full path).
const NAME_BYTES: usize = 48;
/// Slots of the table (a power of two); it is emptied when three quarters are used.
const SLOTS: usize = 256;

#[derive(Clone, Copy)]
struct Slot {
    used: bool,
    len: u8,
    /// The name's first 16 bytes as two words, zero past its end (the whole name, for
    /// most: compared without a call).
    words: [u64; 2],
    name: [u8; NAME_BYTES],
    info: NameInfo,
    /// The line it was last met on ([`Names::line`]): met twice on one line, repeated.
    stamp: u32,
}

const EMPTY_SLOT: Slot = Slot {
    used: false,
    len: 0,
    words: [0; 2],
    name: [0; NAME_BYTES],
    info: NameInfo {
        roles: 0,
        glance: None,
        escaped: false,
    },
    stamp: 0,
};

/// The first 16 bytes of `text[from..to]` as two little-endian words, zero past `to`.
#[inline(always)]
fn words(text: &[u8], from: usize, to: usize) -> [u64; 2] {
    let len = to - from;
    let mask = |n: usize| match n {
        0 => 0,
        n if n >= 8 => u64::MAX,
        n => (1u64 << (8 * n)) - 1,
    };
    let word = |at: usize, n: usize| match text.get(at..).and_then(|r| r.first_chunk::<8>()) {
        Some(bytes) => u64::from_le_bytes(*bytes) & mask(n),
        None => {
            let mut bytes = [0u8; 8];
            let have = text.get(at..to).unwrap_or_default();
            let n = n.min(have.len()).min(8);
            bytes[..n].copy_from_slice(&have[..n]);
            u64::from_le_bytes(bytes)
        }
    };
    [word(from, len), word(from + 8, len.saturating_sub(8))]
}

/// Every top-level member name met, with what the look needs of it; finds a name met
/// twice on one line.
struct Names {
    slots: Vec<Slot>,
    used: usize,
    line: u32,
}

impl Names {
    fn new() -> Self {
        Names {
            slots: vec![EMPTY_SLOT; SLOTS],
            used: 0,
            line: 0,
        }
    }

    /// Starts a new line.
    fn next_line(&mut self) {
        self.line = self.line.wrapping_add(1);
        if self.line == 0 {
            // Stamps wrapped: forget them.
            self.slots.iter_mut().for_each(|s| s.stamp = 0);
            self.line = 1;
        }
    }

    /// What the name `text[from..to]` means, unless it was already met on this line or
    /// is too long (`None`).
    #[inline]
    fn meet(&mut self, text: &[u8], from: usize, to: usize) -> Option<NameInfo> {
        let len = to.checked_sub(from)?;
        if len > NAME_BYTES {
            return None;
        }
        let w = words(text, from, to);
        let hash =
            (w[0] ^ w[1].rotate_left(29) ^ (len as u64) << 58).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut i = (hash >> 56) as usize % SLOTS;
        loop {
            let slot = &mut self.slots[i];
            if !slot.used {
                break;
            }
            if slot.words == w
                && usize::from(slot.len) == len
                && (len <= 16 || slot.name[16..len] == text[from + 16..to])
            {
                if slot.stamp == self.line {
                    return None; // repeated on this line
                }
                slot.stamp = self.line;
                return Some(slot.info);
            }
            i = (i + 1) % SLOTS;
        }
        if self.used * 4 >= SLOTS * 3 {
            // Full: start again (this line's names are met again from here on).
            self.slots.iter_mut().for_each(|s| *s = EMPTY_SLOT);
            self.used = 0;
            return None;
        }
        let name = text.get(from..to)?;
        let slot = &mut self.slots[i];
        *slot = EMPTY_SLOT;
        slot.used = true;
        slot.len = len as u8;
        slot.words = w;
        slot.name[..len].copy_from_slice(name);
        slot.info = name_info(name);
        slot.stamp = self.line;
        self.used += 1;
        Some(slot.info)
    }
}

/// Lines in a row the look may fail to drop before it backs off, and the most lines it
/// then leaves to the full path before looking again.
const MISSES_BEFORE_BACK_OFF: u32 = 8;
const MAX_BACK_OFF: u32 = 4096;

/// The line-first look of one chunk of JSON Lines.
pub(super) struct LineLook {
    isa: Isa,
    names: Names,
    scratch: Scratch,
    /// Lines looked at in a row that were not dropped; lines left to skip, and how many
    /// the next back-off skips.
    misses: u32,
    skip: u32,
    back_off: u32,
}

impl LineLook {
    pub fn new() -> Self {
        LineLook {
            isa: Isa::detect(),
            names: Names::new(),
            scratch: Scratch::default(),
            misses: 0,
            skip: 0,
            back_off: 64,
        }
    }

    /// Looks at the line starting at `pos` (line number `line`), before `end`: when the
    /// visitor drops it on its quick look, returns where the next line starts. `None`:
    /// the full path must read it.
    pub fn look<V: Visitor>(
        &mut self,
        text: &[u8],
        pos: usize,
        end: usize,
        line: u64,
        visitor: &mut V,
    ) -> Option<usize> {
        if self.skip > 0 {
            self.skip -= 1;
            return None;
        }
        let dropped = self.try_drop(text, pos, end, line, visitor);
        if dropped.is_some() {
            self.misses = 0;
            self.back_off = 64;
        } else {
            self.misses += 1;
            if self.misses >= MISSES_BEFORE_BACK_OFF {
                self.misses = 0;
                self.skip = self.back_off;
                self.back_off = (self.back_off * 2).min(MAX_BACK_OFF);
            }
        }
        dropped
    }

    fn try_drop<V: Visitor>(
        &mut self,
        text: &[u8],
        pos: usize,
        end: usize,
        line: u64,
        visitor: &mut V,
    ) -> Option<usize> {
        let mut start = pos;
        while start < end && matches!(text[start], b' ' | b'\t' | b'\r') {
            start += 1;
        }
        let checked = check(self.isa, text, start, end, &mut self.scratch)?;
        let json = &text[start..checked.record_end];
        let members = self.members(text, start)?;
        let wanted = visitor.glance_fields();
        // Throttling is read from OperationProperties; the whole record is a superset.
        let fields = members.iter().take_while(|m| m.0.is_some()).copied();
        let dropped = glance_parsed(json, fields, json, wanted, |glance| {
            visitor.prefilter(glance, line)
        });
        dropped.then_some(checked.next)
    }

    /// The members the quick look reads, in order (first `None` ends them), when the
    /// names make the line a bare AuditData record that serde_json reads as checked.
    fn members<'t>(
        &mut self,
        text: &'t [u8],
        start: usize,
    ) -> Option<[(Option<u8>, RawField<'t>); 13]> {
        self.names.next_line();
        let mut out = [(None, RawField::EMPTY); 13];
        let (mut n, mut roles) = (0, 0u8);
        for quotes in self.scratch.names.chunks_exact(2) {
            let (open, close) = (start + quotes[0] as usize, start + quotes[1] as usize);
            let info = self.names.meet(text, open + 1, close)?;
            if info.escaped {
                return None;
            }
            roles |= info.roles;
            if let Some(index) = info.glance {
                // Compact: the value starts after the closing quote and the colon.
                let at = close + 2;
                let value = match text.get(at)? {
                    b'"' => RawField::json(lenient(Quoting::Plain).string_at(text, at)?.0),
                    b'{' | b'[' => RawField::EMPTY,
                    _ => scalar_field(scalar(text, at)?.0),
                };
                *out.get_mut(n)? = (Some(index), value);
                n += 1;
            }
        }
        let has = |bits: u8| roles & bits != 0;
        let wrapper_or_legacy =
            has(ROLE_AUDIT_DATA) || has(ROLE_OPERATION) && has(ROLE_LAST_ACCESSED);
        let bare = !wrapper_or_legacy
            && has(ROLE_CREATION_TIME)
            && has(ROLE_OPERATION | ROLE_WORKLOAD | ROLE_RECORD_TYPE);
        bare.then_some(out)
    }
}

#[cfg(test)]
mod tests;
