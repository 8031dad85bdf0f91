//! The JSON lexer: strings, escapes, whitespace and nesting, for every JSON reader.
//!
//! Four readers look at JSON text, each for its own purpose: the structure splitter
//! (`json/split.rs`: record boundaries, without parsing), the validating parser
//! (`json/parse.rs`), the quick look at AuditData (`ual/fast.rs`, on JSON records and on
//! CSV cells) and the recovery of a cut AuditData's complete members (`ual.rs`). They all
//! find the end of a string and of a nested value here. Where they differ on purpose, the
//! difference is a setting of [`Rules`], not a copy:
//!
//! - [`Quoting`]: plain JSON, or a CSV cell in which every `"` of the JSON is doubled;
//! - `line_break_ends_string`: the splitter ends a string at a raw line break (a JSON
//!   string cannot hold one), so that an unterminated string costs its line, not the rest
//!   of the file;
//! - `escapes_outside_strings`: the splitter lets a stray backslash between values escape
//!   the next byte (but a line break), as inside a string, so that it resynchronises after
//!   damage the same way whether or not a quote was lost.
//!
//! The parser is strict where the others are lenient: [`strict_string`] refuses control
//! characters and invalid escapes, with the message the parser reports. Escapes are read by
//! one function, [`escape_at`], whether for the parser or for the quick look's subjects; the
//! content hash of AuditData (`ual/canon.rs`) decodes them with [`unescape_strict`], as
//! serde_json does.
//!
//! Whitespace comes in two kinds: JSON's four bytes ([`skip_ws`]: the splitter and the
//! parser), and ASCII's, form feed included ([`skip_ascii_ws`]: the lenient readers trim
//! as `trim_ascii` does).
//!
//! Bytes are searched several at a time: eight at a time (SWAR) for sets of bytes, sixteen
//! for the quote that ends a string (SSE2, the x86-64 baseline).

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit of each byte that is zero. Exact for the lowest such byte, which is all
/// the callers look at (borrows only run upwards, from a zero byte).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(LO) & !x & HI
}

#[inline(always)]
fn eq_bytes(w: u64, b: u8) -> u64 {
    zero_bytes(w ^ (LO * u64::from(b)))
}

/// High bit of each byte below `n` (`n` ≤ 0x80); exact for the lowest such byte.
#[inline(always)]
fn less_bytes(w: u64, n: u8) -> u64 {
    w.wrapping_sub(LO * u64::from(n)) & !w & HI
}

/// A set of bytes to search for, as a SWAR test and a byte test.
pub(crate) trait Special {
    fn word(w: u64) -> u64;
    fn byte(b: u8) -> bool;
}

/// Inside a string, for the parser: the closing quote, an escape, any control character.
pub(crate) struct InStringStrict;
impl Special for InStringStrict {
    #[inline(always)]
    fn word(w: u64) -> u64 {
        eq_bytes(w, b'"') | eq_bytes(w, b'\\') | less_bytes(w, 0x20)
    }
    #[inline(always)]
    fn byte(b: u8) -> bool {
        b == b'"' || b == b'\\' || b < 0x20
    }
}

/// Outside strings: quotes, escapes and brackets.
pub(crate) struct Structural;
impl Special for Structural {
    #[inline(always)]
    fn word(w: u64) -> u64 {
        // `[` and `{`, `]` and `}` differ only in bit 0x20.
        let folded = w | (LO * 0x20);
        eq_bytes(folded, b'{') | eq_bytes(folded, b'}') | eq_bytes(w, b'"') | eq_bytes(w, b'\\')
    }
    #[inline(always)]
    fn byte(b: u8) -> bool {
        matches!(b, b'"' | b'\\' | b'{' | b'}' | b'[' | b']')
    }
}

/// The offset of the first byte of the set at or after `p`, or `s.len()`.
#[inline(always)]
pub(crate) fn find<S: Special>(s: &[u8], mut p: usize) -> usize {
    while let Some(word) = s.get(p..).and_then(|r| r.first_chunk::<8>()) {
        let hits = S::word(u64::from_le_bytes(*word));
        if hits != 0 {
            return p + (hits.trailing_zeros() / 8) as usize;
        }
        p += 8;
    }
    while let Some(&b) = s.get(p) {
        if S::byte(b) {
            return p;
        }
        p += 1;
    }
    s.len().max(p)
}

