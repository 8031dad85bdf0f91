//! xxh3 of a long text taken 64 bytes at a time by a pass that loads them anyway
//! ([`Stripes`]; AVX-512, x86-64 only).

/// [`super::text`] of a text of over 240 bytes, computed 64 bytes at a time by a pass that
/// loads them anyway (the AuditData pass's first look, `input::ual::canon`): xxh3's
/// long hash with its default secret, its stripes taken from the caller's registers
/// ([`Stripes::stripe`]) and the last one read by [`Stripes::finish`]. AVX-512 only.
pub struct Stripes<'t> {
    /// The text hashed.
    text: &'t [u8],
    acc: std::arch::x86_64::__m512i,
    /// The stripes xxh3 takes before the last 64 bytes: those that end before the
    /// text's last byte, `(len - 1) / 64` (worked out once, not per stripe).
    regular: usize,
}

/// xxHash's primes.
const P32_1: u64 = 0x9E37_79B1;
const P32_2: u64 = 0x85EB_CA77;
const P32_3: u64 = 0xC2B2_AE3D;
const P64_1: u64 = 0x9E37_79B1_85EB_CA87;
const P64_2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P64_3: u64 = 0x1656_67B1_9E37_79F9;
const P64_4: u64 = 0x85EB_CA77_C2B2_AE63;
const P64_5: u64 = 0x27D4_EB2F_1656_67C5;

/// xxh3's default secret (the xxHash specification).
const SECRET: [u8; 192] = [
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
    0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
    0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
    0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
    0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
];

impl<'t> Stripes<'t> {
    /// The hash of `text`, when it is over 240 bytes (xxh3 hashes shorter ones
    /// otherwise); else `None`.
    ///
    /// # Safety
    /// The processor must have AVX-512 F (a caller compiled without it calls this in
    /// an `unsafe` block).
    #[target_feature(enable = "avx512f")]
    pub fn new(text: &'t [u8]) -> Option<Stripes<'t>> {
        use std::arch::x86_64::_mm512_set_epi64;
        (text.len() > 240).then(|| Stripes {
            text,
            regular: (text.len() - 1) / 64,
            // xxh3's initial accumulators, lanes 7 down to 0.
            acc: _mm512_set_epi64(
                P32_1 as i64,
                P64_5 as i64,
                P32_2 as i64,
                P64_4 as i64,
                P64_3 as i64,
                P64_2 as i64,
                P64_1 as i64,
                P32_3 as i64,
            ),
        })
    }

    /// Takes stripe `i` (the text's bytes `64 i .. 64 i + 64`, in `v`), called for each
    /// `i` from 0 up in turn (any past the regular ones are left out).
    ///
    /// # Safety
    /// The processor must have AVX-512 F (a caller compiled without it calls this in
    /// an `unsafe` block).
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub fn stripe(&mut self, i: usize, v: std::arch::x86_64::__m512i) {
        if i >= self.regular {
            return;
        }
        // 16 stripes to a block of the 192-byte secret, then the accumulators are
        // scrambled.
        let k = i % 16;
        self.acc = accumulate(self.acc, v, 8 * k);
        if k == 15 {
            self.acc = scramble(self.acc);
        }
    }

    /// The hash, once every stripe was taken: the text's last 64 bytes and the
    /// accumulators merged.
    ///
    /// # Safety
    /// The processor must have AVX-512 F (a caller compiled without it calls this in
    /// an `unsafe` block).
    #[target_feature(enable = "avx512f")]
    pub fn finish(self) -> u64 {
        use std::arch::x86_64::{_mm512_loadu_si512, _mm512_storeu_si512};
        let text = self.text;
        // Over 240 bytes ([`Stripes::new`]).
        let last = &text[text.len() - 64..];
        // SAFETY: `last` holds 64 bytes; unaligned load.
        let v = unsafe { _mm512_loadu_si512(last.as_ptr().cast()) };
        let acc = accumulate(self.acc, v, 192 - 64 - 7);
        let mut lanes = [0u64; 8];
        // SAFETY: `lanes` holds 64 bytes; unaligned store.
        unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), acc) };
        let secret =
            |at: usize| u64::from_le_bytes(SECRET[at..at + 8].try_into().unwrap_or_default());
        let mut h = (text.len() as u64).wrapping_mul(P64_1);
        for i in 0..4 {
            let (a, b) = (
                lanes[2 * i] ^ secret(11 + 16 * i),
                lanes[2 * i + 1] ^ secret(19 + 16 * i),
            );
            let m = u128::from(a) * u128::from(b);
            h = h.wrapping_add((m as u64) ^ ((m >> 64) as u64));
        }
        // xxh3's avalanche.
        h ^= h >> 37;
        h = h.wrapping_mul(0x1656_6791_9E37_79F9);
        h ^ (h >> 32)
    }
}

