//! JSON structure 64 bytes at a time, and the parser's records read from it.
//!
//! Most of a JSON export is string content and indentation, which no rule cares about.
//! Instead of a branch per byte, each block of 64 bytes becomes the bitmasks of the CSV
//! tokenizer's instruction sets (`structural/json.rs`: quotes, backslashes, `{}[]:,`,
//! whitespace, control bytes); the bytes escaped by a backslash follow from the runs of
//! backslashes by an addition, the bytes inside strings from the unescaped quotes by a
//! prefix XOR, carried from block to block. What is left are the *tokens*: the structural
//! bytes outside strings, the opening quotes, and the first byte of each number or
//! literal; a block of string content has none, and costs a few dozen instructions.
//!
//! The tokens' offsets are written to a list a window at a time (the only code that
//! depends on the instruction set); [`record`] then walks them through JSON's grammar,
//! by recursive descent, and gives what the validating
//! parser (`parse.rs`) gives for a record object: its top-level members as borrowed spans
//! and its end. It accepts only what that parser accepts, and only when it is plainly so:
//! a control byte inside a string, an invalid escape, a bad number, anything unexpected
//! makes it give up (`None`), and the parser reads the record again, one byte at a time,
//! to say what is wrong and where. The two are held equal by the tests.

use super::parse::{Member, Parsed, Val, MAX_DEPTH};
use crate::input::structural::{
    opaque, prefetch, run_json, Isa, JsonJob, JsonKind, PREFETCH_AHEAD,
};

/// Bits at even positions.
const EVEN: u64 = 0x5555_5555_5555_5555;

/// The bytes escaped by a backslash in a block whose backslashes are `bs`: the byte after
/// each run of an odd number of backslashes (counted from where the run starts; a
/// backslash escaped by the one before escapes nothing). `carry` is 1 when the block's
/// first byte is escaped by the previous block, and is set for the next block.
#[inline(always)]
pub(super) fn escaped_bytes(bs: u64, carry: &mut u64) -> u64 {
    let prev = *carry;
    let start_edges = bs & !(bs << 1);
    // A run that starts on the first byte while it is escaped starts one byte later.
    let even_start_mask = EVEN ^ prev;
    let even_starts = start_edges & even_start_mask;
    let odd_starts = start_edges & !even_start_mask;
    let even_carries = bs.wrapping_add(even_starts);
    let (odd_carries, overflow) = bs.overflowing_add(odd_starts);
    let odd_carries = odd_carries | prev;
    *carry = u64::from(overflow);
    let even_carry_ends = even_carries & !bs;
    let odd_carry_ends = odd_carries & !bs;
    (even_carry_ends & !EVEN) | (odd_carry_ends & EVEN)
}

/// True for the bytes a backslash may escape in JSON (besides `u`, checked apart).
const fn simple_escapes() -> [bool; 256] {
    let mut t = [false; 256];
    let ok = b"\"\\/bfnrt";
    let mut i = 0;
    while i < ok.len() {
        t[ok[i] as usize] = true;
        i += 1;
    }
    t
}
static SIMPLE_ESCAPE: [bool; 256] = simple_escapes();

/// The tokens of `text` from a start outside strings, found a window at a time.
pub(super) struct Tokens<'t, 'b> {
    text: &'t [u8],
    /// Where the offsets are counted from.
    origin: usize,
    /// Offsets (from `origin`) of the tokens of the window (the first `len`; the buffer
    /// is reused from record to record), and how many were taken.
    offsets: &'b mut Vec<u32>,
    line_feeds: &'b mut Vec<u64>,
    len: usize,
    taken: usize,
    /// Where the next block starts.
    scanned: usize,
    /// Bytes the next window covers at least, and whether it is the first, sized on the
    /// record before.
    window: usize,
    sized_on_last: bool,
    /// The first byte found so far that makes the text invalid (a control byte in a
    /// string, a bad escape), or `usize::MAX`.
    first_error: usize,
    /// The first `\u` escape of a UTF-16 surrogate (`\uD800`-`\uDFFF`), or `usize::MAX`.
    first_surrogate: usize,
    /// With `one_line`, the first line feed found so far, or `usize::MAX`.
    first_newline: usize,
    /// A record must not hold a line feed (JSON Lines: it ends its line).
    one_line: bool,
    carries: Carries,
    /// The instruction set the windows are scanned with (a test may choose another).
    isa: Isa,
}