/// The first `"` (and, with `line_breaks`, the first `\n`) in `hay`: 16 bytes at a time
/// with SSE2, inlined (the strings of a record are short: a call to memchr costs more).
#[inline(always)]
fn find_quote(hay: &[u8], line_breaks: bool) -> Option<usize> {
    let special = |b: u8| b == b'"' || (line_breaks && b == b'\n');
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8, _mm_setzero_si128,
        };
        let mut i = 0;
        // SAFETY: SSE2 is part of the x86-64 baseline; each load reads 16 bytes that lie
        // inside `hay` (`i + 16 <= hay.len()`).
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let newline = _mm_set1_epi8(b'\n' as i8);
            while i + 16 <= hay.len() {
                let v = _mm_loadu_si128(hay.as_ptr().add(i).cast::<__m128i>());
                let breaks = if line_breaks {
                    _mm_cmpeq_epi8(v, newline)
                } else {
                    _mm_setzero_si128()
                };
                let hits = _mm_or_si128(_mm_cmpeq_epi8(v, quote), breaks);
                let bits = _mm_movemask_epi8(hits) as u32;
                if bits != 0 {
                    return Some(i + bits.trailing_zeros() as usize);
                }
                i += 16;
            }
        }
        hay[i..].iter().position(|&b| special(b)).map(|p| i + p)
    }
    #[cfg(not(target_arch = "x86_64"))]
    hay.iter().position(|&b| special(b))
}

/// Number of line feeds in `s`, counted eight bytes at a time.
pub(crate) fn count_lines(s: &[u8]) -> u64 {
    const LANES16: u64 = 0x00FF_00FF_00FF_00FF;
    let mut n = 0u64;
    // Up to 255 words per block, so that no byte lane of `acc` overflows.
    let mut blocks = s.chunks_exact(8 * 255);
    for block in &mut blocks {
        let mut acc = 0u64;
        for word in block.chunks_exact(8) {
            let Some(word) = word.first_chunk::<8>() else {
                continue;
            };
            let x = u64::from_le_bytes(*word) ^ (LO * u64::from(b'\n'));
            // Exact for every byte (no borrow between lanes): high bit set iff non-zero.
            let nonzero = ((x & !HI) + !HI) | x;
            acc += (!nonzero & HI) >> 7;
        }
        // Sum the eight byte lanes: pairs into 16-bit lanes, then those (≤ 2,040).
        let pairs = (acc & LANES16) + ((acc >> 8) & LANES16);
        n += pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48;
    }
    n + blocks.remainder().iter().filter(|&&b| b == b'\n').count() as u64
}

/// Skips JSON whitespace (space, tab, line feed, carriage return) at `p`; runs of spaces
/// eight at a time (indentation).
#[inline(always)]
pub(crate) fn skip_ws(s: &[u8], mut p: usize) -> usize {
    loop {
        while let Some(word) = s.get(p..).and_then(|r| r.first_chunk::<8>()) {
            if u64::from_le_bytes(*word) != LO * u64::from(b' ') {
                break;
            }
            p += 8;
        }
        match s.get(p) {
            Some(b' ' | b'\t' | b'\n' | b'\r') => p += 1,
            _ => return p,
        }
    }
}

/// Skips ASCII whitespace (JSON's, and form feed) at `p`: what the lenient readers trim.
#[inline(always)]
pub(crate) fn skip_ascii_ws(s: &[u8], mut p: usize) -> usize {
    while s.get(p).is_some_and(u8::is_ascii_whitespace) {
        p += 1;
    }
    p
}

/// How the JSON text is quoted: as it is, or inside a CSV cell, where every `"` is
/// doubled (`{""Id"":""x""}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quoting {
    Plain,
    Doubled,
}

impl Quoting {
    /// Quote bytes standing for one `"` of the JSON.
    pub(crate) fn width(self) -> usize {
        match self {
            Quoting::Plain => 1,
            Quoting::Doubled => 2,
        }
    }
}

/// How a lenient reader reads strings and the bytes between values (see the module
/// documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rules {
    pub quoting: Quoting,
    /// A raw line break ends a string (left to the caller, as whitespace).
    pub line_break_ends_string: bool,
    /// Outside strings, a backslash escapes the next byte (but a line break); else it is
    /// a byte like any other.
    pub escapes_outside_strings: bool,
}

/// The splitter's rules: a broken file costs as little as possible.
pub(crate) const SPLITTER: Rules = Rules {
    quoting: Quoting::Plain,
    line_break_ends_string: true,
    escapes_outside_strings: true,
};

/// The rules of the quick look and of the cut-AuditData recovery, for text quoted so.
pub(crate) const fn lenient(quoting: Quoting) -> Rules {
    Rules {
        quoting,
        line_break_ends_string: false,
        escapes_outside_strings: false,
    }
}

/// Where a string ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StringEnd {
    /// At its closing quote, which starts at `quote` and ends before `after`.
    Closed { quote: usize, after: usize },
    /// Unterminated, at the raw line break at this offset (splitter rules only).
    LineBreak(usize),
    /// Unterminated at the end of the text, or (doubled quoting) at a lone quote.
    Open,
}

