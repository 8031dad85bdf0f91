//! Recognises what an input is from its (decoded) content, never from its name.

/// What the first bytes of an input say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detected {
    /// Delimited text; the header record starts at `header_start` on line `header_line`.
    /// `type_line` is PowerShell's `#TYPE ...` line, when present.
    Csv {
        header_start: usize,
        header_line: u64,
        type_line: Option<String>,
    },
    /// Starts with `[` or `{`: a JSON document or JSON Lines.
    Json,
    /// No content, or only whitespace.
    Empty,
    /// NUL bytes in the first kilobytes: not a text export.
    Binary,
}

/// Looks at the start of `text` (already decoded to UTF-8).
pub fn detect(text: &[u8]) -> Detected {
    let head = &text[..text.len().min(4096)];
    if memchr::memchr(0, head).is_some() {
        return Detected::Binary;
    }
    let mut pos = 0;
    let mut line = 1u64;
    while let Some(&b) = text.get(pos) {
        if !b.is_ascii_whitespace() {
            break;
        }
        line += u64::from(b == b'\n');
        pos += 1;
    }
    let Some(&first) = text.get(pos) else {
        return Detected::Empty;
    };
    if first == b'[' || first == b'{' {
        return Detected::Json;
    }
    let rest = &text[pos..];
    if rest.len() >= 5 && rest[..5].eq_ignore_ascii_case(b"#TYPE") {
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        let type_line = String::from_utf8_lossy(&rest[..end]).trim().to_string();
        return Detected::Csv {
            header_start: pos + end,
            header_line: line + 1,
            type_line: Some(type_line),
        };
    }
    Detected::Csv {
        header_start: pos,
        header_line: line,
        type_line: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_shapes() {
        assert_eq!(detect(b""), Detected::Empty);
        assert_eq!(detect(b" \r\n "), Detected::Empty);
        assert_eq!(detect(b"\x00\x01"), Detected::Binary);
        assert_eq!(detect(b" [{}]"), Detected::Json);
        assert_eq!(
            detect(b"#TYPE Microsoft.Exchange.X\r\n\"Operation\""),
            Detected::Csv {
                header_start: 28,
                header_line: 2,
                type_line: Some("#TYPE Microsoft.Exchange.X".into())
            }
        );
        assert_eq!(
            detect(b"\nOperation"),
            Detected::Csv {
                header_start: 1,
                header_line: 2,
                type_line: None
            }
        );
    }
}
