//! The content hash of an AuditData object ([`content_hash`]): a hash of its value that
//! ignores whitespace, member order and string escaping (`\/` or `/`, `\u00e9` or `é`), so
//! that the same record read from a CSV cell and from a JSON export has one key.
//!
//! Each value is hashed from what it means: a string from its unescaped text, a number
//! from serde_json's printing of it, an array from its elements' hashes in order, an
//! object from the *sum* of its members' hashes (each member: its key and its value's
//! hash), which no order changes. Repeated keys keep the last value, as serde_json's
//! `Value` does. [`scan`] computes this in one pass over the bytes — no copy, no sort, no
//! tree of values — and gives up on anything serde_json might read otherwise (invalid
//! UTF-8, a lone surrogate escape, control characters in strings, a repeated key,
//! nesting past 100, a number serde_json refuses), which [`slow_hash`] then reads through
//! serde_json's `Value` with the same construction: both give one hash for one content.
//!
//! The same pass finds the object's top-level members, so a kept record is read once:
//! checked (what the pass accepts, serde_json accepts), hashed, and mapped from its
//! members without serde_json reading it again; and where each nested object and array
//! ends ([`Ends`]), so that the readers of nested members (`nested.rs`) jump over a
//! container (a `Folders[]` entry's `FolderItems`) instead of lexing it again. Without
//! hashing (the pass of text keys) a repeated key is let through: no hash depends on
//! which value it keeps, and the record's reader refuses a repeated member it reads.
//!
//! Before it, one look at every 64 bytes ([`stop_bits`]: one compare per class with
//! AVX-512, SSE2 elsewhere) marks the bytes where a string's plain run stops (quotes,
//! backslashes, control characters), so that a string's end is found from its bits, not
//! byte by byte; notes where the first byte that is not ASCII lies (the bytes before it
//! need no UTF-8 validation); and, in the pass of text keys with AVX-512, hashes the text
//! for its key on the way ([`crate::fingerprint::Stripes`]).

use std::cell::Cell;
use std::ops::Range;

use xxhash_rust::xxh3::{xxh3_128_with_seed, xxh3_64_with_seed, Xxh3};

use crate::input::json_lex::unescape_strict;

/// Seeds that keep values of different types apart.
const NULL: u64 = 1;
const BOOL: u64 = 2;
const NUMBER: u64 = 3;
const STRING: u64 = 4;
const ARRAY: u64 = 5;
const OBJECT: u64 = 6;
/// Keys: no seed, so that a key's name ([`key_name`]) is its fingerprint as written (one
/// xor fewer per key than any other seed).
const KEY: u64 = 0;

/// A key's hash, for the content hash ([`crate::fingerprint::of`]): its [`key_name`]
/// when that reads every byte of it (nearly every key of an AuditData), else xxh3.
pub(super) fn key_hash(key: &[u8]) -> u64 {
    crate::fingerprint::of(key, KEY)
}

/// [`key_hash`] of `key`, whose [`key_name`] is `name`.
#[inline(always)]
fn named_key_hash(key: &[u8], name: u64) -> u64 {
    crate::fingerprint::of_sampled(key, name, KEY)
}

/// A key's name ([`crate::fingerprint::sampled`]: its length and up to 24 of its bytes,
/// every byte of a shorter key). Inline and a third of an xxh3 call's instructions, it
/// finds a known member (whose name is then compared) and a repeated key (a false match
/// only sends the object to serde_json); for a longer key the content hash takes xxh3
/// ([`key_hash`]).
#[inline(always)]
pub(super) fn key_name(key: &[u8]) -> u64 {
    crate::fingerprint::sampled(key, KEY)
}

/// A scalar's hash (a string's unescaped text, a number's digits as serde_json prints
/// them, a literal) under its type's `seed`: 64 bits, which [`member`] and [`element`]
/// spread over 128. The hash only decides which records of one `Id` are the same (the
/// dedup key is the Id and this hash; keys never leave the run), so two values of one
/// member telling apart with odds of 2^-64 is plenty. Against xxh3's 128-bit variant:
/// a UAL `summary` takes 2.0% fewer instructions and 2.7% less time.
fn scalar(bytes: &[u8], seed: u64) -> u128 {
    u128::from(xxh3_64_with_seed(bytes, seed))
}

/// A member's hash from its key's and its value's (that folded to 64 bits): the whole
/// 128-bit product of the two, each offset by a constant, as wyhash's multiply mixes (one
/// `mul` where [`mix`] takes two rounds of a 128-bit multiply: 4% of the scan's
/// instructions). The product keeps apart what an object's sum of members must: two
/// members that differ in a key or a value differ by a product of two non-zero numbers
/// below 2^64, never 0 mod 2^128; so do two objects whose keys trade values.
fn member(key: u64, value: u128) -> u128 {
    let value = (value as u64) ^ ((value >> 64) as u64);
    u128::from(key ^ 0xA076_1D64_78BD_642F) * u128::from(value ^ 0xE703_7ED1_A0B4_28DB)
}

/// The 256 → 128-bit mix of [`element`]: multiply-xorshift rounds (the state turned
/// half-way first, so that state and element do not commute).
fn mix(state: u128, e: u128) -> u128 {
    const M: u128 = 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835;
    let x = (state.rotate_left(64) ^ e).wrapping_mul(M);
    let x = (x ^ (x >> 67)).wrapping_mul(M);
    x ^ (x >> 61)
}

/// The next state of an array's hash after element `e`: [`mix`] of the state so far and
/// the element, so that order matters and no streaming hasher is set up per array.
fn element(state: u128, e: u128) -> u128 {
    mix(state, e)
}

/// An array's hash from its element count and the state [`element`] left.
fn array(count: u64, state: u128) -> u128 {
    container(ARRAY, count, state)
}

