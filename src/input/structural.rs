//! Finds the structure of delimited text 64 bytes at a time.
//!
//! Every byte of a multi-gigabyte export has to be looked at, so it is looked at once: a
//! block of 64 bytes becomes three bitmasks (quotes, newlines, delimiters; SSE2 on
//! x86-64, plain code elsewhere). Which bytes lie inside quotes follows from the quote
//! mask by a prefix XOR, carried from block to block. A newline or a delimiter outside
//! quotes is structural; the [`Tokenizer`] walks only those, so a record of 55 quoted
//! fields costs a few dozen bit operations instead of a branch per byte.
//!
//! "Outside quotes" means "after an even number of quote bytes since the start": a doubled
//! quote inside a quoted field counts twice and changes nothing. This is the same rule the
//! chunk planner uses to cut a file for parallel workers, so records split identically at
//! any thread count.

/// The quote, newline and delimiter bits of one block (bit i = byte i).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Masks {
    pub quotes: u64,
    pub newlines: u64,
    pub delimiters: u64,
    /// NUL bytes (damaged or zero-filled regions, warned about).
    pub nuls: u64,
    /// Bytes with the high bit set (not ASCII).
    pub high: u64,
}

/// Computes the masks of `block` (64 bytes).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub fn masks(block: &[u8; 64], delimiter: u8) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let mut m = Masks::default();
    // SAFETY: SSE2 is part of the x86-64 baseline, so these intrinsics are always
    // available; each unaligned 16-byte load reads inside the 64-byte array.
    unsafe {
        let q = _mm_set1_epi8(b'"' as i8);
        let n = _mm_set1_epi8(b'\n' as i8);
        let d = _mm_set1_epi8(delimiter as i8);
        let z = _mm_set1_epi8(0);
        for i in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * i).cast::<__m128i>());
            let bits = |c| u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) as u16) << (16 * i);
            m.quotes |= bits(q);
            m.newlines |= bits(n);
            m.delimiters |= bits(d);
            m.nuls |= bits(z);
            m.high |= u64::from(_mm_movemask_epi8(v) as u16) << (16 * i);
        }
    }
    m
}

/// Computes the masks of `block` (64 bytes).
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub fn masks(block: &[u8; 64], delimiter: u8) -> Masks {
    let mut m = Masks::default();
    for (i, &b) in block.iter().enumerate() {
        m.quotes |= u64::from(b == b'"') << i;
        m.newlines |= u64::from(b == b'\n') << i;
        m.delimiters |= u64::from(b == delimiter) << i;
        m.nuls |= u64::from(b == 0) << i;
        m.high |= u64::from(b >> 7) << i;
    }
    m
}

/// Bit i of the result is the XOR of bits 0..=i of `x`: for a quote mask, the bytes that
/// follow an odd number of quotes (and the opening quotes themselves).
#[inline(always)]
pub fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The 64 bytes at `at`, padded with NUL (never structural) past `end`.
#[inline(always)]
fn block_at(text: &[u8], at: usize, end: usize) -> [u8; 64] {
    let mut block = [0u8; 64];
    let n = end.saturating_sub(at).min(64);
    block[..n].copy_from_slice(&text[at..at + n]);
    block
}

/// How far ahead of the block being scanned its bytes are asked for: the text is read
/// once, mostly from memory (a mapped file), and the processor's own prefetching stops
/// at every page boundary.
pub(crate) const PREFETCH_AHEAD: usize = 1536;

/// Asks for the cache line of `text[at]` (a hint: nothing when `at` is past the end).
#[inline(always)]
pub(crate) fn prefetch(text: &[u8], at: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(byte) = text.get(at) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: SSE is part of the x86-64 baseline; a prefetch only hints, and the
        // address is that of a byte of `text`.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(byte).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (text, at);
}

/// What the chunk planner counts in a piece of text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PieceCounts {
    pub quotes: u64,
    pub newlines: u64,
}

