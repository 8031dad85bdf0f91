//! JSON's classes of bytes, 64 at a time, with the CSV tokenizer's instruction sets.
//!
//! The JSON readers find strings, escapes and structure the way the CSV tokenizer finds
//! quotes and delimiters: one bitmask per class of byte for a block of 64 bytes, computed
//! with the [`Isa`] chosen at run time, and a prefix XOR (carry-less multiplication) for
//! the bytes inside strings. This module adds JSON's classes to the three kinds of the
//! parent module (SSE2, AVX2, AVX-512BW) and runs a generic [`JsonJob`] with the best one.

#[cfg(target_arch = "x86_64")]
use super::{Avx2, Avx512};
use super::{Baseline, Isa, MaskKind};

/// The JSON classes of one block (bit i = byte i).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct JsonMasks {
    pub quotes: u64,
    pub backslashes: u64,
    /// `{`, `}`, `[`, `]`, `:` and `,`.
    pub structurals: u64,
    /// JSON's whitespace: space, tab, line feed, carriage return.
    pub whitespace: u64,
    /// Bytes below 0x20 (not allowed inside strings).
    pub controls: u64,
    pub newlines: u64,
}

/// The masks of `block`, one byte at a time: what every kind must compute.
#[cfg(any(test, not(target_arch = "x86_64")))]
pub(crate) fn json_masks_by_bytes(block: &[u8; 64]) -> JsonMasks {
    let mut m = JsonMasks::default();
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        let set = |mask: &mut u64, yes: bool| *mask |= if yes { bit } else { 0 };
        set(&mut m.quotes, b == b'"');
        set(&mut m.backslashes, b == b'\\');
        set(
            &mut m.structurals,
            matches!(b, b'{' | b'}' | b'[' | b']' | b':' | b','),
        );
        set(&mut m.whitespace, matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        set(&mut m.controls, b < 0x20);
        set(&mut m.newlines, b == b'\n');
    }
    m
}

/// `x`, hidden from the optimiser. LLVM otherwise rewrites bit operations on masks made
/// by `movemask` (a shift by one, an OR of two halves) into operations on a vector of 64
/// booleans, which SSE2 and AVX2 then carry out one element at a time: hundreds of
/// instructions a block instead of a few.
#[inline(always)]
pub(crate) fn opaque(mut x: u64) -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: an empty assembly block; it only claims to change `x`.
    unsafe {
        std::arch::asm!("/* {0} */", inout(reg) x, options(pure, nomem, nostack, preserves_flags));
    }
    x
}

impl JsonMasks {
    #[inline(always)]
    fn opaque(self) -> JsonMasks {
        JsonMasks {
            quotes: opaque(self.quotes),
            backslashes: opaque(self.backslashes),
            structurals: opaque(self.structurals),
            whitespace: opaque(self.whitespace),
            controls: opaque(self.controls),
            newlines: opaque(self.newlines),
        }
    }
}

/// A [`MaskKind`] that also computes [`JsonMasks`].
pub(crate) trait JsonKind {
    /// # Safety
    /// The processor must have the features of the kind (checked by [`Isa::detect`]).
    unsafe fn json_masks(block: &[u8; 64]) -> JsonMasks;

    /// The parent module's prefix XOR for this kind.
    /// # Safety
    /// As for [`JsonKind::json_masks`].
    unsafe fn prefix_xor(x: u64) -> u64;
}