/// What one block passes to the next.
#[derive(Clone, Copy, Default)]
struct Carries {
    /// All ones when the next block starts inside a string.
    in_string: u64,
    /// 1 when the next block's first byte is escaped.
    escape: u64,
    /// 1 when the last byte is part of a number or literal.
    scalar: u64,
}

/// Bytes the first window of the first record covers; each next one covers twice as
/// many. The first window of a later record covers about as many bytes as the record
/// before held (the records of an export are alike): what is scanned past a record's
/// end is scanned for nothing.
const FIRST_WINDOW: usize = 1024;
const LAST_WINDOW: usize = 64 << 10;

/// What the block reader keeps from record to record: the buffer of offsets, and the
/// length of the last record read.
#[derive(Default)]
pub(super) struct Scratch {
    offsets: Vec<u32>,
    /// The line feeds of each block scanned, for the record's count of them.
    line_feeds: Vec<u64>,
    last_len: usize,
}

impl<'t, 'b> Tokens<'t, 'b> {
    pub fn new(text: &'t [u8], start: usize, scratch: &'b mut Scratch) -> Self {
        let sized_on_last = scratch.last_len > 0;
        let window = match scratch.last_len {
            0 => FIRST_WINDOW,
            n => (n + 96).min(LAST_WINDOW),
        };
        scratch.line_feeds.clear();
        Tokens {
            text,
            origin: start,
            offsets: &mut scratch.offsets,
            line_feeds: &mut scratch.line_feeds,
            len: 0,
            taken: 0,
            scanned: start,
            window,
            sized_on_last,
            first_error: usize::MAX,
            first_surrogate: usize::MAX,
            first_newline: usize::MAX,
            one_line: false,
            carries: Carries::default(),
            isa: Isa::detect(),
        }
    }

    /// The offset of the next token, `None` at the end of the text.
    #[inline(always)]
    pub fn next(&mut self) -> Option<usize> {
        if self.taken == self.len {
            self.refill()?;
        }
        let at = *self.offsets.get(self.taken)?;
        self.taken += 1;
        Some(self.origin + at as usize)
    }

    /// The record whose closing brace is at `p`, if no byte up to there is an error.
    fn parsed(&self, p: usize) -> Option<Parsed> {
        if self.first_error <= p || self.first_newline <= p {
            return None;
        }
        // Blocks are 64 bytes from `origin`: those before `p`'s, and `p`'s up to `p`.
        let (block, bit) = ((p - self.origin) / 64, (p - self.origin) % 64);
        let line_feeds = if self.one_line {
            Some(0) // (it was refused otherwise)
        } else {
            self.line_feeds.get(..=block).map(|blocks| {
                let masked = |(i, m): (usize, &u64)| match i == block {
                    true => m & (u64::MAX >> (63 - bit)),
                    false => *m,
                };
                let ones = |m: u64| u64::from(m.count_ones());
                blocks.iter().enumerate().map(masked).map(ones).sum()
            })
        };
        Some(Parsed {
            end: p + 1,
            surrogates: Some(self.first_surrogate < p),
            line_feeds,
        })
    }

    /// Scans windows until one holds a token; `None` at the end of the text (or of what
    /// offsets from `origin` can count).
    #[inline(never)]
    fn refill(&mut self) -> Option<()> {
        self.len = 0;
        self.taken = 0;
        let limit = self
            .text
            .len()
            .min(self.origin.saturating_add(u32::MAX as usize - 64));
        while self.len == 0 {
            if self.scanned >= limit || self.first_newline != usize::MAX {
                return None;
            }
            let until = limit.min(self.scanned + self.window);
            // After a first window sized on the last record, from the smallest again.
            self.window = match std::mem::take(&mut self.sized_on_last) {
                true => FIRST_WINDOW,
                false => (self.window * 2).min(LAST_WINDOW),
            };
            // Room for every byte of the window to be a token, and a block's slack.
            let room = (until - self.scanned).next_multiple_of(64) + 64;
            if self.offsets.len() < room {
                self.offsets.resize(room, 0);
            }
            run_json(self.isa, Scan { t: self, until });
        }
        Some(())
    }
}

