//! Diagnostics: bad rows and warnings, with file and line, safe to print.
//!
//! Text from the input is written by whoever sent the mail; before it reaches the
//! terminal its control characters are escaped so it cannot move the cursor or
//! re-title the window.

use std::fmt::Write as _;

/// How many messages of one kind are printed before the rest are only counted.
pub const PRINT_LIMIT: usize = 20;

/// One problem at one place in one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    pub line: u64,
    pub message: String,
}

/// A capped list of diagnostics that still counts everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiagList {
    pub first: Vec<Diag>,
    pub total: u64,
}

impl DiagList {
    pub fn push(&mut self, line: u64, message: impl FnOnce() -> String) {
        self.total += 1;
        if self.first.len() < PRINT_LIMIT {
            self.first.push(Diag {
                line,
                message: message(),
            });
        }
    }

    /// Appends `other`, which comes after `self` in the input.
    pub fn extend(&mut self, other: DiagList) {
        self.total += other.total;
        let room = PRINT_LIMIT.saturating_sub(self.first.len());
        self.first.extend(other.first.into_iter().take(room));
    }
}

/// Escapes control characters (C0, DEL, C1) and bidirectional overrides.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') =>
            {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A short, printable excerpt of input bytes for a message.
pub fn excerpt(bytes: &[u8]) -> String {
    const MAX: usize = 60;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX * 4)]);
    let mut s: String = text.chars().take(MAX).collect();
    if text.chars().count() > MAX {
        s.push('…');
    }
    sanitize(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(
            sanitize("a\x1b[2Jb\u{202E}c\n"),
            "a\\u{1b}[2Jb\\u{202e}c\\n"
        );
    }

    #[test]
    fn list_caps_but_counts() {
        let mut a = DiagList::default();
        for i in 0..15 {
            a.push(i, || "x".into());
        }
        let mut b = DiagList::default();
        for i in 0..15 {
            b.push(100 + i, || "y".into());
        }
        a.extend(b);
        assert_eq!(a.total, 30);
        assert_eq!(a.first.len(), PRINT_LIMIT);
        assert_eq!(a.first[15].line, 100);
    }
}
