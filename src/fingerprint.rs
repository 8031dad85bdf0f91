//! Inline 64-bit hashes of short byte strings, for hash tables whose entries are then
//! compared whole: an AuditData's member names (`input::ual::canon`) and the raw fields
//! a table finds its values by (`pipeline::table::raw`). Most of them are a few bytes to
//! a few dozen, where an xxh3 call costs more than the bytes: [`sampled`] reads up to 24
//! bytes with two multiplies, inline. Long texts (a whole AuditData: [`text`]) take
//! xxh3 with the widest vectors the processor has.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// wyhash's mix: the 128-bit product of `a` and `b`, its halves xored.
#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let m = u128::from(a) * u128::from(b);
    (m as u64) ^ ((m >> 64) as u64)
}

/// A fingerprint of the length of `bytes` and of up to 24 of them (every byte of 24 or
/// fewer; the first, middle and last eight of a longer string), mixed by wyhash's
/// multiply under `seed`. Two strings of 24 bytes or fewer that differ get different
/// fingerprints (tested); longer ones that differ only in bytes it does not read share
/// one, so a table keyed by it must compare the entries it finds ([`of`] reads every
/// byte).
#[inline(always)]
pub fn sampled(bytes: &[u8], seed: u64) -> u64 {
    let n = bytes.len();
    // Loads that cover every byte of a short string (overlapping where it is shorter
    // than what they read), as wyhash reads one.
    let (first, last, middle) = if n >= 8 {
        let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or_default());
        (word(0), word(n - 8), word(n / 2 - 4))
    } else if n >= 4 {
        let word = |i: usize| {
            u64::from(u32::from_le_bytes(
                bytes[i..i + 4].try_into().unwrap_or_default(),
            ))
        };
        (word(0), word(n - 4), 0)
    } else if n > 0 {
        let byte = |i: usize| u64::from(bytes[i]);
        (byte(0) | byte(n / 2) << 8 | byte(n - 1) << 16, 0, 0)
    } else {
        (0, 0, 0)
    };
    let x = fold(
        first ^ 0xA076_1D64_78BD_642F ^ seed,
        last ^ 0xE703_7ED1_A0B4_28DB ^ n as u64,
    );
    fold(x ^ middle, 0x8EBC_6AF0_9C88_C6E3)
}

/// The longest string [`sampled`] reads whole.
pub const WHOLE: usize = 24;

/// A hash of every byte of `bytes` under `seed`: [`sampled`] for [`WHOLE`] bytes or fewer
/// (which it reads whole), xxh3 for longer ones.
#[inline(always)]
pub fn of(bytes: &[u8], seed: u64) -> u64 {
    if bytes.len() <= WHOLE {
        sampled(bytes, seed)
    } else {
        xxh3_64_with_seed(bytes, seed)
    }
}

/// [`of`] of `bytes` whose [`sampled`] fingerprint under `seed` is `fingerprint`, for a
/// caller that computed it already.
#[inline(always)]
pub fn of_sampled(bytes: &[u8], fingerprint: u64, seed: u64) -> u64 {
    if bytes.len() <= WHOLE {
        fingerprint
    } else {
        xxh3_64_with_seed(bytes, seed)
    }
}

/// xxh3 (64 bits, no seed) of a long text, a whole AuditData of a kilobyte or two:
/// twox-hash's, which runs AVX2 where the processor has it (xxhash-rust's runs the SSE2
/// it was compiled for: ~30% longer for such a text). The same function as
/// `xxhash_rust::xxh3::xxh3_64` (tested).
pub fn text(bytes: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(bytes)
}

#[cfg(target_arch = "x86_64")]
mod stripes;
#[cfg(target_arch = "x86_64")]
pub use stripes::Stripes;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// [`text`] is xxh3, whatever the length (the short, middle and long ways of
        /// xxh3; stripes and blocks of the long one, and what is left after them).
        #[test]
        fn text_is_xxh3(bytes in prop::collection::vec(any::<u8>(), 0..3000)) {
            prop_assert_eq!(text(&bytes), xxhash_rust::xxh3::xxh3_64(&bytes));
        }

        /// Two strings of up to 24 bytes that differ, in a byte or in length, have
        /// different fingerprints under one seed: every byte of them is read.
        #[test]
        fn short_strings_have_their_own_fingerprints(
            a in prop::collection::vec(any::<u8>(), 0..=24),
            b in prop::collection::vec(any::<u8>(), 0..=24),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
            seed in any::<u64>(),
        ) {
            if a != b {
                prop_assert_ne!(sampled(&a, seed), sampled(&b, seed));
            }
            if !a.is_empty() {
                let mut c = a.clone();
                c[at.index(a.len())] ^= flip;
                prop_assert_ne!(sampled(&a, seed), sampled(&c, seed));
                prop_assert_ne!(of(&a, seed), of(&c, seed));
                prop_assert_eq!(of_sampled(&a, sampled(&a, seed), seed), of(&a, seed));
                let mut longer = a.clone();
                longer.push(0);
                prop_assert_ne!(sampled(&a, seed), sampled(&longer, seed));
            }
        }
    }
}