impl JsonKind for Baseline {
    #[inline(always)]
    unsafe fn json_masks(block: &[u8; 64]) -> JsonMasks {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{
                __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8,
                _mm_or_si128, _mm_set1_epi8,
            };
            let mut m = JsonMasks::default();
            // SAFETY: (all intrinsics) SSE2 is part of the x86-64 baseline; each unaligned
            // 16-byte load reads inside the 64-byte array.
            unsafe {
                for i in 0..4 {
                    let v = _mm_loadu_si128(block.as_ptr().add(16 * i).cast::<__m128i>());
                    let bits = |x: __m128i| u64::from(_mm_movemask_epi8(x) as u16) << (16 * i);
                    let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
                    // `[`/`{` and `]`/`}` differ only in bit 0x20.
                    let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
                    let fold_eq = |c: u8| _mm_cmpeq_epi8(folded, _mm_set1_epi8(c as i8));
                    let newline = eq(b'\n');
                    m.quotes |= bits(eq(b'"'));
                    m.backslashes |= bits(eq(b'\\'));
                    m.structurals |= bits(_mm_or_si128(
                        _mm_or_si128(fold_eq(b'{'), fold_eq(b'}')),
                        _mm_or_si128(eq(b':'), eq(b',')),
                    ));
                    m.whitespace |= bits(_mm_or_si128(
                        _mm_or_si128(eq(b' '), eq(b'\t')),
                        _mm_or_si128(newline, eq(b'\r')),
                    ));
                    let low = _mm_set1_epi8(0x1f);
                    m.controls |= bits(_mm_cmpeq_epi8(_mm_max_epu8(v, low), low));
                    m.newlines |= bits(newline);
                }
            }
            m.opaque()
        }
        #[cfg(not(target_arch = "x86_64"))]
        json_masks_by_bytes(block)
    }

    #[inline(always)]
    unsafe fn prefix_xor(x: u64) -> u64 {
        // SAFETY: the baseline's prefix XOR is plain code.
        unsafe { <Baseline as MaskKind>::prefix_xor(x) }
    }
}

#[cfg(target_arch = "x86_64")]
impl JsonKind for Avx2 {
    #[inline(always)]
    unsafe fn json_masks(block: &[u8; 64]) -> JsonMasks {
        use std::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_max_epu8, _mm256_movemask_epi8,
            _mm256_or_si256, _mm256_set1_epi8,
        };
        let mut m = JsonMasks::default();
        // SAFETY: (all intrinsics) AVX2 is present (the caller's contract); each unaligned
        // 32-byte load reads inside the 64-byte array.
        unsafe {
            for i in 0..2 {
                let v = _mm256_loadu_si256(block.as_ptr().add(32 * i).cast::<__m256i>());
                let bits = |x: __m256i| u64::from(_mm256_movemask_epi8(x) as u32) << (32 * i);
                let eq = |c: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8));
                let folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
                let fold_eq = |c: u8| _mm256_cmpeq_epi8(folded, _mm256_set1_epi8(c as i8));
                let newline = eq(b'\n');
                m.quotes |= bits(eq(b'"'));
                m.backslashes |= bits(eq(b'\\'));
                m.structurals |= bits(_mm256_or_si256(
                    _mm256_or_si256(fold_eq(b'{'), fold_eq(b'}')),
                    _mm256_or_si256(eq(b':'), eq(b',')),
                ));
                m.whitespace |= bits(_mm256_or_si256(
                    _mm256_or_si256(eq(b' '), eq(b'\t')),
                    _mm256_or_si256(newline, eq(b'\r')),
                ));
                let low = _mm256_set1_epi8(0x1f);
                m.controls |= bits(_mm256_cmpeq_epi8(_mm256_max_epu8(v, low), low));
                m.newlines |= bits(newline);
            }
        }
        m.opaque()
    }

    #[inline(always)]
    unsafe fn prefix_xor(x: u64) -> u64 {
        // SAFETY: as for the masks (the caller's contract).
        unsafe { <Avx2 as MaskKind>::prefix_xor(x) }
    }
}

