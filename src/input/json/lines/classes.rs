//! The classes of bytes the line-first look reads, 64 bytes at a time: one bitmask per
//! class (bit i = byte i), with the instruction set chosen at run time, and the prefix XOR
//! that marks the bytes inside strings. JSON's structural bytes are told apart here
//! (`structural/json.rs` lumps them together for the parser, which reads each token's
//! byte anyway), so that the look checks JSON's grammar on masks.

use super::{check_with, Checked, Scratch};
use crate::input::structural::{opaque, Isa};

/// The classes of one block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Classes {
    pub quotes: u64,
    pub backslashes: u64,
    pub open_obj: u64,
    pub close_obj: u64,
    pub open_arr: u64,
    pub close_arr: u64,
    pub colons: u64,
    pub commas: u64,
    pub spaces: u64,
    /// Bytes below 0x20.
    pub controls: u64,
    pub newlines: u64,
}

impl Classes {
    /// Each mask hidden from the optimiser (see `structural::opaque`: without it LLVM
    /// turns the bit operations on them into slow vector code).
    #[inline(always)]
    fn opaque(self) -> Classes {
        Classes {
            quotes: opaque(self.quotes),
            backslashes: opaque(self.backslashes),
            open_obj: opaque(self.open_obj),
            close_obj: opaque(self.close_obj),
            open_arr: opaque(self.open_arr),
            close_arr: opaque(self.close_arr),
            colons: opaque(self.colons),
            commas: opaque(self.commas),
            spaces: opaque(self.spaces),
            controls: opaque(self.controls),
            newlines: opaque(self.newlines),
        }
    }

    /// `{`, `}`, `[`, `]`, `:` and `,`.
    #[inline(always)]
    pub fn structurals(&self) -> u64 {
        self.open_obj | self.close_obj | self.open_arr | self.close_arr | self.colons | self.commas
    }
}

/// A way to compute [`Classes`].
pub(super) trait Classify {
    /// # Safety
    /// The processor must have the instruction set of the implementation.
    unsafe fn classes(block: &[u8; 64]) -> Classes;
    /// Bit i set when an odd number of bits of `x` are set at or below i.
    /// # Safety
    /// As for [`Classify::classes`].
    unsafe fn prefix_xor(x: u64) -> u64;
}

/// One byte at a time: what every other implementation must compute (the tests' reference).
#[cfg(test)]
pub(super) struct ByBytes;

#[cfg(test)]
impl Classify for ByBytes {
    unsafe fn classes(block: &[u8; 64]) -> Classes {
        let mut m = Classes::default();
        for (i, &b) in block.iter().enumerate() {
            let bit = 1u64 << i;
            let set = |mask: &mut u64, yes: bool| *mask |= if yes { bit } else { 0 };
            set(&mut m.quotes, b == b'"');
            set(&mut m.backslashes, b == b'\\');
            set(&mut m.open_obj, b == b'{');
            set(&mut m.close_obj, b == b'}');
            set(&mut m.open_arr, b == b'[');
            set(&mut m.close_arr, b == b']');
            set(&mut m.colons, b == b':');
            set(&mut m.commas, b == b',');
            set(&mut m.spaces, b == b' ');
            set(&mut m.controls, b < 0x20);
            set(&mut m.newlines, b == b'\n');
        }
        m
    }

    unsafe fn prefix_xor(mut x: u64) -> u64 {
        for shift in [1, 2, 4, 8, 16, 32] {
            x ^= x << shift;
        }
        x
    }
}

