//! A JSON string's escapes resolved ([`unescape_json_into`]), leniently: an invalid escape
//! or a lone surrogate becomes U+FFFD, and nothing panics. Fields read from JSON are
//! unescaped this way when kept, and so is every PowerShell `Search-UnifiedAuditLog`
//! object's AuditData, a JSON object written as a JSON string: an escaped quote every few
//! bytes, over the whole export.
//!
//! Three ways, one result — that of the plain rule (each escape resolved in turn, the text
//! between copied; [`tests`] holds the others to it):
//! - 64 bytes at a time where the processor has AVX-512 VBMI2: the backslashes of a block
//!   that start an escape are found as simdjson finds them (a backslash escaped by the one
//!   before it starts none), and where each of those escapes is `\"`, `\\` or `\/` — whose
//!   character stands for itself — the block is compressed without them and stored in one
//!   go. A block stops before any other escape (`\n`, `\u00e9`...), left to the next way,
//!   and before an escape cut by its end, so that no escape spans two blocks.
//! - eight bytes at a time up to the next backslash, for the first words of a run;
//! - one escape at a time, and `memchr` for a long run.

use super::csv_quotes;

/// Resolves JSON string escapes (`\n`, `\"`, `\u00e9`, surrogate pairs). Invalid escapes
/// and lone surrogates become U+FFFD; never panics.
pub fn unescape_json_into(bytes: &[u8], out: &mut Vec<u8>) {
    // Most strings hold no escape: one copy.
    let Some(first) = memchr::memchr(b'\\', bytes) else {
        out.extend_from_slice(bytes);
        return;
    };
    out.reserve(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut i = first;
    // `bytes[i]` is a backslash.
    while i < bytes.len() {
        let read = simple_blocks(&bytes[i..], out);
        if read > 0 {
            i = plain_run(bytes, i + read, out);
            continue;
        }
        let Some(&e) = bytes.get(i + 1) else {
            out.extend_from_slice("\u{FFFD}".as_bytes());
            return;
        };
        i += 2;
        match e {
            b'"' => out.push(b'"'),
            b'\\' => out.push(b'\\'),
            b'/' => out.push(b'/'),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0C),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'u' => i = unicode_escape(bytes, i, out),
            _ => out.extend_from_slice("\u{FFFD}".as_bytes()),
        }
        i = plain_run(bytes, i, out);
    }
}

/// The character of a `\u` escape whose hex digits start at `i` (a surrogate pair's
/// second half included), written to `out`; returns where the escape ends.
fn unicode_escape(bytes: &[u8], mut i: usize, out: &mut Vec<u8>) -> usize {
    let hex = |at: usize| -> Option<u32> {
        let h = bytes.get(at..at + 4)?;
        u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    };
    let Some(first) = hex(i) else {
        out.extend_from_slice("\u{FFFD}".as_bytes());
        return i;
    };
    i += 4;
    let code =
        if (0xD800..0xDC00).contains(&first) && bytes.get(i..i + 2) == Some(b"\\u".as_slice()) {
            match hex(i + 2) {
                Some(second) if (0xDC00..0xE000).contains(&second) => {
                    i += 6;
                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                }
                _ => 0xFFFD,
            }
        } else {
            first
        };
    let c = char::from_u32(code).unwrap_or('\u{FFFD}');
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    i
}

/// Copies `bytes` from `i` up to the next backslash (or the end) to `out`; returns where
/// it stopped. Between two escapes a run is mostly a few bytes, where a `memchr` and a
/// copy call cost more than the bytes: the first words are copied eight bytes at a time,
/// each stored whole and the output cut back at its backslash; a run longer than that is
/// left to `memchr` and one copy.
#[inline]
fn plain_run(bytes: &[u8], mut i: usize, out: &mut Vec<u8>) -> usize {
    for _ in 0..4 {
        let Some(word) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) else {
            let rest = bytes.get(i..).unwrap_or_default();
            let end = rest.iter().position(|&b| b == b'\\').unwrap_or(rest.len());
            out.extend_from_slice(&rest[..end]);
            return i + end;
        };
        out.extend_from_slice(word);
        let slashes = csv_quotes::byte_bits(word, b'\\');
        if slashes != 0 {
            let k = (slashes.trailing_zeros() / 8) as usize;
            out.truncate(out.len() - (8 - k));
            return i + k;
        }
        i += 8;
    }
    let rest = &bytes[i..];
    let end = memchr::memchr(b'\\', rest).unwrap_or(rest.len());
    out.extend_from_slice(&rest[..end]);
    i + end
}