/// The instruction set the hot loops are compiled for, chosen once at run time: the
/// loops are generic over a [`MaskKind`] and instantiated in functions that enable the
/// processor features their masks need (so the intrinsics inline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// SSE2, the x86-64 baseline (or plain code elsewhere).
    Baseline,
    Avx2,
    /// AVX-512BW: one compare per character class for 64 bytes.
    Avx512,
}

impl Isa {
    /// The best this processor has, or a lower one named by the environment variable
    /// `MBXAUDIT_ISA` (`baseline`, `avx2`: to compare them, or to rule the fast paths out
    /// when in doubt). Decided once per run.
    pub fn detect() -> Isa {
        static CHOSEN: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let best = Isa::best();
            match std::env::var("MBXAUDIT_ISA").as_deref() {
                Ok("baseline") => Isa::Baseline,
                Ok("avx2") if best != Isa::Baseline => Isa::Avx2,
                _ => best,
            }
        })
    }

    /// The best this processor has (the standard library caches the answer).
    pub fn best() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            // The bit instructions every processor with AVX2 has in practice (Haswell,
            // Excavator and later), checked all the same.
            let bits = has!("popcnt") && has!("bmi1") && has!("lzcnt") && has!("pclmulqdq");
            if bits && has!("avx512bw") && has!("bmi2") {
                return Isa::Avx512;
            }
            if bits && has!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Baseline
    }
}

/// A way to compute [`Masks`].
trait MaskKind {
    /// # Safety
    /// The processor must have the features of the kind (checked by [`Isa::detect`]).
    unsafe fn masks(block: &[u8; 64], delimiter: u8) -> Masks;

    /// [`prefix_xor`], by a carry-less multiplication where the kind has one.
    /// # Safety
    /// As for [`MaskKind::masks`].
    #[inline(always)]
    unsafe fn prefix_xor(x: u64) -> u64 {
        prefix_xor(x)
    }

    /// [`nth_bit`], by the kind's fastest means.
    /// # Safety
    /// As for [`MaskKind::masks`].
    #[inline(always)]
    unsafe fn nth_bit(bits: u64, k: usize) -> u32 {
        nth_bit(bits, k)
    }
}

/// [`prefix_xor`] in one instruction: a carry-less multiplication by all ones.
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

struct Baseline;
impl MaskKind for Baseline {
    #[inline(always)]
    unsafe fn masks(block: &[u8; 64], delimiter: u8) -> Masks {
        masks(block, delimiter)
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx2;
#[cfg(target_arch = "x86_64")]
impl MaskKind for Avx2 {
    #[inline(always)]
    unsafe fn prefix_xor(x: u64) -> u64 {
        // SAFETY: `Isa::Avx2` implies PCLMULQDQ (see `Isa::detect`).
        unsafe { prefix_xor_clmul(x) }
    }

    #[inline(always)]
    unsafe fn masks(block: &[u8; 64], delimiter: u8) -> Masks {
        use std::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8,
        };
        // SAFETY: (all intrinsics) AVX2 is present (the caller's contract); both
        // unaligned 32-byte loads read inside the 64-byte array.
        unsafe {
            let lo = _mm256_loadu_si256(block.as_ptr().cast::<__m256i>());
            let hi = _mm256_loadu_si256(block.as_ptr().add(32).cast::<__m256i>());
            let bits = |c: u8| {
                let c = _mm256_set1_epi8(c as i8);
                let lo = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, c)) as u32;
                let hi = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, c)) as u32;
                u64::from(lo) | u64::from(hi) << 32
            };
            Masks {
                quotes: bits(b'"'),
                newlines: bits(b'\n'),
                delimiters: bits(delimiter),
                nuls: bits(0),
                high: u64::from(_mm256_movemask_epi8(lo) as u32)
                    | u64::from(_mm256_movemask_epi8(hi) as u32) << 32,
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
struct Avx512;
#[cfg(target_arch = "x86_64")]
impl MaskKind for Avx512 {
    #[inline(always)]
    unsafe fn prefix_xor(x: u64) -> u64 {
        // SAFETY: `Isa::Avx512` implies PCLMULQDQ (see `Isa::detect`).
        unsafe { prefix_xor_clmul(x) }
    }

    /// One parallel bit deposit: the `k`-th set bit of `bits` is where bit `k` lands.
    /// Only for AVX-512, whose processors all run it in a few cycles: AMD's before Zen 3
    /// (AVX2 at most) take up to hundreds, so [`Avx2`] keeps the loop.
    #[inline(always)]
    unsafe fn nth_bit(bits: u64, k: usize) -> u32 {
        let bit = u32::try_from(k).ok().and_then(|k| 1u64.checked_shl(k));
        // SAFETY: `Isa::Avx512` implies BMI2 (see `Isa::best`).
        unsafe { std::arch::x86_64::_pdep_u64(bit.unwrap_or(0), bits).trailing_zeros() }
    }

    #[inline(always)]
    unsafe fn masks(block: &[u8; 64], delimiter: u8) -> Masks {
        use std::arch::x86_64::{
            _mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_movepi8_mask, _mm512_set1_epi8,
        };
        // SAFETY: (all intrinsics) AVX-512BW is present (the caller's contract); the
        // unaligned 64-byte load reads exactly the array.
        unsafe {
            let v = _mm512_loadu_si512(block.as_ptr().cast());
            let bits = |c: u8| _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(c as i8));
            Masks {
                quotes: bits(b'"'),
                newlines: bits(b'\n'),
                delimiters: bits(delimiter),
                nuls: bits(0),
                high: _mm512_movepi8_mask(v),
            }
        }
    }
}