impl Rules {
    /// The end of the string whose inside starts at `start` (after its opening quote).
    /// A quote closes the string unless an odd number of backslashes precede it (`\"`,
    /// doubled `\""`: a backslash escapes one character of the JSON).
    #[inline(always)]
    pub fn string_end(self, s: &[u8], start: usize) -> StringEnd {
        let w = self.quoting.width();
        let mut from = start;
        loop {
            let Some(at) = s
                .get(from..)
                .and_then(|r| find_quote(r, self.line_break_ends_string))
            else {
                return StringEnd::Open;
            };
            let at = from + at;
            if s[at] == b'\n' {
                return StringEnd::LineBreak(at);
            }
            if w == 2 && s.get(at + 1) != Some(&b'"') {
                return StringEnd::Open; // a lone quote: not this quoting
            }
            let backslashes = s[start..at]
                .iter()
                .rev()
                .take_while(|&&b| b == b'\\')
                .count();
            if backslashes % 2 == 0 {
                return StringEnd::Closed {
                    quote: at,
                    after: at + w,
                };
            }
            from = at + w;
        }
    }

    /// A string whose opening quote(s) are at `pos`: its inside (escapes as written) and
    /// the offset after it; `None` when there is no string there or it is not closed.
    #[inline(always)]
    pub fn string_at(self, s: &[u8], pos: usize) -> Option<(&[u8], usize)> {
        let w = self.quoting.width();
        if s.get(pos..pos + w)?.iter().any(|&b| b != b'"') {
            return None;
        }
        match self.string_end(s, pos + w) {
            StringEnd::Closed { quote, after } => Some((&s[pos + w..quote], after)),
            StringEnd::LineBreak(_) | StringEnd::Open => None,
        }
    }

    /// The offset after a backslash at `p` that is outside any string.
    #[inline(always)]
    pub fn after_stray_backslash(self, s: &[u8], p: usize) -> usize {
        match (self.escapes_outside_strings, s.get(p + 1)) {
            (false, _) | (true, Some(b'\n')) => p + 1,
            (true, _) => p + 2,
        }
    }

    /// Skips the object or array whose opening bracket is at `p`: the offset after its
    /// closing bracket, or `None` when it is not closed. Closing brackets close whatever
    /// is open (their kind is the parser's business). Under the splitter's rules an
    /// unterminated string ends at its line break; else it leaves the value open.
    pub fn skip_nested(self, s: &[u8], mut p: usize) -> Option<usize> {
        let mut depth = 0u64;
        loop {
            p = find::<Structural>(s, p);
            match s.get(p)? {
                b'"' => {
                    let w = self.quoting.width();
                    if s.get(p..p + w)?.iter().any(|&b| b != b'"') {
                        return None; // a lone quote in doubled quoting
                    }
                    p = match self.string_end(s, p + w) {
                        StringEnd::Closed { after, .. } => after,
                        StringEnd::LineBreak(at) => at,
                        StringEnd::Open => return None,
                    }
                }
                b'\\' => p = self.after_stray_backslash(s, p),
                b'{' | b'[' => {
                    depth += 1;
                    p += 1;
                }
                _ => {
                    depth = depth.saturating_sub(1);
                    p += 1;
                    if depth == 0 {
                        return Some(p);
                    }
                }
            }
        }
    }
}

/// What a backslash escape is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EscapeSeq {
    /// `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t` (`\""` in doubled quoting), of this
    /// many bytes.
    Char(usize),
    /// `\uXXXX` (6 bytes), this code unit.
    Unit(u16),
    /// `\u` without four hex digits.
    BadUnit,
    /// A backslash before anything else.
    Bad,
}