/// The 64-byte way from the start of `bytes`, appending to `out` (see the module
/// documentation); returns how many bytes of `bytes` it read: none where the processor
/// lacks it, where fewer than 64 bytes are left, or where the first block opens with an
/// escape it leaves to the next way.
#[cfg(target_arch = "x86_64")]
fn simple_blocks(bytes: &[u8], out: &mut Vec<u8>) -> usize {
    if bytes.len() < 64 || !csv_quotes::vbmi2() {
        return 0;
    }
    // The output never runs ahead of the input: room for all of it is room for every
    // 64-byte store.
    out.reserve(bytes.len());
    let len = out.len();
    // SAFETY: the processor has AVX-512 F, BW and VBMI2 (checked by `vbmi2`); the room
    // after `len` holds `bytes.len()` bytes (reserved above).
    let (read, written) = unsafe { simple_blocks_vbmi2(bytes, out.as_mut_ptr().add(len)) };
    // SAFETY: the `written` bytes after `len` were stored by the blocks.
    unsafe { out.set_len(len + written) };
    read
}

#[cfg(not(target_arch = "x86_64"))]
fn simple_blocks(_bytes: &[u8], _out: &mut Vec<u8>) -> usize {
    0
}

/// Each bit of `backslashes` that an escape starts at: a backslash not itself escaped by
/// the run of backslashes before it. The block starts outside any escape (the blocks
/// never cut one), so this is simdjson's `find_escaped` with nothing carried in.
#[inline(always)]
fn escape_starts(backslashes: u64) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let follows = backslashes << 1;
    let odd_starts = backslashes & !EVEN & !follows;
    let (on_even, _) = odd_starts.overflowing_add(backslashes);
    let escaped = (EVEN ^ (on_even << 1)) & follows;
    backslashes & !escaped
}