/// Scans the blocks of a window into a [`Tokens`].
struct Scan<'a, 't, 'b> {
    t: &'a mut Tokens<'t, 'b>,
    until: usize,
}

impl JsonJob for Scan<'_, '_, '_> {
    type Output = ();

    #[inline(always)]
    unsafe fn run<K: JsonKind>(self) {
        let Scan { t, until } = self;
        let text = t.text;
        let mut c = t.carries;
        let (mut at, mut len) = (t.scanned, 0usize);
        let offsets: &mut Vec<u32> = t.offsets;
        while at < until {
            prefetch(text, at + PREFETCH_AHEAD);
            let full = text.get(at..).and_then(|r| r.first_chunk::<64>());
            // SAFETY: (masks, prefix XOR) run by `run_json` with an instruction set the
            // processor has.
            let m = unsafe {
                match full {
                    Some(block) => K::json_masks(block),
                    None => {
                        // The last, short block, padded with spaces (never a token).
                        let mut block = [b' '; 64];
                        block[..text.len() - at].copy_from_slice(&text[at..]);
                        K::json_masks(&block)
                    }
                }
            };
            let escaped = escaped_bytes(m.backslashes, &mut c.escape);
            let quotes = m.quotes & !escaped;
            // SAFETY: as above.
            let inside = unsafe { K::prefix_xor(quotes) } ^ c.in_string;
            c.in_string = ((inside as i64) >> 63) as u64;
            let outside = !inside;
            // Outside strings, every byte that is not whitespace, structure or a quote
            // belongs to a number or literal (or is an error the grammar meets as one).
            let scalar = outside & !(m.whitespace | m.structurals | m.quotes);
            let starts = scalar & !(scalar << 1 | c.scalar);
            c.scalar = scalar >> 63;
            let mut tokens = (m.structurals & outside) | (quotes & inside) | starts;
            let in_strings = escaped & inside;
            let errors = (m.controls & inside)
                | if in_strings == 0 {
                    0
                } else {
                    let (bad, surrogates) = check_escapes(text, at, in_strings);
                    if surrogates != 0 && t.first_surrogate == usize::MAX {
                        t.first_surrogate = at + surrogates.trailing_zeros() as usize;
                    }
                    bad
                };
            if errors != 0 && t.first_error == usize::MAX {
                t.first_error = at + errors.trailing_zeros() as usize;
            }
            let line_ends = t.one_line && m.newlines != 0;
            if line_ends && t.first_newline == usize::MAX {
                t.first_newline = at + m.newlines.trailing_zeros() as usize;
            }
            // Eight offsets at a time, some past the last token (overwritten next).
            let base = (at - t.origin) as u32;
            let n = tokens.count_ones() as usize;
            if offsets.len() < len + 64 {
                offsets.resize(len + 64, 0); // (`refill` made room: not reached)
            }
            if let Some(dst) = offsets.get_mut(len..len + 64) {
                let mut k = 0;
                while k < n {
                    for slot in &mut dst[k..k + 8] {
                        // (Kept scalar: vectorised, the bit counts take a dozen steps.)
                        *slot = base + opaque(u64::from(tokens.trailing_zeros())) as u32;
                        tokens &= tokens.wrapping_sub(1);
                    }
                    k += 8;
                }
            }
            if !t.one_line {
                t.line_feeds.push(m.newlines);
            }
            len += n;
            at += 64;
            if line_ends {
                break; // the record ends on its line, or is not one-line
            }
        }
        t.carries = c;
        t.scanned = at;
        t.len = len;
    }
}

