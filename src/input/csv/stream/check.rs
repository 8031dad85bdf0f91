//! Follows a record too long to hold, byte by byte, and works out what `scan_chunk` would
//! make of it: the same fields (split as the tokenizer splits them), the same checks in
//! the same order (those of `fields_of`, the field count, the undoubled quote in a field
//! holding a line break) and the same damage, so that the message is the one a whole-text
//! read gives.

use super::super::damage::Damage;
use super::size_name;

/// What a whole-text read makes of the long record.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// It lost the quote parity: its first line is malformed and reading resumes on its
    /// second line, with the parity flipped.
    Resync { line: u64, message: String },
    /// Malformed (or, if `message` is `None`, a blank line); reading goes on after it.
    Malformed {
        line: u64,
        message: Option<String>,
        next: usize,
        next_line: u64,
    },
}

/// The field being read.
#[derive(Clone, Copy, Debug, Default)]
struct FieldState {
    /// Bytes so far.
    len: usize,
    first: u8,
    /// The last byte before the trailing run of carriage returns.
    last: u8,
    /// Trailing carriage returns (cut off if the record ends here).
    cr: usize,
    /// Quote bytes after the first byte.
    quotes: u64,
    /// A line feed after the first byte.
    newline: bool,
    /// Quote bytes in the run that ends at `last` (after the first byte).
    run: u64,
    /// A run of quotes of odd length, after the first byte, that has ended.
    odd_run: bool,
}

impl FieldState {
    #[inline]
    fn push(&mut self, b: u8) {
        let at = self.len;
        self.len += 1;
        if b == b'\r' {
            self.cr += 1;
            if at == 0 {
                self.first = b;
            }
            return;
        }
        if at == 0 {
            self.first = b;
            self.last = b;
            return;
        }
        if self.cr > 0 {
            // The carriage returns are inside the field: the quote run before them ended.
            self.odd_run |= self.run % 2 == 1;
            self.run = 0;
            self.cr = 0;
        }
        if b == b'"' {
            self.quotes += 1;
            self.run += 1;
        } else {
            self.odd_run |= self.run % 2 == 1;
            self.run = 0;
            self.newline |= b == b'\n';
        }
        self.last = b;
    }

    /// `fields_of` on this field, whose trailing carriage returns are cut off when it
    /// ends the record (`last_field`): `Err` as it words it, else whether it is quoted
    /// and holds both a line break and an undoubled quote.
    fn finish(&self, last_field: bool) -> Result<bool, &'static str> {
        let (len, last) = if last_field {
            (self.len - self.cr, self.last)
        } else if self.cr > 0 {
            (self.len, b'\r')
        } else {
            (self.len, self.last)
        };
        if len == 0 || self.first != b'"' {
            return Ok(false);
        }
        if len < 2 || last != b'"' {
            return Err(if self.quotes > 0 {
                "text after a closing quote"
            } else {
                "unterminated quoted field"
            });
        }
        // The content runs up to the closing quote, the last of the final run.
        let undoubled = self.odd_run || (self.run - 1) % 2 == 1;
        Ok(self.newline && undoubled)
    }
}

/// See the module documentation.
#[derive(Debug)]
pub(super) struct RecordCheck {
    start: usize,
    line: u64,
    delimiter: u8,
    /// The next byte to look at.
    pos: usize,
    inside: bool,
    /// Line feeds inside the record.
    newlines: u64,
    /// Offset just after the first of them.
    second: Option<usize>,
    nuls: usize,
    bare_cr: bool,
    /// Carriage returns just seen (bare unless a line feed follows).
    cr_run: usize,
    field: FieldState,
    fields: usize,
    /// `fields_of`'s error: that of the first field in error.
    error: Option<&'static str>,
    break_undoubled: bool,
    /// Where the record ends: its line feed, or the end of the input; and the length of
    /// the record without its line end.
    end: Option<(usize, bool, usize)>,
}

impl RecordCheck {
    pub fn new(start: usize, line: u64, delimiter: u8) -> RecordCheck {
        RecordCheck {
            start,
            line,
            delimiter,
            pos: start,
            inside: false,
            newlines: 0,
            second: None,
            nuls: 0,
            bare_cr: false,
            cr_run: 0,
            field: FieldState::default(),
            fields: 0,
            error: None,
            break_undoubled: false,
            end: None,
        }
    }