/// # Safety
/// The processor must have AVX-512 F, BW and VBMI2; `dst` must be valid for writes of
/// `bytes.len()` bytes. Returns `(read, written)`: the bytes of `bytes` read and of `dst`
/// written (`written <= read`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi2")]
unsafe fn simple_blocks_vbmi2(bytes: &[u8], dst: *mut u8) -> (usize, usize) {
    use std::arch::x86_64::{
        _mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_maskz_compress_epi8, _mm512_set1_epi8,
        _mm512_storeu_si512,
    };
    let backslash = _mm512_set1_epi8(b'\\' as i8);
    let quote = _mm512_set1_epi8(b'"' as i8);
    let slash = _mm512_set1_epi8(b'/' as i8);
    let (mut i, mut j) = (0usize, 0usize);
    // `j <= i` throughout, so each 64-byte store at `dst + j` stays within the
    // `bytes.len()` bytes `dst` holds while `i + 64 <= bytes.len()`.
    while i + 64 <= bytes.len() {
        // SAFETY: `bytes[i..i + 64]` is in bounds (loop condition); unaligned load.
        let v = unsafe { _mm512_loadu_si512(bytes.as_ptr().add(i).cast()) };
        let backslashes: u64 = _mm512_cmpeq_epi8_mask(v, backslash);
        let starts = escape_starts(backslashes);
        // The escaped characters; those that do not stand for themselves stop the block
        // before their backslash (bit 0 is never escaped: no escape spans two blocks).
        let escaped = starts << 1;
        let simple =
            backslashes | _mm512_cmpeq_epi8_mask(v, quote) | _mm512_cmpeq_epi8_mask(v, slash);
        let other = escaped & !simple;
        let take = if other != 0 {
            other.trailing_zeros() as usize - 1
        } else if starts >> 63 != 0 {
            63 // an escape cut by the block's end: the next block starts with it
        } else {
            64
        };
        let within = if take == 64 {
            u64::MAX
        } else {
            (1u64 << take) - 1
        };
        let kept = !starts & within;
        // Compressed in a register and stored whole; the bytes past the kept ones are
        // written again by the next block, or left past the output's end.
        let packed = _mm512_maskz_compress_epi8(kept, v);
        // SAFETY: 64 bytes at `dst + j`, within what `dst` holds (see above).
        unsafe { _mm512_storeu_si512(dst.add(j).cast(), packed) };
        j += kept.count_ones() as usize;
        i += take;
        if other != 0 {
            break;
        }
    }
    (i, j)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain rule: the escapes resolved one `memchr` and one copy at a time (the way
    /// before this module's faster ones).
    fn plain_rule_unescape(bytes: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while let Some(k) = memchr::memchr(b'\\', &bytes[i..]) {
            out.extend_from_slice(&bytes[i..i + k]);
            i += k + 1;
            let Some(&e) = bytes.get(i) else {
                out.extend_from_slice("\u{FFFD}".as_bytes());
                return;
            };
            i += 1;
            let simple = match e {
                b'"' => Some(b'"'),
                b'\\' => Some(b'\\'),
                b'/' => Some(b'/'),
                b'b' => Some(0x08),
                b'f' => Some(0x0C),
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                _ => None,
            };
            if let Some(b) = simple {
                out.push(b);
                continue;
            }
            if e != b'u' {
                out.extend_from_slice("\u{FFFD}".as_bytes());
                continue;
            }
            // A `\u` escape as the module reads it (its rule is held by
            // `record::tests::unescapes_json`); what this plain rule checks is the rest.
            i = unicode_escape(bytes, i, out);
        }
        out.extend_from_slice(&bytes[i..]);
    }

    /// Text of every kind an escape can take, dense: the 64-byte blocks meet escapes that
    /// stand for themselves, others, runs of backslashes, and escapes cut by their end.
    fn escapes() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            proptest::prop_oneof![
                8 => proptest::sample::select(b"\\\"/bfnrtuxd8D0e9A\xc3\xa9 ".to_vec()),
                1 => proptest::prelude::any::<u8>(),
            ],
            0..400,
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4_000))]
        /// Any bytes, after text already in the output: the same as the plain rule.
        #[test]
        fn unescape_json_into_keeps_the_plain_rule(
            bytes in escapes(),
            before in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3),
        ) {
            let (mut ours, mut plain) = (before.clone(), before);
            unescape_json_into(&bytes, &mut ours);
            plain_rule_unescape(&bytes, &mut plain);
            proptest::prop_assert_eq!(ours, plain);
        }

        /// Mostly escapes that stand for themselves (an AuditData in a JSON string), now
        /// and then another: the blocks carry most of it.
        #[test]
        fn quoted_json_unescapes_as_the_plain_rule(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    6 => proptest::sample::select(vec![
                        &b"\\\"Id\\\":"[..], b"\\\"", b"\\\\", b"\\/", b"abc", b"0123456789abcdef",
                    ]),
                    1 => proptest::sample::select(vec![
                        &b"\\u003c"[..], b"\\n", b"\\ud83d\\ude00", b"\\q", b"\\u12", b"\\",
                    ]),
                ],
                0..120,
            ),
        ) {
            let bytes = parts.concat();
            let (mut ours, mut plain) = (Vec::new(), Vec::new());
            unescape_json_into(&bytes, &mut ours);
            plain_rule_unescape(&bytes, &mut plain);
            proptest::prop_assert_eq!(ours, plain);
        }
    }

    #[test]
    fn escape_starts_skip_escaped_backslashes() {
        // `\\"` then `\\\"`: a run of backslashes starts an escape at every other one.
        let bits = |s: &[u8]| {
            s.iter()
                .enumerate()
                .fold(0u64, |m, (k, &b)| m | (u64::from(b == b'\\') << k))
        };
        assert_eq!(escape_starts(bits(br#"\\\\""#)), 0b0101);
        assert_eq!(escape_starts(bits(br#"a\\\"b"#)), 0b1010);
        assert_eq!(escape_starts(bits(br#"\"\\"#)), 0b0101);
        assert_eq!(escape_starts(0), 0);
        assert_eq!(escape_starts(u64::MAX), 0x5555_5555_5555_5555);
    }

    #[test]
    fn the_blocks_run_where_the_processor_has_them() {
        // 200 bytes of escaped quotes and text: read by blocks, up to the last whole one.
        let text =
            br#"{\"Operation\":\"MailItemsAccessed\",\"Path\":\"\\Inbox\",\"Url\":\"a\/b\"}"#
                .repeat(3);
        let mut out = Vec::new();
        let read = simple_blocks(&text, &mut out);
        #[cfg(target_arch = "x86_64")]
        if csv_quotes::vbmi2() {
            assert!(
                read >= 64 && read + 64 > text.len(),
                "{read} of {}",
                text.len()
            );
        }
        let mut plain = Vec::new();
        plain_rule_unescape(&text[..read], &mut plain);
        assert_eq!(out, plain);
        // A block stops before an escape that does not stand for itself.
        let mut stops = br#"\"abc\"def"#.repeat(8);
        stops.extend_from_slice(br"\u00e9 and more text after it, to fill a block or two.");
        let mut out = Vec::new();
        let read = simple_blocks(&stops, &mut out);
        assert!(read == 0 || &stops[read..read + 2] == br"\u", "{read}");
    }
}
