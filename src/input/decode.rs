//! Byte-order marks and encodings: everything downstream sees UTF-8.
//!
//! UTF-8 (with or without BOM) is used in place, without a copy. UTF-16 (Windows
//! PowerShell's `Out-File` / `-Encoding Unicode`) is transcoded once, in pieces on all
//! threads. Without a BOM, UTF-16 is recognised by its zero bytes. `--encoding` overrides
//! the detection (any WHATWG label, e.g. `windows-1252` for `-Encoding Default` exports)
//! for inputs without a BOM; a BOM is never written by mistake, so a file that has one is
//! read as its BOM says, with a warning when that contradicts `--encoding`
//! ([`Decoded::overridden`]).

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};
use rayon::prelude::*;

/// The input's text as UTF-8, with a description of what it was.
pub struct Decoded<'a> {
    pub text: Cow<'a, [u8]>,
    /// Where `text` starts in the input's bytes when it is those bytes themselves (UTF-8,
    /// after any byte order mark): their pages may then be released as the text is read.
    /// `None` when the text was transcoded into memory of its own.
    pub at: Option<usize>,
    /// Human-readable name of the source encoding, e.g. `UTF-16LE (BOM)`.
    pub encoding: String,
    /// True when the transcoding met invalid sequences and replaced them with U+FFFD.
    pub replaced: bool,
    /// UTF-16 with an odd number of bytes: the file ends in the middle of a code unit
    /// (it was cut short), and that last byte was dropped rather than read as U+FFFD, so
    /// that a row cut only in its line end is still read whole.
    pub odd_byte: bool,
    /// The `--encoding` that the input's BOM contradicted (the BOM was followed).
    pub overridden: Option<&'static Encoding>,
}

/// Decodes `bytes`; `forced` overrides the detection.
pub fn decode<'a>(bytes: &'a [u8], forced: Option<&'static Encoding>) -> Decoded<'a> {
    let choice = choose(bytes, forced);
    let (encoding, body) = (choice.encoding, &bytes[choice.skip..]);
    if encoding == UTF_8 {
        return Decoded {
            text: Cow::Borrowed(body),
            at: Some(choice.skip),
            encoding: choice.name(),
            replaced: false,
            odd_byte: false,
            overridden: choice.overridden,
        };
    }
    let odd_byte = (encoding == UTF_16LE || encoding == UTF_16BE) && body.len() % 2 == 1;
    let body = if odd_byte {
        &body[..body.len() - 1]
    } else {
        body
    };
    let (text, replaced) = if encoding == UTF_16LE || encoding == UTF_16BE {
        decode_utf16_in_pieces(encoding, body, UTF16_PIECE_BYTES)
    } else {
        let (text, replaced) = encoding.decode_without_bom_handling(body);
        (text.into_owned().into_bytes(), replaced)
    };
    Decoded {
        text: Cow::Owned(text),
        at: None,
        encoding: choice.name(),
        replaced,
        odd_byte,
        overridden: choice.overridden,
    }
}

/// Size of the pieces UTF-16 is transcoded in, one rayon task each.
const UTF16_PIECE_BYTES: usize = 4 << 20;