/// xxh3's accumulate of one stripe `v` with the secret from byte `at`.
#[target_feature(enable = "avx512f")]
#[inline]
fn accumulate(
    acc: std::arch::x86_64::__m512i,
    v: std::arch::x86_64::__m512i,
    at: usize,
) -> std::arch::x86_64::__m512i {
    use std::arch::x86_64::{
        _mm512_add_epi64, _mm512_loadu_si512, _mm512_mul_epu32, _mm512_shuffle_epi32,
        _mm512_srli_epi64, _mm512_xor_si512, _MM_PERM_BADC,
    };
    // SAFETY: `at + 64 <= 192` for every caller; unaligned load.
    let key = unsafe { _mm512_loadu_si512(SECRET[at..at + 64].as_ptr().cast()) };
    let data_key = _mm512_xor_si512(v, key);
    // Each lane: its low 32 bits times its high 32 bits, plus the neighbour lane's data.
    let product = _mm512_mul_epu32(data_key, _mm512_srli_epi64::<32>(data_key));
    let swapped = _mm512_shuffle_epi32::<_MM_PERM_BADC>(v);
    _mm512_add_epi64(product, _mm512_add_epi64(acc, swapped))
}

/// xxh3's scramble of the accumulators with the secret's last 64 bytes.
#[target_feature(enable = "avx512f")]
#[inline]
fn scramble(acc: std::arch::x86_64::__m512i) -> std::arch::x86_64::__m512i {
    use std::arch::x86_64::{
        _mm512_add_epi64, _mm512_loadu_si512, _mm512_mul_epu32, _mm512_set1_epi64,
        _mm512_slli_epi64, _mm512_srli_epi64, _mm512_xor_si512,
    };
    // SAFETY: bytes 128..192 of the secret; unaligned load.
    let key = unsafe { _mm512_loadu_si512(SECRET[128..].as_ptr().cast()) };
    let shifted = _mm512_xor_si512(acc, _mm512_srli_epi64::<47>(acc));
    let data_key = _mm512_xor_si512(shifted, key);
    // Times the 32-bit prime, in 64 bits: low half times it, plus high half times it
    // shifted up.
    let prime = _mm512_set1_epi64(P32_1 as i64);
    let low = _mm512_mul_epu32(data_key, prime);
    let high = _mm512_mul_epu32(_mm512_srli_epi64::<32>(data_key), prime);
    _mm512_add_epi64(low, _mm512_slli_epi64::<32>(high))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// [`Stripes`] over `bytes`, each whole 64 bytes loaded and passed in turn.
    #[target_feature(enable = "avx512f")]
    fn stripes_of(bytes: &[u8]) -> Option<u64> {
        let mut s = Stripes::new(bytes)?;
        for (i, block) in bytes.chunks_exact(64).enumerate() {
            // SAFETY: `block` holds 64 bytes; unaligned load.
            let v = unsafe { std::arch::x86_64::_mm512_loadu_si512(block.as_ptr().cast()) };
            s.stripe(i, v);
        }
        Some(s.finish())
    }

    proptest! {
        /// [`Stripes`], fed every 64 bytes of a text as a pass loads them, is xxh3 too;
        /// it takes no text of 240 bytes or fewer.
        #[test]
        fn stripes_are_xxh3(bytes in prop::collection::vec(any::<u8>(), 200..4000)) {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the processor has AVX-512 F.
                let h = unsafe { stripes_of(&bytes) };
                let want = (bytes.len() > 240).then(|| xxhash_rust::xxh3::xxh3_64(&bytes));
                prop_assert_eq!(h, want);
            }
        }
    }
}
