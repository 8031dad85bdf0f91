//! A quoted CSV cell's text with each `""` made one `"` ([`unescape_csv_into`]): the
//! copy every UAL AuditData cell goes through before it is read as JSON, so it runs on
//! every record of a whole export (about 4% of a `summary` over a UAL CSV).
//!
//! Two ways, one result — that of the plain rule (each quote kept, the byte after it, its
//! pair, skipped; [`tests`] holds both ways to it):
//! - 64 bytes at a time where the processor has AVX-512 VBMI2: the quotes of a block are
//!   found with one compare, the second quote of each pair by the parity of the quotes
//!   before it (a carry-less multiply, the parity carried from block to block), and the
//!   block is compressed without them and stored in one go. A block where a kept quote is
//!   not followed by its pair (a damaged cell) is left to the next way.
//! - eight bytes at a time elsewhere, and for the rest of a cell.

use std::mem::MaybeUninit;

/// The high bit of each byte of the eight in `word` (little-endian) that is `byte`:
/// exact, since the bytes' low seven bits are added apart from their high ones (no carry
/// runs from one byte into the next).
#[inline(always)]
pub(crate) fn byte_bits(word: &[u8; 8], byte: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let x = u64::from_le_bytes(*word) ^ (ONES * u64::from(byte));
    !(((x & LOW7) + LOW7) | x | LOW7)
}

#[inline(always)]
fn quote_bits(word: &[u8; 8]) -> u64 {
    byte_bits(word, b'"')
}

/// Where the first `"` of `bytes` is. A field is mostly short (a legacy export's fields
/// average 14 bytes, 86% under 32), where a call of `memchr` costs ~60 instructions before
/// its first compare: fields under 32 bytes are looked at eight bytes at a time here.
#[inline]
pub(crate) fn find_quote(bytes: &[u8]) -> Option<usize> {
    if bytes.len() >= 32 {
        return memchr::memchr(b'"', bytes);
    }
    let (words, rest) = bytes.as_chunks::<8>();
    for (k, word) in words.iter().enumerate() {
        let quotes = quote_bits(word);
        if quotes != 0 {
            return Some(8 * k + (quotes.trailing_zeros() / 8) as usize);
        }
    }
    let at = rest.iter().position(|&b| b == b'"')?;
    Some(8 * words.len() + at)
}

/// Appends the quoted CSV field text `bytes` to `out` with each `""` made one `"`.
pub(crate) fn unescape_csv_into(bytes: &[u8], out: &mut Vec<u8>) {
    // Most fields hold no quote: one copy, without zeroing room for the word steps first
    // (a cell full of quotes finds its first within a few bytes).
    if find_quote(bytes).is_none() {
        out.extend_from_slice(bytes);
        return;
    }
    let start = out.len();
    // Room for a whole word (or block) stored at any output position, not zeroed first
    // (a `memset` of each cell cost ~0.7% of a UAL summary).
    out.reserve(bytes.len() + 8);
    let buf = &mut out.spare_capacity_mut()[..bytes.len() + 8];
    let (i, j) = blocks(bytes, buf);
    let j = words(bytes, buf, i, j);
    // SAFETY: both steps write every byte of `buf[..j]`: each moves the output's end
    // only past bytes it stored (a block or word is stored whole at the end, the
    // output advanced past its kept bytes; the last bytes one at a time).
    unsafe { out.set_len(start + j) };
}

/// Stores `bytes` at the start of `dst` (as `copy_from_slice` does for initialised
/// bytes; eight bytes are one store).
#[inline(always)]
fn store(dst: &mut [MaybeUninit<u8>], bytes: &[u8]) {
    for (d, &b) in dst.iter_mut().zip(bytes) {
        d.write(b);
    }
}

/// Eight bytes at a time from `bytes[i..]` into `buf[j..]`; returns the end of the
/// output. A UAL AuditData cell holds a quote every few bytes, where a `memchr` and a
/// copy call per quote cost more than the bytes: each word is stored whole (a fixed-size
/// copy) and the output advanced past its first quote only; the bytes after it are
/// written again by the next step.
fn words(bytes: &[u8], buf: &mut [MaybeUninit<u8>], mut i: usize, mut j: usize) -> usize {
    while let Some(word) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let quotes = quote_bits(word);
        let Some(dst) = buf.get_mut(j..j + 8) else {
            break; // unreachable: `j + 8 <= i + 8 <= bytes.len() + 8`
        };
        store(dst, word);
        if quotes == 0 {
            i += 8;
            j += 8;
        } else {
            let q = (quotes.trailing_zeros() / 8) as usize;
            j += q + 1;
            // Skip the second quote of a `""` pair.
            i += q + 2;
        }
    }
    while let Some(&b) = bytes.get(i) {
        let Some(d) = buf.get_mut(j) else {
            break; // unreachable, as above
        };
        d.write(b);
        j += 1;
        i += 1 + usize::from(b == b'"');
    }
    j
}