/// Transcodes UTF-16 `body` (an even number of bytes) to UTF-8 in pieces of about `piece`
/// bytes (even) on all threads.
/// A piece never ends just after a high surrogate, so a surrogate pair is never split and
/// every piece decodes as it does within the whole: the text and the replacements are
/// those of decoding `body` at once.
fn decode_utf16_in_pieces(
    encoding: &'static Encoding,
    body: &[u8],
    piece: usize,
) -> (Vec<u8>, bool) {
    let unit = |at: usize| {
        let pair = [body[at], body[at + 1]];
        if encoding == UTF_16LE {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    };
    let mut cuts = vec![0];
    let mut at = piece;
    while at < body.len() {
        while at < body.len() && (0xD800..0xDC00).contains(&unit(at - 2)) {
            at += 2;
        }
        cuts.push(at);
        at += piece;
    }
    if cuts.last() != Some(&body.len()) {
        cuts.push(body.len());
    }
    let pieces: Vec<(Cow<'_, str>, bool)> = cuts
        .par_windows(2)
        .map(|w| encoding.decode_without_bom_handling(&body[w[0]..w[1]]))
        .collect();
    let mut text = Vec::with_capacity(pieces.iter().map(|(p, _)| p.len()).sum());
    for (piece, _) in &pieces {
        text.extend_from_slice(piece.as_bytes());
    }
    (text, pieces.iter().any(|&(_, replaced)| replaced))
}

/// Bytes [`choose`] needs to see (or the whole input, if shorter) to choose as it would
/// for the whole input: a BOM, and the characters `sniff_utf16` looks at.
pub const CHOICE_BYTES: usize = 64;

/// The encoding an input is read in, and how it was chosen.
#[derive(Clone, Copy, Debug)]
pub struct Choice {
    pub encoding: &'static Encoding,
    /// Bytes of BOM to skip.
    pub skip: usize,
    how: &'static str,
    /// The `--encoding` a BOM contradicted.
    pub overridden: Option<&'static Encoding>,
}

impl Choice {
    /// Human-readable name of the source encoding, e.g. `UTF-16LE (BOM)`.
    pub fn name(&self) -> String {
        match (self.encoding == UTF_8, self.how) {
            (true, "") => "UTF-8".to_string(),
            (true, how) => format!("UTF-8 ({how})"),
            (false, how) => format!("{} ({how})", self.encoding.name()),
        }
    }
}

/// Chooses the encoding of an input that starts with `head` (at least its first
/// [`CHOICE_BYTES`], or all of it); `forced` overrides the detection.
pub fn choose(head: &[u8], forced: Option<&'static Encoding>) -> Choice {
    let (bom_encoding, bom_len) = match Encoding::for_bom(head) {
        Some((enc, len)) => (Some(enc), len),
        None => (None, 0),
    };
    let mut overridden = None;
    let (encoding, skip, how) = match (forced, bom_encoding) {
        (Some(f), Some(b)) if f == b => (f, bom_len, "BOM"),
        (Some(f), Some(b)) => {
            overridden = Some(f);
            (b, bom_len, "BOM, not --encoding")
        }
        (Some(f), None) => (f, 0, "--encoding"),
        (None, Some(b)) => (b, bom_len, "BOM"),
        (None, None) => match sniff_utf16(head) {
            Some(enc) => (enc, 0, "no BOM, detected"),
            None => (UTF_8, 0, ""),
        },
    };
    Choice {
        encoding,
        skip,
        how,
        overridden,
    }
}

/// UTF-16 without BOM: text in these exports is mostly ASCII, so every other byte of the
/// first characters is zero.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(CHOICE_BYTES) & !1];
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

/// Decodes an input that arrives in pieces (standard input, a pipe) to the same UTF-8
/// text, name and flags as [`decode`] gives for all of it at once: the encoding is chosen
/// from the first [`CHOICE_BYTES`], UTF-8 is passed through, and other encodings go
/// through an `encoding_rs` streaming decoder, which never cuts a character at a piece
/// boundary. A UTF-16 byte that may be the odd last one is held back until the next
/// piece, so that a cut-short input drops it as [`decode`] does.
pub struct StreamDecoder {
    forced: Option<&'static Encoding>,
    /// The first bytes, until there are enough to choose the encoding.
    head: Vec<u8>,
    choice: Option<Choice>,
    decoder: Option<encoding_rs::Decoder>,
    utf16: bool,
    held: Option<u8>,
    replaced: bool,
    odd_byte: bool,
}

impl StreamDecoder {
    pub fn new(forced: Option<&'static Encoding>) -> StreamDecoder {
        StreamDecoder {
            forced,
            head: Vec::new(),
            choice: None,
            decoder: None,
            utf16: false,
            held: None,
            replaced: false,
            odd_byte: false,
        }
    }

    /// Decodes the next piece of the input onto the end of `out`; `last` for the final
    /// call (its piece may be empty).
    pub fn push(&mut self, mut raw: &[u8], last: bool, out: &mut Vec<u8>) {
        if self.choice.is_none() {
            if self.head.len() + raw.len() < CHOICE_BYTES && !last {
                self.head.extend_from_slice(raw);
                return;
            }
            let head = std::mem::take(&mut self.head);
            let mut first = head;
            // Enough of the piece to choose; the rest is decoded below without a copy.
            let take = CHOICE_BYTES.saturating_sub(first.len()).min(raw.len());
            first.extend_from_slice(&raw[..take]);
            raw = &raw[take..];
            let choice = choose(&first, self.forced);
            self.choice = Some(choice);
            if choice.encoding != UTF_8 {
                self.decoder = Some(choice.encoding.new_decoder_without_bom_handling());
                self.utf16 = choice.encoding == UTF_16LE || choice.encoding == UTF_16BE;
            }
            let skip = choice.skip.min(first.len());
            self.body(&first[skip..], last && raw.is_empty(), out);
            if raw.is_empty() {
                return;
            }
        }
        self.body(raw, last, out);
    }

    fn body(&mut self, mut raw: &[u8], last: bool, out: &mut Vec<u8>) {
        let Some(decoder) = self.decoder.as_mut() else {
            out.extend_from_slice(raw);
            return;
        };
        if !self.utf16 {
            decode_into(decoder, raw, last, out, &mut self.replaced);
            return;
        }
        // UTF-16: whole code units only; an odd byte waits for its partner.
        if let Some(b) = self.held {
            match raw.split_first() {
                Some((&c, rest)) => {
                    self.held = None;
                    decode_into(decoder, &[b, c], false, out, &mut self.replaced);
                    raw = rest;
                }
                None if last => {
                    // The input ends in the middle of a code unit: that byte is dropped.
                    self.held = None;
                    self.odd_byte = true;
                }
                None => return,
            }
        }
        if raw.len() % 2 == 1 {
            let (&b, even) = raw.split_last().expect("odd length is not empty");
            raw = even;
            if last {
                self.odd_byte = true;
            } else {
                self.held = Some(b);
            }
        }
        decode_into(decoder, raw, last, out, &mut self.replaced);
    }

    /// The source encoding's name, as [`Decoded::encoding`] (once the first piece is in).
    pub fn encoding(&self) -> String {
        self.choice
            .map_or_else(|| "UTF-8".to_string(), |c| c.name())
    }

    /// See [`Decoded::replaced`] (complete after the last piece).
    pub fn replaced(&self) -> bool {
        self.replaced
    }

    /// See [`Decoded::odd_byte`] (complete after the last piece).
    pub fn odd_byte(&self) -> bool {
        self.odd_byte
    }

    /// See [`Decoded::overridden`] (once the first piece is in).
    pub fn overridden(&self) -> Option<&'static Encoding> {
        self.choice.and_then(|c| c.overridden)
    }
}

fn decode_into(
    decoder: &mut encoding_rs::Decoder,
    mut src: &[u8],
    last: bool,
    out: &mut Vec<u8>,
    replaced: &mut bool,
) {
    loop {
        let room = decoder
            .max_utf8_buffer_length(src.len())
            .unwrap_or(src.len().saturating_mul(3))
            .max(16);
        let old = out.len();
        out.resize(old + room, 0);
        let (result, read, written, had) = decoder.decode_to_utf8(src, &mut out[old..], last);
        out.truncate(old + written);
        *replaced |= had;
        src = &src[read..];
        if result == encoding_rs::CoderResult::InputEmpty {
            return;
        }
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

    #[test]
    fn utf16_in_pieces_decodes_as_at_once() {
        // Units: ASCII, a BMP letter, a surrogate pair, lone high and low surrogates.
        let units: [&[u16]; 5] = [&[0x41], &[0xE9], &[0xD83D, 0xDE00], &[0xD800], &[0xDC00]];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for len in 0..300 {
            let mut text: Vec<u16> = Vec::new();
            for _ in 0..len % 60 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.extend_from_slice(units[(seed % 5) as usize]);
            }
            for encoding in [UTF_16LE, UTF_16BE] {
                let body: Vec<u8> = text
                    .iter()
                    .flat_map(|u| match encoding == UTF_16LE {
                        true => u.to_le_bytes(),
                        false => u.to_be_bytes(),
                    })
                    .collect();
                let (whole, replaced) = encoding.decode_without_bom_handling(&body);
                for piece in [2, 4, 6, 10, 64] {
                    let (text, r) = decode_utf16_in_pieces(encoding, &body, piece);
                    assert_eq!(text, whole.as_bytes(), "{piece} {text:?}");
                    assert_eq!(r, replaced);
                }
            }
        }
    }

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
        assert_eq!(d.at, Some(3), "the text starts after the BOM in the input");
        assert_eq!(decode(b"a,b", None).at, Some(0));
        assert_eq!(decode(&utf16le("a,b", true), None).at, None, "transcoded");
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
    fn a_stream_decodes_as_the_whole_at_any_piece_size() {
        let text = "\"Operation\",\"Ré😀\"\r\nx,\u{20AC}\r\n".repeat(5);
        let mut be = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        let mut lone = utf16le(&text, true);
        lone.extend_from_slice(&[0x3D, 0xD8, b'a']); // a lone high surrogate, an odd byte
        let mut cut = utf16le(&text, false);
        cut.pop();
        let inputs: Vec<(Vec<u8>, Option<&'static Encoding>)> = vec![
            (text.as_bytes().to_vec(), None),
            ([b"\xEF\xBB\xBF", text.as_bytes()].concat(), None),
            (b"\xEF\xBB".to_vec(), None),
            (Vec::new(), None),
            (utf16le(&text, true), None),
            (utf16le(&text, false), None),
            (be, None),
            (lone, None),
            (cut, None),
            (utf16le(&text, true), Some(UTF_16LE)),
            (utf16le(&text, false), Some(UTF_8)),
            (
                b"R\xE9sum\xE9 \x81\xFF".repeat(9),
                parse_label("windows-1252").ok(),
            ),
            (b"\x82\xA0\x82".repeat(30), parse_label("shift_jis").ok()),
            (
                [b"\xEF\xBB\xBF", text.as_bytes()].concat(),
                parse_label("windows-1252").ok(),
            ),
        ];
        for (bytes, forced) in &inputs {
            let whole = decode(bytes, *forced);
            for piece in [1, 2, 3, 5, 63, 64, 65, 1000] {
                let mut d = StreamDecoder::new(*forced);
                let mut out = Vec::new();
                for p in bytes.chunks(piece) {
                    d.push(p, false, &mut out);
                }
                d.push(&[], true, &mut out);
                let what = format!("{:?} in pieces of {piece}", &bytes[..bytes.len().min(8)]);
                assert_eq!(out, &*whole.text, "{what}");
                assert_eq!(d.encoding(), whole.encoding, "{what}");
                assert_eq!(d.replaced(), whole.replaced, "{what}");
                assert_eq!(d.odd_byte(), whole.odd_byte, "{what}");
                assert_eq!(d.overridden(), whole.overridden, "{what}");
            }
        }
    }

    #[test]
    fn forced_windows_1252() {
        let enc = parse_label("windows-1252").unwrap();
        let d = decode(b"R\xE9sum\xE9", Some(enc));
        assert_eq!(&*d.text, "Résumé".as_bytes());
        assert_eq!(d.overridden, None);
        // A BOM is followed, and the contradiction kept for a warning.
        let d = decode("\u{FEFF}Résumé".as_bytes(), Some(enc));
        assert_eq!(&*d.text, "Résumé".as_bytes());
        assert_eq!(d.encoding, "UTF-8 (BOM, not --encoding)");
        assert_eq!(d.overridden, Some(enc));
    }
}