/// Counts quote bytes and newlines in `bytes`
/// (with the best [`Isa`]: this pass reads every byte of the input once more).
pub fn count_quotes_newlines(bytes: &[u8]) -> PieceCounts {
    count_for(Isa::detect(), bytes)
}

/// [`count_quotes_newlines`] for `isa`, which the processor must have.
fn count_for(isa: Isa, bytes: &[u8]) -> PieceCounts {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512bw,popcnt,bmi1,lzcnt,pclmulqdq")]
        fn avx512(bytes: &[u8]) -> PieceCounts {
            // SAFETY: this function is compiled for, and called only with, AVX-512BW.
            count_with(bytes, |block| unsafe { Avx512::masks(block, b'"') })
        }
        #[target_feature(enable = "avx2,popcnt,bmi1,lzcnt,pclmulqdq")]
        fn avx2(bytes: &[u8]) -> PieceCounts {
            // SAFETY: this function is compiled for, and called only with, AVX2.
            count_with(bytes, |block| unsafe { Avx2::masks(block, b'"') })
        }
        match isa {
            // SAFETY: `Isa::detect` found the features each function is compiled for.
            Isa::Avx512 => return unsafe { avx512(bytes) },
            // SAFETY: as above, AVX2.
            Isa::Avx2 => return unsafe { avx2(bytes) },
            Isa::Baseline => {}
        }
    }
    // SAFETY: SSE2 is the x86-64 baseline (plain code elsewhere).
    count_with(bytes, |block| unsafe { Baseline::masks(block, b'"') })
}

/// [`count_quotes_newlines`] with the masks of a block computed by `block_masks`.
#[inline(always)]
fn count_with(bytes: &[u8], block_masks: impl Fn(&[u8; 64]) -> Masks) -> PieceCounts {
    let mut c = PieceCounts::default();
    let mut blocks = bytes.chunks_exact(64);
    for block in blocks.by_ref() {
        let block: &[u8; 64] = block.try_into().expect("chunks_exact gives 64 bytes");
        let m = block_masks(block);
        c.quotes += u64::from(m.quotes.count_ones());
        c.newlines += u64::from(m.newlines.count_ones());
    }
    for &b in blocks.remainder() {
        c.quotes += u64::from(b == b'"');
        c.newlines += u64::from(b == b'\n');
    }
    c
}

/// A field's raw bytes (quotes included, line end excluded) as absolute offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpan {
    pub start: usize,
    pub end: usize,
}

/// A record's bytes (line end excluded) and the physical line it starts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordSpan {
    pub start: usize,
    pub end: usize,
    pub line: u64,
}

