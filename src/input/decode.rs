//! Byte-order marks and encodings: everything downstream sees UTF-8.
//!
//! UTF-8 (with or without BOM) is used in place, without a copy. UTF-16 (Windows
//! PowerShell's `Out-File` / `-Encoding Unicode`) is transcoded once. Without a BOM, UTF-16
//! is recognised by its zero bytes. `--encoding` overrides the detection (any WHATWG label,
//! e.g. `windows-1252` for `-Encoding Default` exports).

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// The input's text as UTF-8, with a description of what it was.
pub struct Decoded<'a> {
    pub text: Cow<'a, [u8]>,
    /// Human-readable name of the source encoding, e.g. `UTF-16LE (BOM)`.
    pub encoding: String,
    /// True when the transcoding met invalid sequences and replaced them with U+FFFD.
    pub replaced: bool,
    /// UTF-16 with an odd number of bytes: the file ends in the middle of a code unit
    /// (it was cut short), and that last byte was dropped rather than read as U+FFFD, so
    /// that a row cut only in its line end is still read whole.
    pub odd_byte: bool,
}

/// Decodes `bytes`; `forced` overrides the detection.
pub fn decode<'a>(bytes: &'a [u8], forced: Option<&'static Encoding>) -> Decoded<'a> {
    let (bom_encoding, bom_len) = match Encoding::for_bom(bytes) {
        Some((enc, len)) => (Some(enc), len),
        None => (None, 0),
    };
    let (encoding, body, how) = match (forced, bom_encoding) {
        (Some(f), Some(b)) if f == b => (f, &bytes[bom_len..], "BOM"),
        (Some(f), _) => (f, bytes, "--encoding"),
        (None, Some(b)) => (b, &bytes[bom_len..], "BOM"),
        (None, None) => match sniff_utf16(bytes) {
            Some(enc) => (enc, bytes, "no BOM, detected"),
            None => (UTF_8, bytes, ""),
        },
    };
    if encoding == UTF_8 {
        let encoding = if how.is_empty() {
            "UTF-8".to_string()
        } else {
            format!("UTF-8 ({how})")
        };
        return Decoded {
            text: Cow::Borrowed(body),
            encoding,
            replaced: false,
            odd_byte: false,
        };
    }
    let odd_byte = (encoding == UTF_16LE || encoding == UTF_16BE) && body.len() % 2 == 1;
    let body = if odd_byte {
        &body[..body.len() - 1]
    } else {
        body
    };
    let (text, replaced) = encoding.decode_without_bom_handling(body);
    Decoded {
        text: Cow::Owned(text.into_owned().into_bytes()),
        encoding: format!("{} ({how})", encoding.name()),
        replaced,
        odd_byte,
    }
}

/// UTF-16 without BOM: text in these exports is mostly ASCII, so every other byte of the
/// first characters is zero.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(64) & !1];
    if head.len() < 4 {
        return None;
    }
    let pairs = head.chunks_exact(2);
    let n = pairs.len();
    let (mut even_zero, mut odd_zero) = (0, 0);
    for pair in pairs {
        even_zero += usize::from(pair[0] == 0);
        odd_zero += usize::from(pair[1] == 0);
    }
    if odd_zero * 4 >= n * 3 && even_zero == 0 {
        Some(UTF_16LE)
    } else if even_zero * 4 >= n * 3 && odd_zero == 0 {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Parses an `--encoding` value: a WHATWG label such as `utf-8`, `utf-16le`, `windows-1252`.
pub fn parse_label(label: &str) -> Result<&'static Encoding, String> {
    Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
        format!(
            "unknown encoding '{label}'; use a label such as utf-8, utf-16le, utf-16be, windows-1252"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { vec![] };
        for u in s.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    }

    #[test]
    fn utf8_bom_is_stripped_without_copy() {
        let d = decode(b"\xEF\xBB\xBFa,b", None);
        assert!(matches!(d.text, Cow::Borrowed(b"a,b")));
        assert_eq!(d.encoding, "UTF-8 (BOM)");
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let bytes = utf16le("\"Operation\",\"Ré\"", true);
        let d = decode(&bytes, None);
        assert_eq!(&*d.text, "\"Operation\",\"Ré\"".as_bytes());
        assert_eq!(d.encoding, "UTF-16LE (BOM)");
        let bytes = utf16le("\"Operation\",\"x\"", false);
        let d = decode(&bytes, None);
        assert_eq!(&*d.text, b"\"Operation\",\"x\"");
        let mut be = vec![0xFE, 0xFF];
        for u in "Op".encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(&*decode(&be, None).text, b"Op");
    }

    #[test]
    fn odd_utf16_tail_is_dropped_and_flagged() {
        let mut b = utf16le("ab\r\n", true);
        b.pop(); // cut in the middle of the last code unit
        let d = decode(&b, None);
        assert!(d.odd_byte && !d.replaced);
        assert_eq!(&*d.text, b"ab\r");
        let mut be = vec![0xFE, 0xFF, 0x00, b'a', 0x00];
        let d = decode(&be, None);
        assert!(d.odd_byte);
        assert_eq!(&*d.text, b"a");
        be.pop();
        assert!(!decode(&be, None).odd_byte);
    }

    #[test]
    fn forced_windows_1252() {
        let enc = parse_label("windows-1252").unwrap();
        let d = decode(b"R\xE9sum\xE9", Some(enc));
        assert_eq!(&*d.text, "Résumé".as_bytes());
    }
}