/// An object's hash from its member count and the sum of its members' hashes.
fn object(count: u64, sum: u128) -> u128 {
    container(OBJECT, count, sum)
}

/// A container's hash: its count and what its members left, hashed under `seed`.
fn container(seed: u64, count: u64, state: u128) -> u128 {
    let mut both = [0u8; 24];
    both[..8].copy_from_slice(&count.to_le_bytes());
    both[8..].copy_from_slice(&state.to_le_bytes());
    xxh3_128_with_seed(&both, seed)
}

/// A top-level member found by [`scan`]: where its key (unescaped) lies — in the
/// object's text when written without escapes, else among the unescaped keys — and where
/// its value lies in the object's text.
#[derive(Clone, Debug)]
pub(super) struct Member {
    key: Range<usize>,
    key_unescaped: bool,
    /// Its key's name, unescaped ([`key_name`]), by which readers find the members they
    /// know without comparing each name.
    pub key_name: u64,
    pub value: Range<usize>,
    /// The value is a string written without escapes.
    pub plain_string: bool,
}

/// The top-level members of an object read by [`scan`].
pub(super) struct Top<'s> {
    json: &'s [u8],
    /// xxh3 of the object's text ([`crate::fingerprint::text`]), when the pass without
    /// value hashes took it on its first look (AVX-512, a text over 240 bytes).
    pub xxh3: Option<u64>,
    keys: &'s [u8],
    pub members: &'s [Member],
    /// Where its nested objects and arrays end.
    pub ends: Ends<'s>,
}

/// Where each object and array nested in an object read by [`scan`] ends.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ends<'s> {
    json: &'s [u8],
    /// The offsets in `json` of each nested container's opening bracket and of the byte
    /// after its closing one, in order of the first.
    spans: &'s [(u32, u32)],
}

impl Ends<'_> {
    /// The length of the object or array at the start of `value`, when `value` lies in
    /// the object read and starts with one of its nested containers; else `None` (the
    /// caller lexes it).
    pub fn len_at(&self, value: &[u8]) -> Option<usize> {
        // An address inside the live slice `json` is inside `json`: no other text can
        // be found here by accident.
        let at = (value.as_ptr() as usize).checked_sub(self.json.as_ptr() as usize)?;
        if at >= self.json.len() {
            return None;
        }
        let at = u32::try_from(at).ok()?;
        let i = self.spans.binary_search_by_key(&at, |s| s.0).ok()?;
        Some((self.spans[i].1 - at) as usize)
    }
}

impl Top<'_> {
    /// Member `m`'s key, unescaped.
    pub fn key(&self, m: &Member) -> &[u8] {
        let from = if m.key_unescaped {
            self.keys
        } else {
            self.json
        };
        from.get(m.key.clone()).unwrap_or_default()
    }
}

/// Buffers reused from record to record on each thread.
#[derive(Default)]
struct Scratch {
    text: Vec<u8>,
    top_keys: Vec<u8>,
    members: Vec<Member>,
    /// The keys' names ([`key_name`]) of the objects open (the hashing pass only): enough
    /// to find a repeated key (a false match only sends the object to serde_json, which
    /// is never wrong).
    keys: Vec<u64>,
    /// Bit `i` of word `i / 64`: byte `i` of the object is a quote, a backslash or a
    /// control character ([`stop_bits`]): where a string's plain run stops.
    stops: Vec<u64>,
    /// [`Ends::spans`].
    ends: Vec<(u32, u32)>,
}

thread_local! {
    /// Each thread's buffers, taken by a pass and given back after it (boxed: a pass
    /// moves a pointer, not the buffers' dozen words, in and out); a pass that runs
    /// inside another's callback (a member holding JSON text) finds none and makes its
    /// own.
    static SCRATCH: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
}