/// What [`Tokenizer::next_record_sparse`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SparseRecord {
    pub span: RecordSpan,
    /// The number of fields (delimiters outside quotes plus one).
    pub fields: usize,
    pub sound: bool,
    /// Every byte of the record is ASCII (so it is valid UTF-8 without another look).
    pub ascii: bool,
}

/// The position of the `k`-th set bit of `bits` (0-based; 64 when there is none).
#[inline(always)]
fn nth_bit(mut bits: u64, k: usize) -> u32 {
    for _ in 0..k {
        bits &= bits.wrapping_sub(1);
    }
    bits.trailing_zeros()
}

/// What [`Tokenizer::skip_quiet_blocks`] did.
struct Skipped {
    /// It stopped at a block that is not quiet (now the current one).
    stopped: bool,
    /// A quiet block held a NUL byte.
    nul: bool,
    /// A quiet block held a byte that is not ASCII.
    high: bool,
}

/// A block's bytes by class ([`Classes::of`]).
struct Classes {
    /// Delimiters and newlines outside quotes.
    structural: u64,
    /// Every newline, in quotes or not.
    newlines: u64,
    /// [`Tokenizer::after_close`].
    after_close: u64,
    /// NUL bytes (for a last, short block, its padding's too: `load` leaves those out).
    nuls: u64,
    /// Bytes that are not ASCII.
    high: u64,
    /// Whether the bytes after the block start inside quotes.
    ends_in_quotes: bool,
    /// Whether its last byte is a closing quote.
    ends_with_closing_quote: bool,
}

impl Classes {
    /// The classes of a block of masks `m`, after a block that ended inside quotes
    /// (`carry`) or with a closing quote (`close_carry`).
    #[inline(always)]
    fn of<K: MaskKind>(m: &Masks, carry: bool, close_carry: bool) -> Classes {
        // SAFETY: the callers run with the features of `K` (see `Tokenizer::isa`).
        let inside = unsafe { K::prefix_xor(m.quotes) } ^ if carry { u64::MAX } else { 0 };
        // A closing quote is one after which the bytes are outside quotes again.
        let closing = m.quotes & !inside;
        let after = closing << 1 | u64::from(close_carry);
        Classes {
            structural: (m.newlines | m.delimiters) & !inside,
            newlines: m.newlines,
            after_close: after & !(m.quotes | m.newlines | m.delimiters),
            nuls: m.nuls,
            high: m.high,
            ends_in_quotes: inside >> 63 == 1,
            ends_with_closing_quote: closing >> 63 == 1,
        }
    }
}

/// Walks the records of `text[start..end]`, which must start at a record boundary.
pub struct Tokenizer<'t> {
    text: &'t [u8],
    end: usize,
    delimiter: u8,
    isa: Isa,
    /// Start of the block whose bits are being walked; `next_block` is the one after it.
    block: usize,
    next_block: usize,
    /// Structural bits of the current block not walked yet.
    bits: u64,
    newline_bits: u64,
    /// True when the bytes after the current block start inside quotes.
    carry: bool,
    /// Bytes of the current block not walked yet that follow a closing quote and are
    /// neither a quote, a delimiter nor a newline: text after a closing quote, or a
    /// `\r` that may not end the line ([`Tokenizer::next_record_sparse`] checks them).
    after_close: u64,
    /// True when the current block's last byte is a closing quote.
    close_carry: bool,
    /// NUL bytes of the current block not walked yet.
    nul_bits: u64,
    /// Bytes of the current block not walked yet that are not ASCII (kept by the sparse
    /// walk; the full walk, which does not tell, leaves them: a tokenizer walks one way).
    high_bits: u64,
    /// Whether the record last returned holds a NUL byte.
    record_nul: bool,
    /// Newlines in `[first byte, block)`.
    newlines_before_block: u64,
    first_line: u64,
    record_start: usize,
    record_line: u64,
    field_start: usize,
    done: bool,
}