/// The bits of `escaped` (bytes escaped by a backslash inside strings, in the block at
/// `at`) that JSON does not allow (anything but `"\/bfnrt`, and `u` without four hex
/// digits), and those that start the escape of a UTF-16 surrogate (`\uD800`-`\uDFFF`).
#[inline(always)]
fn check_escapes(text: &[u8], at: usize, mut escaped: u64) -> (u64, u64) {
    let (mut bad, mut surrogates) = (0, 0);
    while escaped != 0 {
        let i = escaped.trailing_zeros();
        escaped &= escaped - 1;
        let p = at + i as usize;
        let ok = match text.get(p) {
            Some(b'u') => match text.get(p + 1..p + 5) {
                Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => {
                    if matches!(hex[0], b'd' | b'D') && !matches!(hex[1], b'0'..=b'7') {
                        surrogates |= 1 << i;
                    }
                    true
                }
                _ => false,
            },
            Some(&b) => SIMPLE_ESCAPE[usize::from(b)],
            None => false,
        };
        if !ok {
            bad |= 1 << i;
        }
    }
    (bad, surrogates)
}

/// The parser's record at `s[start]` (a `{`), read from the tokens: its end and whether
/// it escapes a surrogate, with `out` holding its members as [`parse_record`] gives them;
/// `None` when it is not plainly valid (then `out` holds nothing meaningful and the
/// parser must read it).
pub(super) fn record<'a>(
    s: &'a [u8],
    start: usize,
    out: &mut Vec<Member<'a>>,
    scratch: &mut Scratch,
) -> Option<Parsed> {
    let parsed = read_record(Tokens::new(s, start, scratch), s, start, out)?;
    scratch.last_len = parsed.end - start;
    Some(parsed)
}

/// [`record`], for a record that must not hold a line feed (a JSON Lines record, read
/// before its line's end is known): `None` when it does.
pub(super) fn one_line_record<'a>(
    s: &'a [u8],
    start: usize,
    out: &mut Vec<Member<'a>>,
    scratch: &mut Scratch,
) -> Option<Parsed> {
    let mut t = Tokens::new(s, start, scratch);
    t.one_line = true;
    let parsed = read_record(t, s, start, out)?;
    scratch.last_len = parsed.end - start;
    Some(parsed)
}

/// [`record`] with `isa`, which the processor must have (the tests run each).
#[cfg(test)]
fn record_with<'a>(
    isa: Isa,
    s: &'a [u8],
    start: usize,
    out: &mut Vec<Member<'a>>,
) -> Option<Parsed> {
    let mut scratch = Scratch::default();
    let mut t = Tokens::new(s, start, &mut scratch);
    t.isa = isa;
    read_record(t, s, start, out)
}

/// The end of the string whose closing quote is the last byte before `p` but whitespace
/// (the token after a string follows it, past whitespace only).
#[inline(always)]
fn quote_before(s: &[u8], mut p: usize) -> usize {
    while matches!(s[p - 1], b' ' | b'\t' | b'\n' | b'\r') {
        p -= 1;
    }
    p - 1
}

/// The token at `p` and its byte.
#[inline(always)]
fn token(t: &mut Tokens<'_, '_>, s: &[u8]) -> Option<(usize, u8)> {
    let p = t.next()?;
    Some((p, s[p]))
}

fn read_record<'a>(
    mut t: Tokens<'_, '_>,
    s: &'a [u8],
    start: usize,
    out: &mut Vec<Member<'a>>,
) -> Option<Parsed> {
    out.clear();
    if token(&mut t, s)? != (start, b'{') {
        return None;
    }
    let (mut p, mut c) = token(&mut t, s)?;
    if c == b'}' {
        return t.parsed(p);
    }
    loop {
        if c != b'"' {
            return None;
        }
        let name_start = p + 1;
        (p, c) = token(&mut t, s)?;
        if c != b':' {
            return None;
        }
        let key = &s[name_start..quote_before(s, p)];
        let (v, vc) = token(&mut t, s)?;
        (p, c) = token(&mut t, s)?;
        let val = match vc {
            b'"' => Val::Str(&s[v + 1..quote_before(s, p)]),
            b'{' | b'[' => {
                let end = nested(&mut t, s, 2, vc, (p, c))?;
                (p, c) = token(&mut t, s)?;
                if vc == b'{' {
                    Val::Obj(&s[v..=end])
                } else {
                    Val::Arr(&s[v..=end])
                }
            }
            _ => scalar(s, v)?.0,
        };
        out.push(Member { key, val });
        match c {
            b',' => (p, c) = token(&mut t, s)?,
            b'}' => return t.parsed(p),
            _ => return None,
        }
    }
}