/// Reads the JSON object `json` in one pass; when it is sure serde_json reads it alike,
/// calls `f` with its text, its content hash (as [`content_hash`]; with `hash` only, else
/// `None`: the pass then checks and finds members without hashing a value, and lets
/// repeated keys through: `top.members` then holds each) and its
/// top-level members, and returns what `f` returns; else `None`. With `ends`,
/// [`Top::ends`] says where its nested containers end (else it knows none: a caller that
/// reads no nested member spares their bookkeeping).
pub(super) fn scan<R>(
    json: &[u8],
    ends: bool,
    hash: bool,
    f: impl FnOnce(&str, Option<u128>, Top<'_>) -> Option<R>,
) -> Option<R> {
    if hash {
        scan_as::<true, R>(json, ends, f)
    } else {
        scan_as::<false, R>(json, ends, f)
    }
}

/// [`scan`], hashing values when `HASH`.
fn scan_as<const HASH: bool, R>(
    json: &[u8],
    ends: bool,
    f: impl FnOnce(&str, Option<u128>, Top<'_>) -> Option<R>,
) -> Option<R> {
    let taken = SCRATCH.with(Cell::take);
    let mut p = Canon::<HASH>::new(json, taken.unwrap_or_default());
    // Offsets are 32 bits: a larger object (never an AuditData) records none.
    p.with_ends = ends && u32::try_from(json.len()).is_ok();
    let text = p.text();
    let hash = text.and_then(|_| p.whole(true));
    let result = match (text, hash) {
        (Some(text), Some(hash)) => {
            let top = Top {
                json,
                xxh3: p.look.xxh3,
                keys: &p.scratch.top_keys,
                members: &p.scratch.members,
                ends: Ends {
                    json,
                    spans: &p.scratch.ends,
                },
            };
            f(text, HASH.then_some(hash), top)
        }
        _ => None,
    };
    SCRATCH.with(|cell| cell.set(Some(p.scratch)));
    result
}

/// The content hash of the object `json` (see the module documentation); of its bytes
/// when it is not JSON at all.
pub(super) fn content_hash(json: &[u8]) -> u128 {
    let mut p = Canon::<true>::new(json, SCRATCH.with(Cell::take).unwrap_or_default());
    let hash = p.text().and_then(|_| p.whole(false));
    SCRATCH.with(|cell| cell.set(Some(p.scratch)));
    hash.unwrap_or_else(|| slow_hash(json))
}

/// [`content_hash`] through serde_json's `Value` (or of the raw bytes, when not JSON).
pub(super) fn slow_hash(json: &[u8]) -> u128 {
    match serde_json::from_slice::<serde_json::Value>(json) {
        Ok(v) => hash_value(&v),
        Err(_) => {
            let mut h = Xxh3::new();
            h.update(b"raw\0");
            h.update(json);
            h.digest128()
        }
    }
}

/// The hash of `v` (see the module documentation).
pub(super) fn hash_value(v: &serde_json::Value) -> u128 {
    use serde_json::Value;
    match v {
        Value::Null => scalar(b"", NULL),
        Value::Bool(b) => scalar(&[u8::from(*b)], BOOL),
        Value::Number(n) => scalar(n.to_string().as_bytes(), NUMBER),
        Value::String(s) => scalar(s.as_bytes(), STRING),
        Value::Array(a) => {
            let state = a.iter().fold(0u128, |s, e| element(s, hash_value(e)));
            array(a.len() as u64, state)
        }
        Value::Object(m) => {
            let sum = m.iter().fold(0u128, |s, (k, e)| {
                s.wrapping_add(member(key_hash(k.as_bytes()), hash_value(e)))
            });
            object(m.len() as u64, sum)
        }
    }
}

/// What the first look at an object found besides its stop bits.
#[derive(Clone, Copy)]
struct Look {
    /// Where the first 64 bytes holding a byte that is not ASCII start (`None`: all
    /// ASCII, which is UTF-8 without another look): every byte before is ASCII, so the
    /// text is UTF-8 when the bytes from there are.
    first_high: Option<usize>,
    /// xxh3 of the whole text ([`crate::fingerprint::text`]), when asked for and the
    /// look could take it on the way ([`crate::fingerprint::Stripes`]: AVX-512, a text
    /// over 240 bytes).
    xxh3: Option<u64>,
}

/// Fills `out` with the stop bits of `s`: bit `i % 64` of word `i / 64` is set when byte
/// `i` is a quote, a backslash or below 0x20 (so, past the end, every bit is set).
/// With `xxh3`, hashes the text on the way where it can ([`Look::xxh3`]).
fn stop_bits(s: &[u8], out: &mut Vec<u64>, xxh3: bool) -> Look {
    out.clear();
    #[cfg(target_arch = "x86_64")]
    if crate::input::structural::Isa::detect() == crate::input::structural::Isa::Avx512 {
        // SAFETY: the processor has AVX-512 BW (which implies F).
        return unsafe { stop_bits_avx512(s, out, xxh3) };
    }
    let _ = xxh3;
    let mut first_high = None;
    let (blocks, rest) = s.as_chunks::<64>();
    for (k, block) in blocks.iter().enumerate() {
        let (stops, h) = block_stops(block);
        out.push(stops);
        if first_high.is_none() && h != 0 {
            first_high = Some(64 * k);
        }
    }
    let mut last = [0u8; 64];
    last[..rest.len()].copy_from_slice(rest);
    let (stops, h) = block_stops(&last);
    out.push(stops);
    if first_high.is_none() && h != 0 {
        first_high = Some(64 * blocks.len());
    }
    Look {
        first_high,
        xxh3: None,
    }
}

/// [`stop_bits`] with one compare per class for 64 bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn stop_bits_avx512(s: &[u8], out: &mut Vec<u64>, xxh3: bool) -> Look {
    use std::arch::x86_64::{
        __m512i, _mm512_cmpeq_epi8_mask, _mm512_cmplt_epu8_mask, _mm512_loadu_si512,
        _mm512_maskz_loadu_epi8, _mm512_movepi8_mask, _mm512_set1_epi8,
    };
    let q = _mm512_set1_epi8(b'"' as i8);
    let b = _mm512_set1_epi8(b'\\' as i8);
    let c = _mm512_set1_epi8(0x20);
    let stops = |v: __m512i| {
        _mm512_cmpeq_epi8_mask(v, q) | _mm512_cmpeq_epi8_mask(v, b) | _mm512_cmplt_epu8_mask(v, c)
    };
    let whole = s.len() / 64;
    out.reserve(whole + 1);
    // The least start of 64 bytes holding a high bit, without a branch per block.
    let mut first_high = usize::MAX;
    let high_at = |v: __m512i, at: usize| {
        if _mm512_movepi8_mask(v) != 0 {
            at
        } else {
            usize::MAX
        }
    };
    let mut hash = if xxh3 {
        crate::fingerprint::Stripes::new(s)
    } else {
        None
    };
    for i in 0..whole {
        // SAFETY: bytes 64 i .. 64 i + 64 lie inside `s`; unaligned load.
        let v = unsafe { _mm512_loadu_si512(s.as_ptr().add(64 * i).cast()) };
        out.push(stops(v));
        first_high = first_high.min(high_at(v, 64 * i));
        if let Some(h) = &mut hash {
            h.stripe(i, v);
        }
    }
    // The last bytes, zeros after them (a masked load reads no byte past the mask).
    let rest = s.len() - 64 * whole;
    let mask = if rest == 0 {
        0
    } else {
        u64::MAX >> (64 - rest)
    };
    // SAFETY: only the `rest` bytes from 64 whole on are read, all inside `s`.
    let v = unsafe { _mm512_maskz_loadu_epi8(mask, s.as_ptr().add(64 * whole).cast()) };
    out.push(stops(v));
    first_high = first_high.min(high_at(v, 64 * whole));
    // The last bytes are no regular stripe (xxh3 reads them as its last one).
    Look {
        first_high: (first_high != usize::MAX).then_some(first_high),
        xxh3: hash.map(|h| h.finish()),
    }
}

/// The stop bits of `block` and its bytes' high bits.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block_stops(block: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    let (mut bits, mut high) = (0u64, 0u64);
    // SAFETY: SSE2 is part of the x86-64 baseline; each load reads inside the array.
    unsafe {
        let q = _mm_set1_epi8(b'"' as i8);
        let b = _mm_set1_epi8(b'\\' as i8);
        let c = _mm_set1_epi8(0x1F);
        for i in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * i).cast::<__m128i>());
            let m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, b)),
                _mm_cmpeq_epi8(_mm_max_epu8(v, c), c),
            );
            bits |= u64::from(_mm_movemask_epi8(m) as u16) << (16 * i);
            high |= u64::from(_mm_movemask_epi8(v) as u16) << (16 * i);
        }
    }
    (bits, high)
}

