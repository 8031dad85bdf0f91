//! The structure splitter: finds the record objects of a JSON export without parsing them.
//!
//! A *record object* is a top-level object, or an object element of a top-level array.
//! The splitter walks the bytes between records itself (top-level whitespace, `[`, `,`,
//! `]`, garbage) and hands each record's start to its caller, which either parses the
//! record (and so learns where it ends) or asks [`Splitter::skip_record`] to find its end
//! by bracket matching. Both agree on every valid record, so the planner (which only
//! skips) and the workers (which parse) cut the file at the same places.
//!
//! Its rules are chosen so that a broken file costs as little as possible:
//!
//! - a string ends at its closing quote or, since a JSON string cannot hold a raw line
//!   break, at the end of the line: an unterminated string does not swallow the rest
//!   of the file;
//! - a backslash escapes the next byte (except a line break) everywhere;
//! - closing brackets close whatever is open (their kind is the parser's business);
//! - text between top-level values, and array elements that are not objects, are
//!   reported once per run and skipped.
//!
//! Strings, escapes and nesting are read by the one JSON [`lex`]er, under its
//! [`SPLITTER`] rules; bytes are searched several at a time there (most of a JSON export is
//! string content and indentation, which no rule cares about).

use crate::diag::excerpt;
use crate::input::json_lex::{self as lex, count_lines, skip_ws, SPLITTER};

/// Where a splitter stops: the end of the file, or (JSON Lines) of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Bound {
    File,
    Line,
}

impl Bound {
    fn name(self) -> &'static str {
        match self {
            Bound::File => "file",
            Bound::Line => "line",
        }
    }
}

/// What the splitter found next.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// A record object starts at `start`, on `line`. The caller must move past it with
    /// [`Splitter::record_parsed`] or [`Splitter::skip_record`].
    Record { start: usize, line: u64 },
    /// A broken value starting on `line`; it has been skipped.
    Error { line: u64, reason: String },
    /// Nothing more before the limit.
    End,
}

/// Counts lines up to increasing offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct LineCounter {
    pos: usize,
    line: u64,
}

impl LineCounter {
    pub fn new(pos: usize, line: u64) -> Self {
        LineCounter { pos, line }
    }

    /// The line of offset `p` (not before the last offset asked).
    pub fn at(&mut self, s: &[u8], p: usize) -> u64 {
        if p > self.pos {
            self.line += count_lines(s.get(self.pos..p).unwrap_or_default());
            self.pos = p;
        }
        self.line
    }
}

/// The splitter's whole state between two steps: enough to resume it elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Snapshot {
    pub pos: usize,
    pub line: u64,
    /// Inside a top-level array (between elements): the line of its `[`.
    pub array: Option<u64>,
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub(super) struct Splitter {
    pos: usize,
    lines: LineCounter,
    array: Option<u64>,
    bound: Bound,
}

impl Splitter {
    pub fn new(pos: usize, line: u64, bound: Bound) -> Self {
        Splitter::resume(
            Snapshot {
                pos,
                line,
                array: None,
            },
            bound,
        )
    }

