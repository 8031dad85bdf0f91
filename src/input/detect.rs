//! Recognises what an input is from its (decoded) content, never from its name —
//! including mbxaudit's own JSON outputs (a run's manifest, a JSON summary), which sit
//! beside the evidence after a run and are not exports.

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
    /// One of mbxaudit's own JSON outputs (what it is, for the message): not an export.
    Ours(&'static str),
    /// No content, or only whitespace.
    Empty,
    /// NUL and other control bytes in the first kilobytes: not a text export.
    Binary,
}

/// Bytes at the start of the text looked at for control bytes.
pub const HEAD_BYTES: usize = 4096;

/// Looks at the start of `text` (already decoded to UTF-8).
pub fn detect(text: &[u8]) -> Detected {
    let head = &text[..text.len().min(HEAD_BYTES)];
    if memchr::memchr(0, head).is_some() && is_binary(head) {
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
    if first == b'{' {
        if let Some(what) = ours(&text[pos + 1..]) {
            return Detected::Ours(what);
        }
    }
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

/// What our own output an object is, from its first member (after its `{`): a manifest
/// starts `"manifest": "mbxaudit run manifest`, a JSON summary `"format":
/// "mbxaudit-summary"`.
fn ours(after_brace: &[u8]) -> Option<&'static str> {
    const OURS: [(&[u8], &[u8], &str); 2] = [
        (
            b"\"manifest\"",
            b"\"mbxaudit run manifest",
            "an mbxaudit run manifest (this tool's record of a run), not an export",
        ),
        (
            b"\"format\"",
            b"\"mbxaudit-summary\"",
            "an mbxaudit JSON summary (read it with summary --merge), not an export",
        ),
    ];
    let rest = after_brace.trim_ascii_start();
    OURS.iter().find_map(|&(key, value, what)| {
        let rest = rest.strip_prefix(key)?.trim_ascii_start();
        let rest = rest.strip_prefix(b":")?.trim_ascii_start();
        rest.starts_with(value).then_some(what)
    })
}

/// True when over 1 byte in 16 of `head` is a control byte that text does not hold (NUL
/// and the other C0 controls but tab, line feed, form feed and carriage return; DEL).
/// Random or compressed data has about 1 in 9; an export with a few NUL bytes in it (a
/// damaged region, reported row by row) is still read as text.
fn is_binary(head: &[u8]) -> bool {
    let controls = head
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r')) || b == 0x7F)
        .count();
    controls * 16 > head.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_shapes() {
        assert_eq!(detect(b""), Detected::Empty);
        assert_eq!(detect(b" \r\n "), Detected::Empty);
        assert_eq!(detect(b"\x00\x01"), Detected::Binary);
        let mut noise = Vec::new();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..4096 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            noise.push(x as u8);
        }
        assert_eq!(detect(&noise), Detected::Binary);
        let mut text = b"Operation,LastAccessed\nMove,x\0y\n".repeat(20);
        assert!(matches!(detect(&text), Detected::Csv { .. }), "a few NULs");
        text.splice(0..0, [0u8; 600]);
        assert_eq!(detect(&text), Detected::Binary, "zero-filled start");
        assert_eq!(detect(b" [{}]"), Detected::Json);
        assert!(matches!(
            detect(b"{\n  \"manifest\": \"mbxaudit run manifest, version 1\",\n"),
            Detected::Ours(w) if w.contains("manifest")
        ));
        assert!(matches!(
            detect(b"{\"format\":\"mbxaudit-summary\",\"version\":1}"),
            Detected::Ours(w) if w.contains("summary")
        ));
        assert_eq!(detect(b"{\"manifest\": \"other\"}"), Detected::Json);
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