#[cfg(not(target_arch = "x86_64"))]
fn block_stops(block: &[u8; 64]) -> (u64, u64) {
    let (mut bits, mut high) = (0u64, 0u64);
    for (i, &b) in block.iter().enumerate() {
        bits |= u64::from(b == b'"' || b == b'\\' || b < 0x20) << i;
        high |= u64::from(b >> 7) << i;
    }
    (bits, high)
}

/// Where the plain run of a string starting at `from` stops, from the stop bits of a text
/// of `len` bytes; `None` when the text ends first.
#[inline(always)]
fn next_stop(stops: &[u64], len: usize, from: usize) -> Option<usize> {
    let mut w = from / 64;
    let mut bits = *stops.get(w)? & (u64::MAX << (from % 64));
    loop {
        if bits != 0 {
            let i = w * 64 + bits.trailing_zeros() as usize;
            return (i < len).then_some(i);
        }
        w += 1;
        bits = *stops.get(w)?;
    }
}

/// Whether a key hash appears twice in `keys` (which it may reorder).
fn repeated(keys: &mut [u64]) -> bool {
    if keys.len() > 64 {
        keys.sort_unstable();
        return keys.windows(2).any(|w| w[0] == w[1]);
    }
    // A small object's keys (a `FolderItems` entry's three or four) are compared pair
    // by pair.
    if keys.len() <= 8 {
        return keys
            .iter()
            .enumerate()
            .any(|(i, k)| keys[i + 1..].contains(k));
    }
    // A 1024-bit filter of the hashes' top ten bits: only a key whose bit is taken
    // already is looked for among the keys before it (an AuditData's ~45 keys share a
    // bit about once; in 256 bits, four times), instead of sorting every object's keys.
    let mut seen = [0u64; 16];
    keys.iter().enumerate().any(|(i, &k)| {
        let b = (k >> 54) as usize;
        let (word, bit) = (b >> 6, 1u64 << (b & 63));
        let taken = seen[word] & bit != 0;
        seen[word] |= bit;
        taken && keys[..i].contains(&k)
    })
}

/// Nesting the fast path follows (serde_json stops at 128).
const MAX_DEPTH: usize = 100;

/// The pass over one object; `HASH`: compute the content hash (else every value's hash
/// is 0, and only what serde_json would refuse and where the members lie are found).
struct Canon<'a, const HASH: bool> {
    json: &'a [u8],
    /// Record where nested containers end ([`Ends`]).
    with_ends: bool,
    /// What the first look found.
    look: Look,
    at: usize,
    scratch: Box<Scratch>,
}

impl<'a, const HASH: bool> Canon<'a, HASH> {
    fn new(json: &'a [u8], mut scratch: Box<Scratch>) -> Canon<'a, HASH> {
        scratch.text.clear();
        scratch.top_keys.clear();
        scratch.members.clear();
        scratch.keys.clear();
        scratch.ends.clear();
        // The pass without value hashes is the one of text keys: it hashes the text.
        let look = stop_bits(json, &mut scratch.stops, !HASH);
        Canon {
            json,
            with_ends: false,
            look,
            at: 0,
            scratch,
        }
    }

    /// The object's text, when it is UTF-8 (else serde_json would refuse it).
    fn text(&self) -> Option<&'a str> {
        // The ASCII bytes before the first that is not are UTF-8, and end on a
        // character's boundary: only the bytes from there need a look (an AuditData's
        // first such character is most often in a subject, far in).
        if let Some(from) = self.look.first_high {
            simdutf8::basic::from_utf8(&self.json[from..]).ok()?;
        }
        // SAFETY: the bytes before `look.first_high` are ASCII and those after it were just
        // found UTF-8 (or every byte is ASCII), so the whole is UTF-8.
        Some(unsafe { std::str::from_utf8_unchecked(self.json) })
    }

    /// The hash of the whole text, an object (with `object_only`) or any value.
    fn whole(&mut self, object_only: bool) -> Option<u128> {
        if object_only && self.json.get(self.skip_ws()) != Some(&b'{') {
            return None;
        }
        let h = self.value(0)?;
        (self.skip_ws() == self.json.len()).then_some(h)
    }

    /// Moves the cursor past whitespace; returns it. An AuditData is written without
    /// whitespace between tokens, so the byte at the cursor is looked at once and the
    /// loop is out of line.
    #[inline(always)]
    fn skip_ws(&mut self) -> usize {
        match self.json.get(self.at) {
            Some(&b) if b > b' ' => self.at,
            _ => self.skip_ws_loop(),
        }
    }

    #[inline(never)]
    fn skip_ws_loop(&mut self) -> usize {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.json.get(self.at) {
            self.at += 1;
        }
        self.at
    }