/// A carry-less multiplication by all ones.
/// # Safety
/// The processor must have PCLMULQDQ.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn prefix_xor_clmul(x: u64) -> u64 {
    use std::arch::x86_64::{
        _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set1_epi8, _mm_set_epi64x,
    };
    // SAFETY: PCLMULQDQ is present (the caller's contract).
    unsafe {
        let product = _mm_clmulepi64_si128(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1), 0);
        _mm_cvtsi128_si64(product) as u64
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Classify for Avx2 {
    #[inline(always)]
    unsafe fn classes(block: &[u8; 64]) -> Classes {
        use std::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_max_epu8, _mm256_movemask_epi8,
            _mm256_set1_epi8,
        };
        // SAFETY: (all intrinsics) AVX2 is present (the caller's contract); both
        // unaligned 32-byte loads read inside the 64-byte array.
        unsafe {
            let lo = _mm256_loadu_si256(block.as_ptr().cast::<__m256i>());
            let hi = _mm256_loadu_si256(block.as_ptr().add(32).cast::<__m256i>());
            let join = |l: __m256i, h: __m256i| {
                u64::from(_mm256_movemask_epi8(l) as u32)
                    | u64::from(_mm256_movemask_epi8(h) as u32) << 32
            };
            let eq = |c: u8| {
                let c = _mm256_set1_epi8(c as i8);
                join(_mm256_cmpeq_epi8(lo, c), _mm256_cmpeq_epi8(hi, c))
            };
            let low = _mm256_set1_epi8(0x1f);
            let controls = join(
                _mm256_cmpeq_epi8(_mm256_max_epu8(lo, low), low),
                _mm256_cmpeq_epi8(_mm256_max_epu8(hi, low), low),
            );
            let newlines = eq(b'\n');
            Classes {
                quotes: eq(b'"'),
                backslashes: eq(b'\\'),
                open_obj: eq(b'{'),
                close_obj: eq(b'}'),
                open_arr: eq(b'['),
                close_arr: eq(b']'),
                colons: eq(b':'),
                commas: eq(b','),
                spaces: eq(b' '),
                controls,
                newlines,
            }
            .opaque()
        }
    }

    #[inline(always)]
    unsafe fn prefix_xor(x: u64) -> u64 {
        // SAFETY: `Isa::Avx2` implies PCLMULQDQ (see `Isa::best`).
        unsafe { prefix_xor_clmul(x) }
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx512;

#[cfg(target_arch = "x86_64")]
impl Classify for Avx512 {
    #[inline(always)]
    unsafe fn classes(block: &[u8; 64]) -> Classes {
        use std::arch::x86_64::{
            _mm512_cmpeq_epi8_mask, _mm512_cmplt_epu8_mask, _mm512_loadu_si512, _mm512_set1_epi8,
        };
        // SAFETY: (all intrinsics) AVX-512BW is present (the caller's contract); the
        // unaligned 64-byte load reads exactly the array.
        unsafe {
            let v = _mm512_loadu_si512(block.as_ptr().cast());
            let eq = |c: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c as i8));
            let newlines = eq(b'\n');
            Classes {
                quotes: eq(b'"'),
                backslashes: eq(b'\\'),
                open_obj: eq(b'{'),
                close_obj: eq(b'}'),
                open_arr: eq(b'['),
                close_arr: eq(b']'),
                colons: eq(b':'),
                commas: eq(b','),
                spaces: eq(b' '),
                controls: _mm512_cmplt_epu8_mask(v, _mm512_set1_epi8(0x20)),
                newlines,
            }
            .opaque()
        }
    }

    #[inline(always)]
    unsafe fn prefix_xor(x: u64) -> u64 {
        // SAFETY: `Isa::Avx512` implies PCLMULQDQ (see `Isa::best`).
        unsafe { prefix_xor_clmul(x) }
    }
}

/// [`check_with`] compiled for `isa`; `None` for the baseline (the byte-at-a-time
/// classes cost more than the look saves: the full path reads every line).
#[allow(unused_variables)] // (`isa` and the rest, off x86-64)
pub(super) fn run(
    isa: Isa,
    text: &[u8],
    start: usize,
    end: usize,
    scratch: &mut Scratch,
) -> Option<Checked> {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512bw,popcnt,bmi1,lzcnt,pclmulqdq")]
        fn avx512(text: &[u8], start: usize, end: usize, scratch: &mut Scratch) -> Option<Checked> {
            check_with::<Avx512>(text, start, end, scratch)
        }
        #[target_feature(enable = "avx2,popcnt,bmi1,lzcnt,pclmulqdq")]
        fn avx2(text: &[u8], start: usize, end: usize, scratch: &mut Scratch) -> Option<Checked> {
            check_with::<Avx2>(text, start, end, scratch)
        }
        match isa {
            // SAFETY: `Isa::detect` found the features the function is compiled for.
            Isa::Avx512 => return unsafe { avx512(text, start, end, scratch) },
            // SAFETY: as above.
            Isa::Avx2 => return unsafe { avx2(text, start, end, scratch) },
            Isa::Baseline => {}
        }
    }
    None
}

/// [`check_with`] with the byte-at-a-time classes (the tests' reference for the others).
#[cfg(test)]
pub(super) fn run_by_bytes(
    text: &[u8],
    start: usize,
    end: usize,
    scratch: &mut Scratch,
) -> Option<Checked> {
    check_with::<ByBytes>(text, start, end, scratch)
}