impl<'t> Tokenizer<'t> {
    /// A tokenizer of `text[start..end]`, whose first record starts on line `line`.
    pub fn new(text: &'t [u8], start: usize, end: usize, line: u64, delimiter: u8) -> Self {
        let end = end.min(text.len());
        Tokenizer {
            text,
            end,
            delimiter,
            isa: Isa::detect(),
            block: start,
            next_block: start,
            bits: 0,
            newline_bits: 0,
            carry: false,
            after_close: 0,
            close_carry: false,
            nul_bits: 0,
            high_bits: 0,
            record_nul: false,
            newlines_before_block: 0,
            first_line: line,
            record_start: start,
            record_line: line,
            field_start: start,
            done: false,
        }
    }

    /// The same tokenizer, running the instructions of `isa` (tests run every one the
    /// processor has).
    #[cfg(test)]
    fn with_isa(mut self, isa: Isa) -> Self {
        self.isa = isa;
        self
    }

    /// The next record, its fields' raw spans in `fields` (cleared first). A blank line
    /// is a record with one empty field. `None` at the end.
    pub fn next_record(&mut self, fields: &mut Vec<FieldSpan>) -> Option<RecordSpan> {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512bw,popcnt,bmi1,lzcnt,pclmulqdq")]
            fn avx512(t: &mut Tokenizer<'_>, f: &mut Vec<FieldSpan>) -> Option<RecordSpan> {
                t.walk_record::<Avx512>(f)
            }
            #[target_feature(enable = "avx2,popcnt,bmi1,lzcnt,pclmulqdq")]
            fn avx2(t: &mut Tokenizer<'_>, f: &mut Vec<FieldSpan>) -> Option<RecordSpan> {
                t.walk_record::<Avx2>(f)
            }
            match self.isa {
                // SAFETY: `Isa::detect` found the features each function is compiled for.
                Isa::Avx512 => return unsafe { avx512(self, fields) },
                // SAFETY: as above, AVX2.
                Isa::Avx2 => return unsafe { avx2(self, fields) },
                Isa::Baseline => {}
            }
        }
        self.walk_record::<Baseline>(fields)
    }

    #[inline(always)]
    fn walk_record<K: MaskKind>(&mut self, fields: &mut Vec<FieldSpan>) -> Option<RecordSpan> {
        fields.clear();
        self.record_nul = false;
        loop {
            if self.bits == 0 {
                // Nothing structural left in this block (most blocks of a long field), nor
                // in the quiet ones after it.
                self.record_nul |= self.nul_bits != 0;
                self.nul_bits = 0;
                if self.next_block >= self.end {
                    return self.last_record(fields);
                }
                let skipped = self.skip_quiet_blocks::<K>(&mut 0, |c, _| c.structural == 0);
                self.record_nul |= skipped.nul;
                if !skipped.stopped && self.next_block < self.end {
                    self.load::<K>(self.next_block);
                }
                continue;
            }
            let line_ends = self.bits & self.newline_bits;
            if line_ends == 0 {
                // Delimiters only: every bit ends a field.
                self.push_fields(self.bits, fields);
                self.bits = 0;
                self.record_nul |= self.nul_bits != 0;
                self.nul_bits = 0;
            } else {
                let i = line_ends.trailing_zeros();
                let below = (1u64 << i) - 1;
                self.push_fields(self.bits & below, fields);
                self.bits &= !below & !(1u64 << i);
                self.record_nul |= self.nul_bits & below != 0;
                self.nul_bits &= !below;
                return Some(self.end_record(i, fields));
            }
            if self.next_block >= self.end {
                return self.last_record(fields);
            }
            self.load::<K>(self.next_block);
        }
    }

    /// Whether the record last returned by [`Tokenizer::next_record`] holds a NUL byte.
    pub fn record_has_nul(&self) -> bool {
        self.record_nul
    }

    /// Ends a field at each delimiter bit of `bits` (bits of the current block).
    #[inline(always)]
    fn push_fields(&mut self, mut bits: u64, fields: &mut Vec<FieldSpan>) {
        fields.reserve(bits.count_ones() as usize);
        while bits != 0 {
            let pos = self.block + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            fields.push(FieldSpan {
                start: self.field_start,
                end: pos,
            });
            self.field_start = pos + 1;
        }
    }

    /// Ends the record at the newline at bit `i` of the current block.
    #[inline(always)]
    fn end_record(&mut self, i: u32, fields: &mut Vec<FieldSpan>) -> RecordSpan {
        let (record, last) = self.finish_record(i);
        fields.push(last);
        record
    }

    /// Ends the record at the newline at bit `i` of the current block: the record and
    /// its last field.
    #[inline(always)]
    fn finish_record(&mut self, i: u32) -> (RecordSpan, FieldSpan) {
        let pos = self.block + i as usize;
        let end = self.trim_cr(pos);
        let last = FieldSpan {
            start: self.field_start,
            end,
        };
        let record = RecordSpan {
            start: self.record_start,
            end,
            line: self.record_line,
        };
        let upto = if i == 63 {
            u64::MAX
        } else {
            (1u64 << (i + 1)) - 1
        };
        let newlines =
            self.newlines_before_block + u64::from((self.newline_bits & upto).count_ones());
        self.record_line = self.first_line + newlines;
        self.record_start = pos + 1;
        self.field_start = pos + 1;
        (record, last)
    }

    /// Like [`Tokenizer::next_record`], but locates only the fields at the column
    /// indexes `wanted` (ascending), into `out` (`out[i]` for `wanted[i]`, `None` past the
    /// record's last field); the other delimiters are only counted. The record is
    /// `sound` when its quoted fields all end with their closing quote (no text after a
    /// closing quote, no `\r` but before the line end) and it ends with a line break: the
    /// caller reads an unsound one whole, with [`Tokenizer::next_record`]'s checks.
    pub fn next_record_sparse(
        &mut self,
        wanted: &[usize],
        out: &mut [Option<FieldSpan>],
    ) -> Option<SparseRecord> {
        #[cfg(target_arch = "x86_64")]
        {
            type Out<'o> = &'o mut [Option<FieldSpan>];
            #[target_feature(enable = "avx512bw,popcnt,bmi1,bmi2,lzcnt,pclmulqdq")]
            fn avx512(t: &mut Tokenizer<'_>, w: &[usize], o: Out<'_>) -> Option<SparseRecord> {
                t.walk_sparse::<Avx512>(w, o)
            }
            #[target_feature(enable = "avx2,popcnt,bmi1,lzcnt,pclmulqdq")]
            fn avx2(t: &mut Tokenizer<'_>, w: &[usize], o: Out<'_>) -> Option<SparseRecord> {
                t.walk_sparse::<Avx2>(w, o)
            }
            match self.isa {
                // SAFETY: `Isa::detect` found the features each function is compiled for.
                Isa::Avx512 => return unsafe { avx512(self, wanted, out) },
                // SAFETY: as above, AVX2.
                Isa::Avx2 => return unsafe { avx2(self, wanted, out) },
                Isa::Baseline => {}
            }
        }
        self.walk_sparse::<Baseline>(wanted, out)
    }

    #[inline(always)]
    fn walk_sparse<K: MaskKind>(
        &mut self,
        wanted: &[usize],
        out: &mut [Option<FieldSpan>],
    ) -> Option<SparseRecord> {
        out.fill(None);
        let (mut seen, mut next, mut sound, mut ascii) = (0usize, 0usize, true, true);
        loop {
            let line_ends = self.bits & self.newline_bits;
            let (delimiters, upto) = if line_ends == 0 {
                (self.bits, u64::MAX)
            } else {
                let i = line_ends.trailing_zeros();
                let below = (1u64 << i) - 1;
                (self.bits & below, below | 1 << i)
            };
            let count = delimiters.count_ones() as usize;
            while next < wanted.len() && wanted[next] < seen + count {
                let k = wanted[next] - seen;
                let start = match k {
                    0 => self.field_start,
                    // SAFETY: the callers run with the features of `K`.
                    _ => self.block + unsafe { K::nth_bit(delimiters, k - 1) } as usize + 1,
                };
                out[next] = Some(FieldSpan {
                    start,
                    // SAFETY: as above.
                    end: self.block + unsafe { K::nth_bit(delimiters, k) } as usize,
                });
                next += 1;
            }
            if delimiters != 0 {
                self.field_start = self.block + (64 - delimiters.leading_zeros()) as usize;
            }
            seen += count;
            sound &= self.line_end_crs_only(self.after_close & upto);
            // A row with NUL bytes is read whole, to be warned about.
            sound &= self.nul_bits & upto == 0;
            self.nul_bits &= !upto;
            ascii &= self.high_bits & upto == 0;
            self.high_bits &= !upto;
            self.after_close &= !upto;
            self.bits &= !upto;
            if line_ends != 0 {
                let (record, last) = self.finish_record(line_ends.trailing_zeros());
                if wanted.get(next) == Some(&seen) {
                    out[next] = Some(last);
                }
                return Some(SparseRecord {
                    span: record,
                    fields: seen + 1,
                    sound,
                    ascii,
                });
            }
            if self.next_block >= self.end {
                let mut last = Vec::new();
                let span = self.last_record(&mut last)?;
                if wanted.get(next) == Some(&seen) {
                    out[next] = last.first().copied();
                }
                // Without a line end the record may be cut: read it whole.
                return Some(SparseRecord {
                    span,
                    fields: seen + 1,
                    sound: false,
                    ascii: false,
                });
            }
            let want = wanted.get(next).copied().unwrap_or(usize::MAX);
            let skipped = self.skip_quiet_blocks::<K>(&mut seen, |c, fields| {
                c.structural & c.newlines == 0 && c.after_close == 0 && fields <= want
            });
            sound &= !skipped.nul;
            ascii &= !skipped.high;
            if !skipped.stopped && self.next_block < self.end {
                self.load::<K>(self.next_block);
            }
        }
    }

    /// Walks past the whole blocks after the current one that are *quiet* for the walk at
    /// hand (`quiet`, given a block's classes and the count of fields ended once its
    /// delimiters are counted into `seen`): a sparse walk's blocks without a line end, text
    /// after a closing quote or the end of the next wanted column; a full walk's blocks
    /// without structure (most of a long field). The walk's state stays in registers
    /// meanwhile, instead of going through the tokenizer's fields block by block.
    ///
    /// Returns whether it stopped at a block that is not quiet, which it then made the
    /// current one, unwalked (as [`Tokenizer::load`] does) — else the next block is not
    /// a whole one (or there is none) and the last quiet block is the current one, walked
    /// — and whether a quiet block held a NUL byte, or a byte that is not ASCII.
    #[inline(always)]
    fn skip_quiet_blocks<K: MaskKind>(
        &mut self,
        seen: &mut usize,
        quiet: impl Fn(&Classes, usize) -> bool,
    ) -> Skipped {
        let mut at = self.next_block;
        let mut carry = self.carry;
        let mut close_carry = self.close_carry;
        let mut newline_bits = self.newline_bits;
        let mut newlines_before = self.newlines_before_block;
        let mut field_start = self.field_start;
        let mut after_close = self.after_close;
        let (mut count, mut nul, mut high) = (*seen, false, false);
        let mut moved = false;
        let stopped = loop {
            if at + 64 > self.end {
                break false;
            }
            prefetch(self.text, at + PREFETCH_AHEAD);
            let block = &self.text[at..at + 64];
            // SAFETY: the callers run with the features of `K` (see `Tokenizer::isa`).
            let m = unsafe { K::masks(block.try_into().expect("64 bytes"), self.delimiter) };
            let classes = Classes::of::<K>(&m, carry, close_carry);
            let fields = classes.structural.count_ones() as usize;
            newlines_before += u64::from(newline_bits.count_ones());
            newline_bits = classes.newlines;
            carry = classes.ends_in_quotes;
            close_carry = classes.ends_with_closing_quote;
            after_close = classes.after_close;
            if !quiet(&classes, count + fields) {
                // This block becomes the current one, unwalked.
                self.bits = classes.structural;
                self.nul_bits = classes.nuls;
                self.high_bits = classes.high;
                self.block = at;
                break true;
            }
            count += fields;
            if classes.structural != 0 {
                field_start = at + (64 - classes.structural.leading_zeros()) as usize;
            }
            nul |= classes.nuls != 0;
            high |= classes.high != 0;
            moved = true;
            at += 64;
        };
        if !stopped && moved {
            // The last quiet block is the current one, walked whole.
            self.bits = 0;
            self.nul_bits = 0;
            self.high_bits = 0;
            self.block = at - 64;
        }
        if stopped || moved {
            self.next_block = self.block + 64;
            self.carry = carry;
            self.close_carry = close_carry;
            self.after_close = after_close;
            self.newline_bits = newline_bits;
            self.newlines_before_block = newlines_before;
        }
        self.field_start = field_start;
        *seen = count;
        Skipped { stopped, nul, high }
    }

    /// True when every bit of `after_close` (bytes after a closing quote) is a `\r` that
    /// `\r`s and a line feed follow: a line end, trimmed off the last field.
    fn line_end_crs_only(&self, mut after_close: u64) -> bool {
        while after_close != 0 {
            let pos = self.block + after_close.trailing_zeros() as usize;
            after_close &= after_close - 1;
            if pos >= self.end {
                continue; // padding past the end
            }
            let crs = self.text[pos..self.end]
                .iter()
                .take_while(|&&b| b == b'\r')
                .count();
            if crs == 0 || self.text.get(pos + crs) != Some(&b'\n') {
                return false;
            }
        }
        true
    }

    /// Makes the block at `at` the current one.
    #[inline(always)]
    fn load<K: MaskKind>(&mut self, at: usize) {
        prefetch(self.text, at + PREFETCH_AHEAD);
        let m = match self.text.get(at..at + 64) {
            // SAFETY: the callers run with the features of `K` (see `Tokenizer::isa`).
            Some(full) if at + 64 <= self.end => unsafe {
                K::masks(full.try_into().expect("64 bytes"), self.delimiter)
            },
            // SAFETY: as above.
            _ => unsafe { K::masks(&block_at(self.text, at, self.end), self.delimiter) },
        };
        let b = Classes::of::<K>(&m, self.carry, self.close_carry);
        self.carry = b.ends_in_quotes;
        self.close_carry = b.ends_with_closing_quote;
        self.after_close = b.after_close;
        // The padding of a last, short block is NUL: not the text's.
        self.nul_bits = match self.end - at {
            n @ 0..64 => b.nuls & ((1u64 << n) - 1),
            _ => b.nuls,
        };
        self.high_bits = b.high;
        self.newlines_before_block += u64::from(self.newline_bits.count_ones());
        self.newline_bits = b.newlines;
        self.bits = b.structural;
        self.block = at;
        self.next_block = at + 64;
    }

    /// The record after the last newline, if the text does not end with one.
    fn last_record(&mut self, fields: &mut Vec<FieldSpan>) -> Option<RecordSpan> {
        if self.done || self.record_start >= self.end {
            self.done = true;
            return None;
        }
        self.done = true;
        let end = self.trim_cr(self.end);
        fields.push(FieldSpan {
            start: self.field_start,
            end,
        });
        Some(RecordSpan {
            start: self.record_start,
            end,
            line: self.record_line,
        })
    }

    /// A line end is `\n` or `\r\n`: the `\r` belongs to neither field nor record. So
    /// do the extra ones of `\r\r\n` (a CRLF file converted to CRLF again, or written
    /// through a text-mode stream on Windows).
    fn trim_cr(&self, mut end: usize) -> usize {
        while end > self.field_start && self.text[end - 1] == b'\r' {
            end -= 1;
        }
        end
    }

    /// The line the next record starts on: after a record ended by a line break, that
    /// record's line plus the line breaks inside it plus one.
    pub fn next_line(&self) -> u64 {
        self.record_line
    }

    /// True when the text ended inside quotes (an unterminated quoted field).
    pub fn ended_in_quotes(&self) -> bool {
        self.carry
    }
}

// JSON's classes of bytes with the same kinds (the JSON readers' structure).
mod json;
pub(crate) use json::{opaque, run_json, JsonJob, JsonKind};

#[cfg(test)]
mod tests;