    /// Takes `byte` (after any whitespace) when it comes next.
    #[inline(always)]
    fn eat(&mut self, byte: u8) -> bool {
        match self.json.get(self.at) {
            Some(&b) if b == byte => {
                self.at += 1;
                true
            }
            Some(&b) if b > b' ' => false,
            _ => {
                self.skip_ws_loop();
                if self.json.get(self.at) == Some(&byte) {
                    self.at += 1;
                    true
                } else {
                    false
                }
            }
        }
    }

    /// The hash of the value at the cursor; `None`: leave it to serde_json.
    fn value(&mut self, depth: usize) -> Option<u128> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        match *self.json.get(self.at)? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string_value().map(|(hash, _)| hash),
            b't' => self.literal(b"true", BOOL, &[1]),
            b'f' => self.literal(b"false", BOOL, &[0]),
            b'n' => self.literal(b"null", NULL, &[]),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// The hash of the string at the cursor, and whether it is written without escapes.
    #[inline(always)]
    fn string_value(&mut self) -> Option<(u128, bool)> {
        if !HASH {
            // Nothing reads a value's unescaped text when no value is hashed: its escapes
            // are checked, not copied.
            let i = next_stop(&self.scratch.stops, self.json.len(), self.at + 1)?;
            if self.json[i] == b'"' {
                self.at = i + 1;
                return Some((0, true));
            }
            self.escaped_string::<false>(self.at + 1, i)?;
            return Some((0, false));
        }
        let (start, end, escaped) = self.string()?;
        Some(if escaped {
            (Self::scalar(&self.scratch.text[start..end], STRING), false)
        } else {
            (Self::scalar(&self.json[start..end], STRING), true)
        })
    }

    fn literal(&mut self, word: &[u8], seed: u64, value: &[u8]) -> Option<u128> {
        if !self.json[self.at..].starts_with(word) {
            return None;
        }
        self.at += word.len();
        Some(Self::scalar(value, seed))
    }

    /// A number, hashed as serde_json prints the `Number` it parses.
    fn number(&mut self) -> Option<u128> {
        let start = self.at;
        while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.json.get(self.at) {
            self.at += 1;
        }
        let digits = &self.json[start..self.at];
        // Most numbers of an AuditData (RecordType, UserType, LogonType, Version...) are
        // small non-negative integers: serde_json reads them as a `u64` and prints the
        // same digits (19 digits always fit; a leading zero it refuses), so they are
        // hashed as they stand, without its parse and print.
        if (1..=19).contains(&digits.len())
            && digits.iter().all(u8::is_ascii_digit)
            && (digits[0] != b'0' || digits.len() == 1)
        {
            return Some(Self::scalar(digits, NUMBER));
        }
        let text = std::str::from_utf8(digits).ok()?;
        let n: serde_json::Number = serde_json::from_str(text).ok()?;
        Some(if HASH {
            scalar(n.to_string().as_bytes(), NUMBER)
        } else {
            0
        })
    }