/// The escape whose backslash is at `s[i]`.
#[inline]
pub(crate) fn escape_at(s: &[u8], i: usize, quoting: Quoting) -> EscapeSeq {
    match s.get(i + 1) {
        Some(b'"') => match quoting {
            Quoting::Plain => EscapeSeq::Char(2),
            Quoting::Doubled if s.get(i + 2) == Some(&b'"') => EscapeSeq::Char(3),
            Quoting::Doubled => EscapeSeq::Bad,
        },
        Some(b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => EscapeSeq::Char(2),
        Some(b'u') => {
            let hex = s.get(i + 2..i + 6).unwrap_or_default();
            if hex.len() != 4 || !hex.iter().all(u8::is_ascii_hexdigit) {
                return EscapeSeq::BadUnit;
            }
            let unit = hex.iter().fold(0u16, |n, &h| {
                let digit = (h as char).to_digit(16).unwrap_or_default() as u16;
                n << 4 | digit
            });
            EscapeSeq::Unit(unit)
        }
        _ => EscapeSeq::Bad,
    }
}

/// Appends the text of the escape whose backslash is at `s[i]` to `out`, as serde_json
/// reads it; returns the offset after the escape. `None` where serde_json refuses: an
/// unknown escape, a bad `\uXXXX`, a lone surrogate (a high one must be followed by an
/// escaped low one: the pair is one character).
#[inline]
pub(crate) fn unescape_strict(s: &[u8], i: usize, out: &mut Vec<u8>) -> Option<usize> {
    // `\/` (Microsoft's serializer writes every slash so), `\"` and `\\` here, inlined
    // into the caller: most escapes of an AuditData are these.
    if let Some(&c @ (b'/' | b'"' | b'\\')) = s.get(i + 1) {
        out.push(c);
        return Some(i + 2);
    }
    unescape_other(s, i, out)
}

/// [`unescape_strict`] of any escape.
fn unescape_other(s: &[u8], i: usize, out: &mut Vec<u8>) -> Option<usize> {
    match escape_at(s, i, Quoting::Plain) {
        EscapeSeq::Char(n) => {
            out.push(match s[i + 1] {
                b'b' => 0x08,
                b'f' => 0x0C,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                other => other, // `"`, `\\`, `/`
            });
            Some(i + n)
        }
        EscapeSeq::Unit(high @ 0xD800..=0xDBFF) => {
            let EscapeSeq::Unit(low @ 0xDC00..=0xDFFF) = escape_at(s, i + 6, Quoting::Plain) else {
                return None;
            };
            if s.get(i + 6) != Some(&b'\\') {
                return None;
            }
            let code = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
            let c = char::from_u32(code)?;
            out.extend_from_slice(c.encode_utf8(&mut [0u8; 4]).as_bytes());
            Some(i + 12)
        }
        EscapeSeq::Unit(unit) => {
            let c = char::from_u32(u32::from(unit))?; // a lone low surrogate is no char
            out.extend_from_slice(c.encode_utf8(&mut [0u8; 4]).as_bytes());
            Some(i + 6)
        }
        EscapeSeq::BadUnit | EscapeSeq::Bad => None,
    }
}

impl EscapeSeq {
    /// Bytes the escape takes; 0 when it is invalid.
    pub(crate) fn len(self) -> usize {
        match self {
            EscapeSeq::Char(n) => n,
            EscapeSeq::Unit(_) => 6,
            EscapeSeq::BadUnit | EscapeSeq::Bad => 0,
        }
    }
}

/// Why a string is not valid JSON, and where (an offset into the text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StringError {
    pub at: usize,
    pub what: &'static str,
}

/// The parser's string, whose inside starts at `start`: the offset of its closing quote.
/// Strict, as RFC 8259: every escape valid (`\uXXXX` with four hex digits; surrogates are
/// left alone), no control character.
#[inline]
pub(crate) fn strict_string(s: &[u8], start: usize) -> Result<usize, StringError> {
    let mut p = start;
    loop {
        p = find::<InStringStrict>(s, p);
        let what = match s.get(p) {
            None => "unterminated string",
            Some(b'"') => return Ok(p),
            Some(b'\\') => match escape_at(s, p, Quoting::Plain) {
                EscapeSeq::Bad => "invalid escape in a string",
                EscapeSeq::BadUnit => "invalid \\u escape in a string",
                e => {
                    p += e.len();
                    continue;
                }
            },
            Some(b'\n') => "line break inside a string (unterminated string?)",
            Some(_) => "control character inside a string",
        };
        return Err(StringError { at: p, what });
    }
}

/// True when `json` may hold a `\u` escape of a UTF-16 surrogate (`\uD800`-`\uDFFF`),
/// which serde_json refuses alone: looked for in the raw bytes, so an escaped backslash
/// before `ud8..` counts too (a false alarm costs only speed).
pub(crate) fn may_hold_surrogate_escape(json: &[u8]) -> bool {
    memchr::memmem::find_iter(json, b"\\u").any(|i| {
        matches!(json.get(i + 2), Some(b'd' | b'D'))
            && matches!(
                json.get(i + 3),
                Some(b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
            )
    })
}

/// Byte equality for member names, inline: names are short, where a call of `memcmp`
/// (and its dispatch on the length) costs more than the bytes — ~4% of a UAL summary when
/// the AuditData's known names were compared that way. Words of eight bytes, the last one
/// overlapping the word before.
#[inline(always)]
pub(crate) fn same_name(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    let word = |s: &[u8], i: usize| s.get(i..i + 8).and_then(|w| w.first_chunk::<8>()).copied();
    let mut i = 0;
    while i + 8 < n {
        if word(a, i) != word(b, i) {
            return false;
        }
        i += 8;
    }
    word(a, n - 8) == word(b, n - 8)
}

#[cfg(test)]
mod tests;