#[cfg(target_arch = "x86_64")]
impl JsonKind for Avx512 {
    #[inline(always)]
    unsafe fn json_masks(block: &[u8; 64]) -> JsonMasks {
        use std::arch::x86_64::{
            _mm512_cmpeq_epi8_mask, _mm512_cmplt_epu8_mask, _mm512_loadu_si512, _mm512_or_si512,
            _mm512_set1_epi8,
        };
        // SAFETY: (all intrinsics) AVX-512BW is present (the caller's contract); the
        // unaligned 64-byte load reads exactly the array.
        unsafe {
            let v = _mm512_loadu_si512(block.as_ptr().cast());
            let eq = |c: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c as i8));
            let folded = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
            let fold_eq = |c: u8| _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8(c as i8));
            let newlines = eq(b'\n');
            JsonMasks {
                quotes: eq(b'"'),
                backslashes: eq(b'\\'),
                structurals: fold_eq(b'{') | fold_eq(b'}') | eq(b':') | eq(b','),
                whitespace: eq(b' ') | eq(b'\t') | newlines | eq(b'\r'),
                controls: _mm512_cmplt_epu8_mask(v, _mm512_set1_epi8(0x20)),
                newlines,
            }
            .opaque()
        }
    }

    #[inline(always)]
    unsafe fn prefix_xor(x: u64) -> u64 {
        // SAFETY: as for the masks (the caller's contract).
        unsafe { <Avx512 as MaskKind>::prefix_xor(x) }
    }
}

/// Work generic over the [`JsonKind`] it runs with; [`run_json`] instantiates it in a
/// function compiled for the instruction set, so that `run` must be `#[inline(always)]`
/// (and so must what it calls in its hot loop) for the intrinsics to inline.
pub(crate) trait JsonJob {
    type Output;
    /// # Safety
    /// The processor must have the features of `K` (checked by [`Isa::detect`]).
    unsafe fn run<K: JsonKind>(self) -> Self::Output;
}

/// Runs `job` with `isa`, which the processor must have ([`Isa::detect`] chooses the best
/// it has).
#[inline]
pub(crate) fn run_json<J: JsonJob>(isa: Isa, job: J) -> J::Output {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512bw,popcnt,bmi1,lzcnt,pclmulqdq")]
        fn avx512<J: JsonJob>(job: J) -> J::Output {
            // SAFETY: this function is compiled for, and called only with, AVX-512BW.
            unsafe { job.run::<Avx512>() }
        }
        #[target_feature(enable = "avx2,popcnt,bmi1,lzcnt,pclmulqdq")]
        fn avx2<J: JsonJob>(job: J) -> J::Output {
            // SAFETY: this function is compiled for, and called only with, AVX2.
            unsafe { job.run::<Avx2>() }
        }
        match isa {
            // SAFETY: `Isa::detect` found the features the function is compiled for.
            Isa::Avx512 => return unsafe { avx512(job) },
            // SAFETY: as above.
            Isa::Avx2 => return unsafe { avx2(job) },
            Isa::Baseline => {}
        }
    }
    // SAFETY: SSE2 is the x86-64 baseline (plain code elsewhere).
    unsafe { job.run::<Baseline>() }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Masks([u8; 64]);
    impl JsonJob for Masks {
        type Output = JsonMasks;
        unsafe fn run<K: JsonKind>(self) -> JsonMasks {
            // SAFETY: run by `run_json` with an instruction set the processor has.
            unsafe { K::json_masks(&self.0) }
        }
    }

    #[test]
    fn every_instruction_set_classifies_every_byte_alike() {
        let best = Isa::best();
        let isas = [Isa::Baseline, Isa::Avx2, Isa::Avx512]
            .into_iter()
            .filter(|&i| {
                i == Isa::Baseline || i == best || (i == Isa::Avx2 && best == Isa::Avx512)
            });
        for isa in isas {
            for b in 0..=255u8 {
                for at in [0, 15, 16, 31, 32, 63] {
                    let mut block = [b'a'; 64];
                    block[at] = b;
                    let got = run_json(isa, Masks(block));
                    assert_eq!(got, json_masks_by_bytes(&block), "{isa:?}: {b:#x} at {at}");
                }
            }
        }
    }
}
