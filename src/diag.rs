//! Diagnostics: bad rows and warnings, with file and line, safe to print.
//!
//! Text from the input is written by whoever sent the mail; before it reaches the
//! terminal its control characters are escaped so it cannot move the cursor or
//! re-title the window, and so are the invisible characters that would make it read
//! differently from what it is ([`sanitize`]).
//!
//! Every message of a run reaches stderr through [`say`], which ignores a closed or
//! broken stderr (`mbxaudit ... 2>&1 | head`): a message that cannot be shown is not a
//! reason to stop, and `eprintln!` would panic there.
//!
//! [`path_text`] names a file losslessly, so that two files whose names differ only in
//! bytes that are not UTF-8 are never shown (or recorded) as one.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

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

/// Writes one line to stderr. Write errors are ignored: a closed stderr (`2>&-`, a
/// reader that went away) must not stop a run or lose its outputs.
pub fn say(text: &str) {
    let mut line = String::with_capacity(text.len() + 1);
    line.push_str(text);
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// True for characters that change how the text around them reads without showing
/// themselves: the bidirectional embeddings, overrides and isolates, the direction marks
/// (LRM, RLM, ALM), the line and paragraph separators, the soft hyphen, the zero-width
/// space and the byte-order mark (zero-width no-break space).
fn is_deceptive(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{00AD}'
            | '\u{200B}'
            | '\u{FEFF}'
    )
}

/// Escapes control characters (C0, DEL, C1) and the characters [`is_deceptive`] names,
/// as `\u{..}`.
pub fn sanitize(text: &str) -> String {
    // Printable ASCII, the usual case, has nothing to escape.
    if text.bytes().all(|b| matches!(b, b' '..=b'~')) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_deceptive(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A path as text, losslessly: two different paths never give the same text. A path that
/// is valid UTF-8 is itself, but on Unix every backslash in it is doubled (`\\`) and every
/// byte that is not part of valid UTF-8 is written `\xHH` (two lower-case hex digits), so
/// `a\xff.csv` and `a\xfe.csv` stay apart and the bytes can be recovered. Elsewhere (paths
/// are UTF-16 on Windows, and `\` is the separator) it is the path as displayed.
pub fn path_text(path: &Path) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        escape_bytes(path.as_os_str().as_bytes())
    }
    #[cfg(not(unix))]
    {
        path.display().to_string()
    }
}

/// The lossless text of [`path_text`] for a Unix path's bytes.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
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
        assert_eq!(
            sanitize("x\u{200E}\u{200F}\u{61C}\u{2028}\u{2029}\u{AD}\u{200B}\u{FEFF}y"),
            "x\\u{200e}\\u{200f}\\u{61c}\\u{2028}\\u{2029}\\u{ad}\\u{200b}\\u{feff}y"
        );
        assert_eq!(sanitize("Réunion 👩\u{200D}💻"), "Réunion 👩\u{200D}💻");
        // Every ASCII character: the printable ones pass as they are, the others are
        // escaped, alone or among printable ones.
        for b in 0u8..128 {
            let c = char::from(b);
            let printable = (b' '..=b'~').contains(&b);
            assert_eq!(
                sanitize(&c.to_string()) == c.to_string(),
                printable,
                "{b:#x}"
            );
            assert_eq!(sanitize(&format!("ab{c}")).len() == 3, printable, "{b:#x}");
        }
    }

    #[test]
    fn path_text_is_lossless() {
        assert_eq!(escape_bytes(b"dir/a.csv"), "dir/a.csv");
        assert_eq!(escape_bytes("é.csv".as_bytes()), "é.csv");
        assert_eq!(escape_bytes(b"a\xff.csv"), "a\\xff.csv");
        assert_eq!(escape_bytes(b"a\\xff.csv"), "a\\\\xff.csv");
        assert_ne!(escape_bytes(b"a\xff"), escape_bytes(b"a\xfe"));
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