    /// Reads the string at the cursor: where its unescaped text lies — in the input
    /// (`false`: no escape in it) or in the scratch text (`true`) — as `(start, end)`.
    /// `None` at a control character, which serde_json refuses in strings. Inlined for
    /// the string without escapes (most keys and values); the rest is read out of line.
    #[inline(always)]
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        let first = self.at + 1; // past the opening quote
        let i = next_stop(&self.scratch.stops, self.json.len(), first)?;
        if self.json[i] == b'"' {
            self.at = i + 1;
            return Some((first, i, false));
        }
        self.escaped_string::<true>(first, i)
            .map(|(start, end)| (start, end, true))
    }

    /// [`Canon::string`] from its first stop, `i`, that is not its closing quote: each
    /// escape decoded as serde_json does. With `KEEP`, the string's text is unescaped into
    /// the scratch text and its range there returned; without, the escapes are only
    /// checked (what each decodes to is dropped) and the range is empty.
    #[inline(never)]
    fn escaped_string<const KEEP: bool>(
        &mut self,
        first: usize,
        i: usize,
    ) -> Option<(usize, usize)> {
        if self.json[i] != b'\\' {
            return None;
        }
        let json = self.json;
        let start = self.scratch.text.len();
        if KEEP {
            self.scratch.text.extend_from_slice(&json[first..i]);
        }
        let mut backslash = i;
        loop {
            // One escape, decoded as serde_json does (`\/`, `\"` and `\\`, most of an
            // AuditData's, in place), then the plain run after it.
            let after = match json.get(backslash + 1) {
                Some(&c @ (b'/' | b'"' | b'\\')) => {
                    if KEEP {
                        self.scratch.text.push(c);
                    }
                    backslash + 2
                }
                _ => {
                    let mark = self.scratch.text.len();
                    let after = unescape_strict(json, backslash, &mut self.scratch.text)?;
                    if !KEEP {
                        self.scratch.text.truncate(mark);
                    }
                    after
                }
            };
            let i = next_stop(&self.scratch.stops, json.len(), after)?;
            if KEEP {
                self.scratch.text.extend_from_slice(&json[after..i]);
            }
            match json[i] {
                b'"' => {
                    self.at = i + 1;
                    return Some((start, self.scratch.text.len()));
                }
                b'\\' => backslash = i,
                _ => return None,
            }
        }
    }

    /// A nested container opens at the cursor: its slot in [`Ends`] (none for the
    /// top-level one).
    fn open(&mut self, depth: usize) -> Option<usize> {
        (depth > 0 && self.with_ends).then(|| {
            self.scratch.ends.push((self.at as u32, 0));
            self.scratch.ends.len() - 1
        })
    }

    /// The container of `slot` ([`Canon::open`]) closed before the cursor.
    fn close(&mut self, slot: Option<usize>) {
        if let Some(i) = slot {
            self.scratch.ends[i].1 = self.at as u32;
        }
    }

    fn array(&mut self, depth: usize) -> Option<u128> {
        let slot = self.open(depth);
        self.at += 1;
        // The elements' hashes in order, then their count.
        let mut state = 0u128;
        let mut count = 0u64;
        if !self.eat(b']') {
            loop {
                let e = self.value(depth + 1)?;
                if HASH {
                    state = element(state, e);
                }
                count += 1;
                if self.eat(b',') {
                    continue;
                }
                if self.eat(b']') {
                    break;
                }
                return None;
            }
        }
        self.close(slot);
        Some(if HASH { array(count, state) } else { 0 })
    }

    fn object(&mut self, depth: usize) -> Option<u128> {
        let slot = self.open(depth);
        self.at += 1;
        let mut sum = 0u128;
        let mut count = 0u64;
        // This object's keys' hashes, to find a repeated key.
        let keys_start = self.scratch.keys.len();
        if !self.eat(b'}') {
            loop {
                self.skip_ws();
                if self.json.get(self.at) != Some(&b'"') {
                    return None;
                }
                let text_mark = self.scratch.text.len();
                let (k0, k1, escaped) = self.string()?;
                if !self.eat(b':') {
                    return None;
                }
                let value_start = self.skip_ws();
                // Most values are strings: read here, not through a call of `value`.
                let (value, plain_string) = if self.json.get(value_start) == Some(&b'"') {
                    self.string_value()?
                } else {
                    (self.value(depth + 1)?, false)
                };
                let key = if escaped {
                    &self.scratch.text[k0..k1]
                } else {
                    &self.json[k0..k1]
                };
                // Without hashing, a key's name serves the top-level members only (see
                // the repeated keys below).
                let name = if HASH || depth == 0 { key_name(key) } else { 0 };
                if HASH {
                    self.scratch.keys.push(name);
                    sum = sum.wrapping_add(member(named_key_hash(key, name), value));
                }
                count += 1;
                if depth == 0 {
                    // A key written plainly is found in the text; only an escaped one is
                    // kept (a copy per member cost a `memcpy` call each).
                    let key = if escaped {
                        let t0 = self.scratch.top_keys.len();
                        self.scratch
                            .top_keys
                            .extend_from_slice(&self.scratch.text[k0..k1]);
                        t0..self.scratch.top_keys.len()
                    } else {
                        k0..k1
                    };
                    self.scratch.members.push(Member {
                        key,
                        key_unescaped: escaped,
                        key_name: name,
                        value: value_start..self.at,
                        plain_string,
                    });
                }
                self.scratch.text.truncate(text_mark);
                if self.eat(b',') {
                    continue;
                }
                if self.eat(b'}') {
                    break;
                }
                return None;
            }
        }
        // A repeated key: serde_json's Value keeps the last; leave that to it. The pass
        // without hashing (text keys) hashes no value, so a repeated key changes no
        // hash: it lets the object through, and its reader refuses a repeated member
        // it reads, as serde does (`AuditData::from_members`); nested objects are read
        // by the same readers whichever way the record is read.
        if HASH && repeated(&mut self.scratch.keys[keys_start..]) {
            return None;
        }
        self.scratch.keys.truncate(keys_start);
        self.close(slot);
        Some(if HASH { object(count, sum) } else { 0 })
    }

    /// [`scalar`] when hashing; else 0.
    #[inline(always)]
    fn scalar(bytes: &[u8], seed: u64) -> u128 {
        if HASH {
            scalar(bytes, seed)
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fast(json: &str) -> Option<u128> {
        Canon::<true>::new(json.as_bytes(), Box::default()).whole(false)
    }

    #[test]
    fn members_differ_in_every_half() {
        // Every pair of 300 keys and 300 values (strings and numbers whose texts differ
        // by a character, as counters and copied records do, and objects of consecutive
        // counts) gives its own member hash, in its high and in its low 64 bits alike.
        let keys: Vec<u64> = (0..300)
            .map(|i| key_hash(format!("Key{i}").as_bytes()))
            .collect();
        let values: Vec<u128> = (0..100)
            .map(|i| scalar(format!("value {i}").as_bytes(), STRING))
            .chain((0..100).map(|i| scalar(i.to_string().as_bytes(), NUMBER)))
            .chain((0..100).map(|i| object(i, u128::from(i as u8))))
            .collect();
        let mut all = std::collections::HashSet::new();
        let mut highs = std::collections::HashSet::new();
        let mut lows = std::collections::HashSet::new();
        for &key in &keys {
            for &value in &values {
                let m = member(key, value);
                all.insert(m);
                highs.insert((m >> 64) as u64);
                lows.insert(m as u64);
            }
        }
        assert_eq!(all.len(), keys.len() * values.len());
        assert_eq!(highs.len(), all.len());
        assert_eq!(lows.len(), all.len());
    }

    #[test]
    fn same_hash_as_through_values() {
        for json in [
            r#"{"b":1,"a":[true,false,null,"x\"y"],"c":{"z":-0.5,"y":1e3,"x":12345678901234567890}}"#,
            r#" { "a" : "\u00e9\/\ud83d\ude00" , "b" : 2 , "": {} , "k": [] } "#,
            r#"{"Id":"x","RecordType":2,"Item":{"Subject":"Good \"News\"\n","ParentFolder":{"Path":"\\Inbox"}}}"#,
            "{\"a\":-0,\"b\":1.0,\"c\":1E2,\"d\":0.1e-5}",
            "{\"a\":0,\"b\":7,\"c\":1234567890123456789,\"d\":[15,-3,9999999999999999999]}",
            // Each kind of whitespace before and after each kind of token.
            "\t{\n\"a\"\r:\t[ 1 ,\n2\r]\r\n,\t\"b\" :{ \"c\"\n:\ttrue\r} ,\"d\": null }\n",
        ] {
            assert_eq!(fast(json), Some(slow_hash(json.as_bytes())), "{json}");
            assert_eq!(content_hash(json.as_bytes()), slow_hash(json.as_bytes()));
        }
        // Key order, spacing and escaping do not matter.
        assert_eq!(
            content_hash(br#"{"a":"\u00e9","b":[1,2]}"#),
            content_hash("{ \"b\" : [1, 2], \"a\": \"é\" }".as_bytes())
        );
        // Left to serde_json (and hashed raw when it refuses too); a repeated key keeps
        // the last value, as the Value does.
        assert_eq!(
            content_hash(br#"{"a":1,"b":2,"a":3}"#),
            content_hash(br#"{"b":2,"a":3}"#)
        );
        for json in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":"\ud800"}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            r#"{"a":1e999}"#,
            r#"{"a":01}"#,
        ] {
            assert_eq!(
                content_hash(json.as_bytes()),
                slow_hash(json.as_bytes()),
                "{json}"
            );
        }
        assert_eq!(fast(r#"{"a":"\udc00"}"#), None);
        // A token where another was due, with or without whitespace before it.
        for json in [
            r#"{"a" 1}"#,
            r#"{"a":1 "b":2}"#,
            "{\"a\":[1\t2]}",
            r#"{"a":1}}"#,
        ] {
            assert_eq!(fast(json), None, "{json}");
        }
    }

    #[test]
    fn repeated_finds_a_repeated_key_at_any_size() {
        // Every size of both ways the check takes (the filter, the sort), with no key
        // repeated and with each pair of places holding one key.
        for n in 0..72 {
            let keys: Vec<u64> = (0..n)
                .map(|i| key_hash(format!("k{i}").as_bytes()))
                .collect();
            assert!(!repeated(&mut keys.clone()), "{n} keys");
            for a in 0..n {
                for b in a + 1..n {
                    let mut twice = keys.clone();
                    twice[b] = twice[a];
                    assert!(repeated(&mut twice), "{n} keys, {a} and {b}");
                }
            }
        }
    }

    /// Strings that cross the 64-byte blocks of the stop bits, with an escape, a quote or a
    /// control character at every place, and texts that end inside a string.
    #[test]
    fn strings_across_blocks() {
        for pad in 0..70 {
            for len in [0, 1, 7, 8, 9, 63, 64, 65, 130] {
                for insert in ["", "\\/", "\\\"", "\\u00e9", "\t", "\u{1}", "é"] {
                    for at in [0, len / 2, len] {
                        let mut text = "x".repeat(len);
                        text.insert_str(at, insert);
                        let json =
                            format!(r#"{{"{}":1,"k":"{text}","z":[true]}}"#, "p".repeat(pad));
                        let slow = slow_hash(json.as_bytes());
                        assert_eq!(content_hash(json.as_bytes()), slow, "{json:?}");
                        if !insert.starts_with(['\t', '\u{1}']) {
                            assert_eq!(fast(&json), Some(slow), "{json:?}");
                        }
                        // Cut inside the string: not JSON, never read past the end.
                        let cut = &json.as_bytes()[..json.len() - 12];
                        assert_eq!(fast(std::str::from_utf8(cut).unwrap_or("")), None);
                    }
                }
            }
        }
    }

    #[test]
    fn scan_finds_the_top_level_members() {
        let json = br#" { "a\u0062" : [1, {"x": 2}] , "c":"d\"" ,"a":null} "#;
        let got = scan(json, true, true, |text, hash, top| {
            let members: Vec<(Vec<u8>, String)> = top
                .members
                .iter()
                .map(|m| (top.key(m).to_vec(), text[m.value.clone()].to_string()))
                .collect();
            Some((hash, members))
        });
        let (hash, members) = got.expect("read");
        assert_eq!(hash, Some(slow_hash(json)));
        assert_eq!(
            members,
            vec![
                (b"ab".to_vec(), r#"[1, {"x": 2}]"#.to_string()),
                (b"c".to_vec(), r#""d\"""#.to_string()),
                (b"a".to_vec(), "null".to_string()),
            ]
        );
        assert!(
            scan(b"[1]", true, true, |_, _, _| Some(())).is_none(),
            "not an object"
        );
        assert!(scan(br#"{"a":"\ud800"}"#, true, true, |_, _, _| Some(())).is_none());
    }

    fn json_value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:e}")),
            "[a-z\"\\\\/é\u{1F600}\n\t ]{0,8}"
                .prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
            Just(r#""\u00e9\/\ud83d\ude00""#.to_string()),
            // Escapes good and bad: unknown ones, short or lone `\u`s, surrogates.
            "\"([a-z]|\\\\[\"\\\\/bfnrtux]|\\\\u[0-9a-fA-F]{0,4}|\\\\ud[89ab][0-9a-f]{2}|\\\\udc[0-9a-f]{2}){0,4}\"",
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5)
                    .prop_map(|v| format!("[{}]", v.join(" , "))),
                prop::collection::vec(("[a-d]{0,2}", inner), 0..6).prop_map(|m| {
                    let members: Vec<String> = m
                        .into_iter()
                        .map(|(k, v)| format!("\"{k}\": {v}"))
                        .collect();
                    format!("{{ {} }}", members.join(","))
                }),
            ]
        })
    }

    /// Every nested container is found where it starts and ends; nothing else is.
    #[test]
    fn ends_of_nested_containers() {
        let json = br#"{"a":{"b":[1,{"c":"]}"}], "d" : [ ]},"e":"{x}","f":[{}]}"#;
        let found = scan(json, true, true, |_, _, top| {
            let ends = top.ends;
            let len = |at: usize| ends.len_at(&json[at..]);
            let containers: Vec<(usize, usize)> = (0..json.len())
                .filter_map(|at| len(at).map(|n| (at, at + n)))
                .collect();
            let text = |r: &(usize, usize)| String::from_utf8_lossy(&json[r.0..r.1]).into_owned();
            let texts: Vec<String> = containers.iter().map(text).collect();
            assert_eq!(
                texts,
                [
                    r#"{"b":[1,{"c":"]}"}], "d" : [ ]}"#,
                    r#"[1,{"c":"]}"}]"#,
                    r#"{"c":"]}"}"#,
                    "[ ]",
                    "[{}]",
                    "{}"
                ]
            );
            // The same bytes elsewhere are not the object's.
            let copy = json.to_vec();
            assert_eq!(ends.len_at(&copy[5..]), None);
            Some(())
        });
        assert_eq!(found, Some(()));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3_000))]

        /// Whatever the fast path reads, it hashes as the `Value` path does.
        #[test]
        fn fast_equals_slow(json in json_value()) {
            if let Some(h) = fast(&json) {
                prop_assert_eq!(h, slow_hash(json.as_bytes()), "{}", json);
            }
            prop_assert_eq!(content_hash(json.as_bytes()), slow_hash(json.as_bytes()));
        }

        /// The pass takes a text for UTF-8 exactly when it is: ASCII of any length
        /// (whole blocks of 64 bytes and a part of one), then anything, valid or not.
        #[test]
        fn text_is_utf8_exactly_when_it_is(
            ascii in prop_oneof![0..200usize, Just(63), Just(64), Just(128)],
            rest in prop::collection::vec(prop_oneof![
                any::<u8>(),
                Just(0xC3), Just(0xA9), Just(0xE2), Just(0x98), Just(0x95), Just(0x80),
            ], 0..200),
        ) {
            let mut bytes = vec![b'a'; ascii];
            bytes.extend_from_slice(&rest);
            let p = Canon::<false>::new(&bytes, Box::default());
            prop_assert_eq!(p.text().is_some(), std::str::from_utf8(&bytes).is_ok());
        }

        /// The pass without value hashes takes xxh3 of the text on its first look where
        /// the processor has AVX-512 and the text is over 240 bytes, and that is xxh3.
        #[test]
        fn unhashed_pass_takes_the_texts_xxh3(
            value in "[ -~é☕]{0,3000}",
            members in prop::collection::vec(("[a-c]{1,2}", json_value()), 0..4),
        ) {
            let body: Vec<String> =
                members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            let text = format!("{{\"v\":{},{}}}", serde_json::to_string(&value).unwrap_or_default(), body.join(","))
                .replace(",}", "}");
            let avx512 = crate::input::structural::Isa::detect() == crate::input::structural::Isa::Avx512;
            let taken = scan(text.as_bytes(), false, false, |_, _, top| Some(top.xxh3));
            if let Some(xxh3) = taken {
                prop_assert_eq!(xxh3.is_some(), avx512 && text.len() > 240);
                if let Some(h) = xxh3 {
                    prop_assert_eq!(h, xxhash_rust::xxh3::xxh3_64(text.as_bytes()));
                }
            }
            // The hashing pass (content keys) takes none.
            let taken = scan(text.as_bytes(), false, true, |_, _, top| Some(top.xxh3));
            prop_assert!(taken.is_none_or(|h| h.is_none()));
        }

        /// Arbitrary bytes: no panic, and the same answer as the `Value` path.
        #[test]
        fn bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(content_hash(&bytes), slow_hash(&bytes));
        }

        /// The pass without hashing accepts the objects the hashing pass accepts (and
        /// those with repeated keys, which serde_json reads), and finds the same members,
        /// keys and nested containers: only the hash is left out. Values of any kind,
        /// objects with repeated keys, and cut or damaged text.
        #[test]
        fn unhashed_pass_reads_as_the_hashed_one(
            members in prop::collection::vec(("[a-c]{1,2}", json_value()), 0..6),
            cut in any::<prop::sample::Index>(),
            damage in any::<Option<(prop::sample::Index, u8)>>(),
        ) {
            let body: Vec<String> =
                members.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            let whole = format!("{{{}}}", body.join(","));
            let mut json = whole.clone().into_bytes();
            if let Some((at, byte)) = damage {
                let i = at.index(json.len());
                json[i] = byte;
            }
            for text in [json.clone(), json[..cut.index(json.len() + 1)].to_vec()] {
                let read = |hash: bool| {
                    scan(&text, true, hash, |t, h, top| {
                        let members: Vec<_> = top
                            .members
                            .iter()
                            .map(|m| (top.key(m).to_vec(), m.key_name, t[m.value.clone()].to_string(), m.plain_string))
                            .collect();
                        let ends: Vec<Option<usize>> =
                            (0..text.len()).map(|at| top.ends.len_at(&text[at..])).collect();
                        Some((h, members, ends))
                    })
                };
                let (hashed, unhashed) = (read(true), read(false));
                // The pass without hashing accepts all the hashing pass accepts, and more
                // only where serde_json reads the text too (repeated keys).
                let shown = String::from_utf8_lossy(&text).into_owned();
                if hashed.is_some() {
                    prop_assert!(unhashed.is_some(), "{}", shown);
                } else if unhashed.is_some() {
                    prop_assert!(serde_json::from_slice::<serde_json::Value>(&text).is_ok(), "{}", shown);
                }
                if let (Some(a), Some(b)) = (hashed, unhashed) {
                    prop_assert_eq!(a.0, Some(slow_hash(&text)));
                    prop_assert_eq!(b.0, None);
                    prop_assert_eq!(a.1, b.1);
                    prop_assert_eq!(a.2, b.2);
                }
            }
        }
    }
}
