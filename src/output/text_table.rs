//! Aligned text tables for a terminal: the `search --format table` rows, and the tables
//! `summary` prints.
//!
//! Cell text comes from the input (an attacker may have written it), so every cell is
//! passed through [`crate::diag::sanitize`] before it reaches the terminal, and long
//! cells are cut (with `…`) so that one user-agent string does not push every other
//! column off the screen. Widths are display widths (a CJK character takes two columns).

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::diag::sanitize;

/// How a column is aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// `text` made safe for a terminal and cut to at most `max` display columns.
pub fn clean(text: &str, max: usize) -> String {
    let safe = sanitize(text);
    if safe.width() <= max {
        return safe;
    }
    let mut out = String::with_capacity(max + 3);
    let mut width = 0;
    for c in safe.chars() {
        let w = c.width().unwrap_or(0);
        if width + w + 1 > max {
            break;
        }
        width += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// Column widths, measured over every cell, then used to pad each line.
#[derive(Clone, Debug)]
pub struct Aligner {
    align: Vec<Align>,
    widths: Vec<usize>,
}

impl Aligner {
    pub fn new(align: Vec<Align>) -> Aligner {
        let widths = vec![0; align.len()];
        Aligner { align, widths }
    }

    /// Widens the columns to hold `cells` (already [`clean`]ed).
    pub fn measure<S: AsRef<str>>(&mut self, cells: &[S]) {
        for (w, c) in self.widths.iter_mut().zip(cells) {
            *w = (*w).max(c.as_ref().width());
        }
    }

    /// Appends one padded line (two spaces between columns, no trailing blanks) and `\n`.
    pub fn line<S: AsRef<str>>(&self, cells: &[S], indent: &str, out: &mut String) {
        let start = out.len();
        out.push_str(indent);
        for (i, ((cell, &w), &a)) in cells.iter().zip(&self.widths).zip(&self.align).enumerate() {
            let cell = cell.as_ref();
            if i > 0 {
                out.push_str("  ");
            }
            let pad = w.saturating_sub(cell.width());
            if a == Align::Right {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        let end = out[start..].trim_end().len() + start;
        out.truncate(end);
        out.push('\n');
    }

    /// Appends a rule of dashes under every column.
    pub fn rule(&self, indent: &str, out: &mut String) {
        let dashes: Vec<String> = self.widths.iter().map(|&w| "-".repeat(w)).collect();
        self.line(&dashes, indent, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_and_escapes() {
        assert_eq!(clean("a\x1b[2Jb", 40), "a\\u{1b}[2Jb");
        assert_eq!(clean("abcdefghij", 5), "abcd…");
        assert_eq!(clean("日本語テキスト", 7), "日本語…");
        assert_eq!(clean("abc", 3), "abc");
    }

    #[test]
    fn aligns() {
        let mut a = Aligner::new(vec![Align::Left, Align::Right]);
        a.measure(&["Name", "Count"]);
        a.measure(&["Eve Attacker", "7"]);
        let mut s = String::new();
        a.line(&["Name", "Count"], "  ", &mut s);
        a.rule("  ", &mut s);
        a.line(&["Eve Attacker", "7"], "  ", &mut s);
        a.line(&["Zoë", "12"], "  ", &mut s);
        assert_eq!(
            s,
            "  Name          Count\n  ------------  -----\n  Eve Attacker      7\n  Zoë              12\n"
        );
    }
}