    /// The next offset to look at (past the record once it ended).
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Where the record's second line starts, and its number, once seen.
    pub fn second_line(&self) -> Option<(usize, u64)> {
        self.second.map(|at| (at, self.line + 1))
    }

    /// The offset of the record's line feed (or of the input's end), once seen.
    pub fn end(&self) -> Option<usize> {
        self.end.map(|(at, _, _)| at)
    }

    /// Looks at `text` (which holds the whole from offset `base`) up to offset `limit`,
    /// or to the record's end; `end` when `limit` is the end of the input.
    pub fn feed(&mut self, text: &[u8], base: usize, limit: usize, end: bool) {
        if self.end.is_some() {
            return;
        }
        let bytes = &text[self.pos - base..limit - base];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' && !self.inside {
                let at = self.pos + i;
                self.pos = at + 1;
                self.finish(at, false);
                return;
            }
            if self.cr_run > 0 && b != b'\r' {
                self.bare_cr |= b != b'\n' || self.cr_run > 1;
                self.cr_run = 0;
            }
            match b {
                b'"' => self.inside = !self.inside,
                b'\n' => {
                    self.newlines += 1;
                    if self.second.is_none() {
                        self.second = Some(self.pos + i + 1);
                    }
                }
                b'\r' => self.cr_run += 1,
                0 => self.nuls += 1,
                _ => {}
            }
            if b == self.delimiter && !self.inside {
                self.end_field(false);
            } else {
                self.field.push(b);
            }
        }
        self.pos = limit;
        if end {
            self.finish(limit, true);
        }
    }

    fn end_field(&mut self, last: bool) {
        match self.field.finish(last) {
            Ok(flag) => self.break_undoubled |= flag,
            Err(why) => {
                self.error.get_or_insert(why);
            }
        }
        self.fields += 1;
        self.field = FieldState::default();
    }

    fn finish(&mut self, at: usize, eof: bool) {
        // The line end's carriage returns are neither field nor record.
        let trimmed = at - self.start - self.field.cr;
        self.end_field(true);
        self.end = Some((at, eof, trimmed));
    }

    /// What a whole-text read makes of the record, once it ended; `expected` is the
    /// header's field count. A well-formed record (which would be read) cannot be: it is
    /// malformed here, as longer than `max_record`.
    pub fn outcome(&self, expected: usize, max_record: usize) -> Option<Outcome> {
        let (at, eof, len) = self.end?;
        let (next, next_line) = (self.pos, self.line + self.newlines + 1);
        let malformed = |message: Option<String>| Outcome::Malformed {
            line: self.line,
            message,
            next,
            next_line,
        };
        debug_assert!(at < next || eof);
        if len == 0 {
            return Some(malformed(None)); // a blank line
        }
        let why: Option<std::borrow::Cow<'static, str>> = if len > u32::MAX as usize {
            Some("record longer than 4 GiB".into())
        } else if let Some(e) = self.error {
            Some(e.into())
        } else if self.fields < expected {
            Some(
                format!(
                    "expected {expected} fields as in the header, found {}",
                    self.fields
                )
                .into(),
            )
        } else if self.newlines > 0 && self.break_undoubled {
            Some("a quote inside a quoted field is not doubled".into())
        } else {
            None
        };
        let damage = Damage::new(eof, self.bare_cr, self.nuls);
        Some(match why {
            Some(why) if self.newlines > 0 => Outcome::Resync {
                line: self.line,
                // Worded as `scan_chunk` words it (running to the end is not a cut).
                message: format!(
                    "{why}; this record runs over {} lines, so a quote in it is probably \
                     stray or cut: its first line is counted as malformed, and reading \
                     resumes on line {}{}",
                    self.newlines + 1,
                    self.line + 1,
                    Damage::new(false, self.bare_cr, self.nuls)
                ),
            },
            Some(why) => malformed(Some(format!("{why}{damage}"))),
            None if self.fields != expected => malformed(Some(format!(
                "expected {expected} fields as in the header, found {}{damage}",
                self.fields
            ))),
            None => malformed(Some(format!(
                "this record is longer than {}, more than is held when reading a stream \
                 (standard input or a pipe), so it is counted as malformed: save the input to \
                 a file and read the file to have it read",
                size_name(max_record)
            ))),
        })
    }
}