/// Whether the 64-byte way may run: the processor has AVX-512 VBMI2 and PCLMULQDQ, and
/// `MBXAUDIT_ISA` (`baseline`, `avx2`; see the CSV tokenizer) does not rule AVX-512 out.
/// Decided once.
#[cfg(target_arch = "x86_64")]
pub(super) fn vbmi2() -> bool {
    static CHOSEN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CHOSEN.get_or_init(|| {
        use std::arch::is_x86_feature_detected as has;
        let lowered = matches!(
            std::env::var("MBXAUDIT_ISA").as_deref(),
            Ok("baseline" | "avx2")
        );
        !lowered && has!("avx512f") && has!("avx512bw") && has!("avx512vbmi2") && has!("pclmulqdq")
    })
}

/// The 64-byte way over the whole blocks at the start of `bytes` (see the module
/// documentation); returns how far it read and wrote, `(i, j)`.
#[cfg(target_arch = "x86_64")]
fn blocks(bytes: &[u8], buf: &mut [MaybeUninit<u8>]) -> (usize, usize) {
    if bytes.len() < 64 || !vbmi2() {
        return (0, 0);
    }
    // SAFETY: the processor has AVX-512 F, BW, VBMI2 and PCLMULQDQ (checked by `vbmi2`).
    unsafe { blocks_vbmi2(bytes, buf) }
}

#[cfg(not(target_arch = "x86_64"))]
fn blocks(_bytes: &[u8], _buf: &mut [MaybeUninit<u8>]) -> (usize, usize) {
    (0, 0)
}