    pub fn resume(snap: Snapshot, bound: Bound) -> Self {
        Splitter {
            pos: snap.pos,
            lines: LineCounter::new(snap.pos, snap.line),
            array: snap.array,
            bound,
        }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn snapshot(&mut self, s: &[u8]) -> Snapshot {
        Snapshot {
            pos: self.pos,
            line: self.lines.at(s, self.pos),
            array: self.array,
        }
    }

    /// The line of `p`, at or after the last record or error start.
    pub fn line_at(&mut self, s: &[u8], p: usize) -> u64 {
        self.lines.at(s, p)
    }

    /// The next step before `limit`.
    pub fn next(&mut self, s: &[u8], limit: usize) -> Step {
        let limit = limit.min(s.len());
        loop {
            self.pos = skip_ws(&s[..limit], self.pos);
            if self.pos >= limit {
                self.pos = self.pos.max(limit);
                return match self.array.take() {
                    Some(line) => Step::Error {
                        line,
                        reason: format!(
                            "truncated: the array that starts here is not closed at the end of the {}",
                            self.bound.name()
                        ),
                    },
                    None => Step::End,
                };
            }
            let start = self.pos;
            match (s[start], self.array) {
                (b'{', _) => {
                    return Step::Record {
                        start,
                        line: self.lines.at(s, start),
                    }
                }
                (b'[', None) => {
                    self.array = Some(self.lines.at(s, start));
                    self.pos += 1;
                }
                (b',', Some(_)) => self.pos += 1,
                (b']', Some(_)) => {
                    self.array = None;
                    self.pos += 1;
                }
                (_, None) => {
                    self.pos = skip_garbage(s, start, limit);
                    return self.error(s, start, "unexpected text between JSON values");
                }
                (_, Some(_)) => {
                    self.pos = skip_element(s, start, limit);
                    return self.error(s, start, "array element is not an object");
                }
            }
        }
    }

    fn error(&mut self, s: &[u8], start: usize, what: &str) -> Step {
        let text = s.get(start..self.pos).unwrap_or_default().trim_ascii();
        Step::Error {
            line: self.lines.at(s, start),
            reason: format!("{what}: '{}'", excerpt(text)),
        }
    }

    /// After [`Step::Record`]: the caller read the record up to `end`, and may know how
    /// many line feeds it holds (then they are not counted again).
    pub fn record_parsed(&mut self, end: usize, line_feeds: Option<u64>) {
        if let Some(n) = line_feeds.filter(|_| self.lines.pos == self.pos) {
            self.lines = LineCounter::new(end, self.lines.line + n);
        }
        self.pos = end;
    }

    /// After [`Step::Record`]: finds the record's end by bracket matching and moves past
    /// it. `None` when it is not closed before `limit` (the splitter is then at `limit`).
    pub fn skip_record(&mut self, s: &[u8], limit: usize) -> Option<usize> {
        let limit = limit.min(s.len());
        let end = SPLITTER.skip_nested(&s[..limit], self.pos);
        if end.is_none() {
            // The open record is the news: the array around it is not reported again.
            self.array = None;
        }
        self.pos = end.unwrap_or(limit);
        end
    }

    pub fn bound(&self) -> Bound {
        self.bound
    }
}

/// Skips text between top-level values, up to the next `{` or `[` (or `limit`).
fn skip_garbage(s: &[u8], mut p: usize, limit: usize) -> usize {
    while p < limit {
        match s[p] {
            b'{' | b'[' => return p,
            b'"' => p = skip_string(s, p + 1, limit),
            b'\\' => p = SPLITTER.after_stray_backslash(s, p),
            _ => p += 1,
        }
    }
    limit
}

/// Skips a string whose opening quote is just before `p`; returns the offset after its
/// closing quote, or of the line break (or `limit`) that ends it unterminated.
fn skip_string(s: &[u8], p: usize, limit: usize) -> usize {
    match SPLITTER.string_end(&s[..limit], p) {
        lex::StringEnd::Closed { after, .. } => after,
        lex::StringEnd::LineBreak(at) => at,
        lex::StringEnd::Open => limit,
    }
}

/// Skips an array element that is not an object, up to the next `,`, `]` or `{` at its
/// own level (or `limit`). Nested arrays are skipped whole.
fn skip_element(s: &[u8], mut p: usize, limit: usize) -> usize {
    let mut depth = 0u64;
    while p < limit {
        match s[p] {
            b',' | b']' | b'{' if depth == 0 => return p,
            b'"' => {
                p = skip_string(s, p + 1, limit);
                continue;
            }
            b'\\' => {
                p = SPLITTER.after_stray_backslash(s, p);
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        p += 1;
    }
    limit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(text: &str, bound: Bound) -> Vec<String> {
        let s = text.as_bytes();
        let mut sp = Splitter::new(0, 1, bound);
        let mut out = Vec::new();
        for _ in 0..1000 {
            match sp.next(s, s.len()) {
                Step::End => return out,
                Step::Error { line, reason } => out.push(format!("{line}: {reason}")),
                Step::Record { start, line } => match sp.skip_record(s, s.len()) {
                    Some(end) => out.push(format!("{line}: {}", &text[start..end])),
                    None => out.push(format!("{line}: open {}", &text[start..])),
                },
            }
        }
        panic!("no end");
    }

    #[test]
    fn splits_arrays_objects_and_concatenations() {
        assert_eq!(
            steps(
                "[{\"a\":1},\r\n {\"b\":[2]}]\r\n{\"c\":{}}[ ]{}",
                Bound::File
            ),
            vec!["1: {\"a\":1}", "2: {\"b\":[2]}", "3: {\"c\":{}}", "3: {}"]
        );
    }

    #[test]
    fn strings_hide_brackets_and_escaped_quotes() {
        assert_eq!(
            steps(r#"[{"a":"}]\"{["},{"b":"\\"}]"#, Bound::File),
            vec![r#"1: {"a":"}]\"{["}"#, r#"1: {"b":"\\"}"#]
        );
    }

    #[test]
    fn reports_garbage_and_non_objects_and_resumes() {
        assert_eq!(
            steps(
                "[{\"a\":1}, 42, \"x]\", [1,{}], {\"b\":2}]\nnot json\n[{}]",
                Bound::File
            ),
            vec![
                "1: {\"a\":1}",
                "1: array element is not an object: '42'",
                "1: array element is not an object: '\"x]\"'",
                "1: array element is not an object: '[1,{}]'",
                "1: {\"b\":2}",
                "2: unexpected text between JSON values: 'not json'",
                "3: {}",
            ]
        );
    }

    #[test]
    fn truncation_is_reported_where_the_value_starts() {
        assert_eq!(
            steps("[\n{\"a\":1},\n{\"b\":\n\"x", Bound::File),
            vec!["2: {\"a\":1}", "3: open {\"b\":\n\"x"]
        );
        assert_eq!(
            steps("[\n{\"a\":1},\n", Bound::Line),
            vec![
                "2: {\"a\":1}",
                "1: truncated: the array that starts here is not closed at the end of the line"
            ]
        );
    }

    #[test]
    fn an_unterminated_string_ends_at_its_line() {
        assert_eq!(
            steps("[{\"a\":\"x\n},{\"b\":1}]", Bound::File),
            vec!["1: {\"a\":\"x\n}", "2: {\"b\":1}"]
        );
    }
}
