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
        for i in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * i).cast::<__m128i>());
            let bits = |c| u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) as u16) << (16 * i);
            m.quotes |= bits(q);
            m.newlines |= bits(n);
            m.delimiters |= bits(d);
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

/// Counts quote bytes and newlines in `bytes` (for planning chunks).
pub fn count_quotes_newlines(bytes: &[u8]) -> (u64, u64) {
    let (mut quotes, mut newlines) = (0u64, 0u64);
    let mut blocks = bytes.chunks_exact(64);
    for block in blocks.by_ref() {
        let block: &[u8; 64] = block.try_into().expect("chunks_exact gives 64 bytes");
        let m = masks(block, b'"');
        quotes += u64::from(m.quotes.count_ones());
        newlines += u64::from(m.newlines.count_ones());
    }
    for &b in blocks.remainder() {
        quotes += u64::from(b == b'"');
        newlines += u64::from(b == b'\n');
    }
    (quotes, newlines)
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

/// Walks the records of `text[start..end]`, which must start at a record boundary.
pub struct Tokenizer<'t> {
    text: &'t [u8],
    end: usize,
    delimiter: u8,
    /// Start of the block whose bits are being walked; `next_block` is the one after it.
    block: usize,
    next_block: usize,
    /// Structural bits of the current block not walked yet.
    bits: u64,
    newline_bits: u64,
    /// True when the bytes after the current block start inside quotes.
    carry: bool,
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
            block: start,
            next_block: start,
            bits: 0,
            newline_bits: 0,
            carry: false,
            newlines_before_block: 0,
            first_line: line,
            record_start: start,
            record_line: line,
            field_start: start,
            done: false,
        }
    }

    /// The next record, its fields' raw spans in `fields` (cleared first). A blank line
    /// is a record with one empty field. `None` at the end.
    pub fn next_record(&mut self, fields: &mut Vec<FieldSpan>) -> Option<RecordSpan> {
        fields.clear();
        loop {
            while self.bits != 0 {
                let i = self.bits.trailing_zeros();
                self.bits &= self.bits - 1;
                let pos = self.block + i as usize;
                if self.text[pos] != b'\n' {
                    fields.push(FieldSpan {
                        start: self.field_start,
                        end: pos,
                    });
                    self.field_start = pos + 1;
                    continue;
                }
                let end = self.trim_cr(pos);
                fields.push(FieldSpan {
                    start: self.field_start,
                    end,
                });
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
                return Some(record);
            }
            if self.next_block >= self.end {
                return self.last_record(fields);
            }
            self.load(self.next_block);
        }
    }

    fn load(&mut self, at: usize) {
        let m = match self.text.get(at..at + 64) {
            Some(full) if at + 64 <= self.end => {
                masks(full.try_into().expect("64 bytes"), self.delimiter)
            }
            _ => masks(&block_at(self.text, at, self.end), self.delimiter),
        };
        let inside = prefix_xor(m.quotes) ^ if self.carry { u64::MAX } else { 0 };
        self.carry = inside >> 63 == 1;
        self.newlines_before_block += u64::from(self.newline_bits.count_ones());
        self.newline_bits = m.newlines;
        self.bits = (m.newlines | m.delimiters) & !inside;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &[u8], delim: u8) -> Vec<(u64, Vec<String>)> {
        let mut t = Tokenizer::new(text, 0, text.len(), 1, delim);
        let mut fields = Vec::new();
        let mut out = Vec::new();
        while let Some(r) = t.next_record(&mut fields) {
            let f = fields
                .iter()
                .map(|f| String::from_utf8_lossy(&text[f.start..f.end]).into_owned())
                .collect();
            out.push((r.line, f));
        }
        out
    }

    #[test]
    fn prefix_xor_marks_inside_quotes() {
        // quotes at 1 and 4: bytes 1..4 are inside.
        assert_eq!(prefix_xor(0b10010), 0b01110);
    }

    #[test]
    fn splits_records_and_fields_across_blocks() {
        let long = "x".repeat(100);
        let text = format!("a,\"b,\r\nc\"\r\n\"{long}\",\"q\"\"q\"\r\n\nlast,1");
        let got = tokens(text.as_bytes(), b',');
        assert_eq!(
            got,
            vec![
                (1, vec!["a".into(), "\"b,\r\nc\"".into()]),
                (3, vec![format!("\"{long}\""), "\"q\"\"q\"".into()]),
                (4, vec!["".into()]),
                (5, vec!["last".into(), "1".into()]),
            ]
        );
    }

    #[test]
    fn same_tokens_as_a_byte_by_byte_reference() {
        // A reference tokenizer written the obvious way, on many shapes and lengths.
        fn reference(text: &[u8]) -> Vec<(u64, Vec<String>)> {
            let (mut out, mut fields, mut field, mut inside, mut line, mut start_line) =
                (vec![], vec![], vec![], false, 1u64, 1u64);
            for &b in text {
                match b {
                    b'"' => {
                        inside = !inside;
                        field.push(b);
                    }
                    b',' if !inside => fields.push(std::mem::take(&mut field)),
                    b'\n' => {
                        line += 1;
                        if inside {
                            field.push(b);
                        } else {
                            while field.last() == Some(&b'\r') {
                                field.pop();
                            }
                            fields.push(std::mem::take(&mut field));
                            let f = fields
                                .drain(..)
                                .map(|f: Vec<u8>| String::from_utf8_lossy(&f).into_owned())
                                .collect();
                            out.push((start_line, f));
                            start_line = line;
                        }
                    }
                    _ => field.push(b),
                }
            }
            if !field.is_empty() || !fields.is_empty() {
                while field.last() == Some(&b'\r') {
                    field.pop();
                }
                fields.push(field);
                let f = fields
                    .into_iter()
                    .map(|f| String::from_utf8_lossy(&f).into_owned())
                    .collect();
                out.push((start_line, f));
            }
            out
        }
        let pieces: [&[u8]; 8] = [b"\"", b",", b"\r\n", b"\n", b"ab", b"\"\"", b"xyz,", b"\r"];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for len in 0..400 {
            let mut text = Vec::new();
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.extend_from_slice(pieces[(seed % 8) as usize]);
            }
            assert_eq!(
                tokens(&text, b','),
                reference(&text),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
        }
    }

    #[test]
    fn counts() {
        let text = "\"a\"\n".repeat(40);
        assert_eq!(count_quotes_newlines(text.as_bytes()), (80, 40));
    }
}