/// # Safety
/// The processor must have AVX-512 F, BW and VBMI2 and PCLMULQDQ; `buf` must hold at
/// least `bytes.len()` bytes.
///
/// The blocks are read at fixed steps of 64 bytes, so that no load waits for the quotes
/// of the block before: a pair that straddles two blocks is carried as the parity the
/// next block starts with (its first byte is then the pair's second quote, dropped).
/// Before, a block started after such a pair, so each load waited on the parity of the
/// block before; the 64-byte loop's share of a UAL summary's samples fell from 7.9% to
/// 3.3%.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi2,pclmulqdq")]
unsafe fn blocks_vbmi2(bytes: &[u8], buf: &mut [MaybeUninit<u8>]) -> (usize, usize) {
    use std::arch::x86_64::{
        _mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_maskz_compress_epi8, _mm512_set1_epi8,
        _mm512_storeu_si512, _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_cvtsi64_si128,
        _mm_set1_epi8,
    };
    let quote = _mm512_set1_epi8(b'"' as i8);
    let ones = _mm_set1_epi8(-1);
    // Each bit set with the parity of the bits at and below it: a carry-less multiply
    // by all ones.
    let prefix_xor = |x: u64| -> u64 {
        _mm_cvtsi128_si64(_mm_clmulepi64_si128(_mm_cvtsi64_si128(x as i64), ones, 0)) as u64
    };
    let (mut i, mut j) = (0usize, 0usize);
    // All ones when the block before ended on the first quote of a pair.
    let mut open = 0u64;
    // The output never runs ahead of the input (`j <= i`), so `j + 64 <= bytes.len() <=
    // buf.len()` for every block read.
    while i + 64 <= bytes.len() && j + 64 <= buf.len() {
        // SAFETY: `bytes[i..i + 64]` is in bounds (loop condition); unaligned load.
        let v = unsafe { _mm512_loadu_si512(bytes.as_ptr().add(i).cast()) };
        let quotes: u64 = _mm512_cmpeq_epi8_mask(v, quote);
        // An odd count of quotes since the last pair closed (this one included) marks
        // the first quote of a pair, kept; an even count its second, dropped.
        let parity = prefix_xor(quotes) ^ open;
        let kept = quotes & parity;
        let dropped = quotes & !parity;
        // The plain rule skips whatever follows a kept quote: where that is not a quote
        // (a damaged cell), the word loop reads on from here.
        if ((kept << 1) | (open & 1)) & !quotes != 0 {
            break;
        }
        // Compressed in a register and stored whole (a compress straight to memory is
        // slow on some processors); the bytes past the kept ones are written again next.
        let packed = _mm512_maskz_compress_epi8(!dropped, v);
        // SAFETY: 64 bytes are stored at `buf[j..]`, in bounds (loop condition).
        unsafe { _mm512_storeu_si512(buf.as_mut_ptr().add(j).cast(), packed) };
        j += (!dropped).count_ones() as usize;
        open = 0u64.wrapping_sub(kept >> 63);
        i += 64;
    }
    // A pair left open: the word loop skips its second byte, as the plain rule does.
    (i + (open & 1) as usize, j)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    /// The plain rule, one byte at a time.
    fn unescape_plain(bytes: &[u8]) -> Vec<u8> {
        let (mut out, mut i) = (Vec::new(), 0);
        while let Some(&b) = bytes.get(i) {
            out.push(b);
            i += 1 + usize::from(b == b'"');
        }
        out
    }

    /// Both ways from `bytes`: the 64-byte way (where the processor has it) then words,
    /// and words alone.
    fn both_ways(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut fast = Vec::new();
        unescape_csv_into(bytes, &mut fast);
        let mut buf = vec![MaybeUninit::new(0); bytes.len() + 8];
        let j = words(bytes, &mut buf, 0, 0);
        // SAFETY: the bytes were initialised (zeros, then what `words` wrote).
        let words_only = buf[..j]
            .iter()
            .map(|b| unsafe { b.assume_init() })
            .collect();
        (fast, words_only)
    }

    proptest::proptest! {
        #[test]
        fn the_first_quote_is_found(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::num::u8::ANY,
                    1 => proptest::strategy::Just(b'"'),
                ],
                0..80,
            ),
        ) {
            proptest::prop_assert_eq!(find_quote(&bytes), bytes.iter().position(|&b| b == b'"'));
        }

        #[test]
        fn doubled_quotes_unescape_as_the_plain_rule(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b'"'),
                    proptest::strategy::Just(b'a'),
                    proptest::num::u8::ANY,
                ],
                0..300,
            ),
            prefix in proptest::collection::vec(proptest::num::u8::ANY, 0..3),
        ) {
            let mut out = prefix.clone();
            unescape_csv_into(&bytes, &mut out);
            let mut want = prefix;
            want.extend(unescape_plain(&bytes));
            proptest::prop_assert_eq!(out, want);
        }

        /// Well-formed cells (every quote doubled), long enough for whole blocks, with
        /// pairs across block edges and now and then a damaged spot.
        #[test]
        fn well_formed_cells_unescape_as_the_plain_rule(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    "[a-z:,{}é]{0,70}".prop_map(String::into_bytes),
                    proptest::strategy::Just(b"\"\"".to_vec()),
                    proptest::strategy::Just(b"\"\"\"\"".to_vec()),
                    proptest::strategy::Just(b"\"".to_vec()),
                ],
                0..40,
            ),
        ) {
            let bytes = pieces.concat();
            let (fast, words) = both_ways(&bytes);
            proptest::prop_assert_eq!(&fast, &unescape_plain(&bytes));
            proptest::prop_assert_eq!(&words, &unescape_plain(&bytes));
        }
    }

    #[test]
    fn unescapes_dense_doubled_quotes() {
        let cell = br#"{""a"":""x"",""bb"":[""""],""c"":1}"""#;
        let mut out = Vec::new();
        unescape_csv_into(cell, &mut out);
        assert_eq!(out, unescape_plain(cell));
        assert_eq!(out, br#"{"a":"x","bb":[""],"c":1}""#);
    }

    #[test]
    fn pairs_across_block_edges_and_damage_read_as_the_plain_rule() {
        for at in 58..70 {
            for damaged in [false, true] {
                let mut cell = vec![b'x'; at];
                cell.extend_from_slice(if damaged { b"\"y" } else { b"\"\"" });
                cell.extend(std::iter::repeat_n(b'z', 80));
                cell.extend_from_slice(b"\"\"\"\"end");
                let (fast, words) = both_ways(&cell);
                assert_eq!(fast, unescape_plain(&cell), "at {at}, damaged {damaged}");
                assert_eq!(words, unescape_plain(&cell));
            }
        }
    }
}