/// Validates the object or array opened by `open` at `depth`, whose first token after
/// the opening bracket is `first`; returns the offset of its closing bracket.
fn nested(
    t: &mut Tokens<'_, '_>,
    s: &[u8],
    depth: u32,
    open: u8,
    first: (usize, u8),
) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    let (mut p, mut c) = first;
    if open == b'{' {
        if c == b'}' {
            return Some(p);
        }
        loop {
            if c != b'"' || token(t, s)?.1 != b':' {
                return None;
            }
            let (v, vc) = token(t, s)?;
            value(t, s, depth, v, vc)?;
            match token(t, s)? {
                (_, b',') => c = token(t, s)?.1,
                (end, b'}') => return Some(end),
                _ => return None,
            }
        }
    } else {
        if c == b']' {
            return Some(p);
        }
        loop {
            value(t, s, depth, p, c)?;
            (p, c) = token(t, s)?;
            match c {
                b',' => (p, c) = token(t, s)?,
                b']' => return Some(p),
                _ => return None,
            }
        }
    }
}

/// Validates a value inside a container at `depth`, whose first token is `c` at `p`.
#[inline(always)]
fn value(t: &mut Tokens<'_, '_>, s: &[u8], depth: u32, p: usize, c: u8) -> Option<()> {
    match c {
        b'"' => Some(()),
        b'{' | b'[' => {
            let first = token(t, s)?;
            nested(t, s, depth + 1, c, first).map(|_| ())
        }
        _ => scalar(s, p).map(|_| ()),
    }
}

/// The number or literal at `s[p]` and the offset after it, when it is valid and ends
/// where a token or whitespace follows.
#[inline(always)]
fn scalar(s: &[u8], p: usize) -> Option<(Val<'_>, usize)> {
    let literal = |word: &'static [u8], v| {
        (s.get(p..p + word.len()) == Some(word)).then_some((v, p + word.len()))
    };
    let (val, end) = match s[p] {
        b't' => literal(b"true", Val::Bool(true))?,
        b'f' => literal(b"false", Val::Bool(false))?,
        b'n' => literal(b"null", Val::Null)?,
        _ => {
            let end = number_end(s, p)?;
            (Val::Num(&s[p..end]), end)
        }
    };
    match s.get(end) {
        Some(b' ' | b'\t' | b'\n' | b'\r' | b',' | b'}' | b']' | b':' | b'{' | b'[' | b'"') => {
            Some((val, end))
        }
        _ => None,
    }
}

/// The end of the number at `s[p]` (RFC 8259's grammar), if it is one.
#[inline(always)]
fn number_end(s: &[u8], mut p: usize) -> Option<usize> {
    let digits = |p: &mut usize| {
        let from = *p;
        while s.get(*p).is_some_and(u8::is_ascii_digit) {
            *p += 1;
        }
        *p > from
    };
    if s.get(p) == Some(&b'-') {
        p += 1;
    }
    if s.get(p) == Some(&b'0') {
        p += 1;
    } else if !digits(&mut p) {
        return None;
    }
    if s.get(p) == Some(&b'.') {
        p += 1;
        if !digits(&mut p) {
            return None;
        }
    }
    if let Some(b'e' | b'E') = s.get(p) {
        p += 1;
        if let Some(b'+' | b'-') = s.get(p) {
            p += 1;
        }
        if !digits(&mut p) {
            return None;
        }
    }
    Some(p)
}

/// Parses the object starting at `s[start]` (a `{`) into `out` (cleared first); returns
/// the offset just past its closing brace. Bytes after it are not looked at.
///
/// A record is read from its structure 64 bytes at a time (this module) when it is
/// plainly valid; else (or to say why it is not) one byte at a time.
/// `scratch` is the block reader's, reused from record to record.
pub(super) fn parse_record<'a>(
    s: &'a [u8],
    start: usize,
    out: &mut Vec<Member<'a>>,
    scratch: &mut Scratch,
) -> Result<Parsed, super::parse::Error> {
    match record(s, start, out, scratch) {
        Some(parsed) => Ok(parsed),
        None => super::parse::record_by_bytes(s, start, out).map(|end| Parsed {
            end,
            surrogates: None,
            line_feeds: None,
        }),
    }
}

#[cfg(test)]
mod tests;
