use super::*;
use crate::input::json::tests::{read_with, Collect};

/// A Windows PowerShell 5.1 dump of `n` records in UTF-16 LE with a byte order mark,
/// each record holding text that needs every kind of escape, non-ASCII and emoji.
fn ps51_dump(n: usize) -> Vec<u8> {
    let mut text = String::from("[\r\n");
    for i in 0..n {
        if i > 0 {
            text.push_str(",\r\n");
        }
        let subject = match i % 5 {
            0 => "He said \\\"hi\\\" \\u0027ok\\u0027".to_string(),
            1 => format!("Réunion {i} 🍕 \\r\\n tail"),
            2 => "back\\\\slash \\/ \\t tab \\u00e9".to_string(),
            3 => "x".repeat(300),
            _ => format!("Good News {i}"),
        };
        text.push_str(&format!(
            "    {{\r\n        \"Operation\":  \"Op{i}\",\r\n        \"LastAccessed\":  \"\\/Date({})\\/\",\r\n        \"LogonType\":  {},\r\n        \"SourceItems\":  [\r\n                            {{\r\n                                \"SourceItemSubject\":  \"{subject}\"\r\n                            }}\r\n                        ],\r\n        \"ItemSubject\":  \"{subject}\"\r\n    }}",
            1_491_000_000_000u64 + i as u64 * 1000,
            i % 3
        ));
    }
    text.push_str("\r\n]\r\n");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

/// What the usual way gives: the whole file decoded, then read in one pass.
fn whole(bytes: &[u8]) -> Collect {
    let decoded = crate::input::decode::decode(bytes, None);
    read_with(&decoded.text, 1 << 30, 1)
}

fn pieces(doc: &Utf16Document<'_>) -> Collect {
    let done = std::sync::Mutex::new(Vec::new());
    let (parts, _) = doc.scan(Collect::default, &|r| done.lock().unwrap().push(r));
    // The pieces said done tile the body (progress covers the file, every page released).
    let mut done = done.into_inner().unwrap();
    done.sort_by_key(|r| r.start);
    let mut at = doc.body_start;
    for r in done {
        assert_eq!(r.start, at, "pieces said done tile the body");
        at = r.end;
    }
    assert_eq!(
        at,
        doc.body_start + doc.body.len(),
        "progress covers the file"
    );
    let mut all = Collect::default();
    for p in parts {
        all.rows.extend(p.rows);
        all.bad.extend(p.bad);
        all.warnings.extend(p.warnings);
    }
    all
}

fn assert_same(got: &Collect, want: &Collect, what: &str) {
    assert_eq!(got.rows, want.rows, "{what}");
    assert_eq!(got.bad, want.bad, "{what}");
    assert_eq!(got.warnings, want.warnings, "{what}");
}

#[test]
fn pieces_read_as_the_whole_transcoded_file() {
    let bytes = ps51_dump(9_000);
    let doc = utf16_document(&bytes, None).expect("a UTF-16 document");
    assert_eq!(doc.name, "UTF-16LE (BOM)");
    let cuts = guess::cuts(
        doc.body,
        2 * CHUNK_BYTES,
        &doc.encode(&doc.guess.pattern),
        2,
    );
    assert!(cuts.len() >= 2, "{} bytes in one piece", doc.body.len());
    let want = whole(&bytes);
    assert_eq!(want.rows.len(), 9_000);
    assert_same(&pieces(&doc), &want, "clean");
    // Damage: a record broken across a cut, a lone surrogate, a cut file.
    let at = cuts[1];
    let mut damaged = bytes.clone();
    damaged.drain(at - 2..at); // the `}` before the first cut
    let doc = utf16_document(&damaged, None).expect("still a document");
    assert_same(&pieces(&doc), &whole(&damaged), "a lost brace");
    let mut surrogate = bytes.clone();
    surrogate.splice(at + 40..at + 42, [0x00, 0xD8]);
    let doc = utf16_document(&surrogate, None).expect("still a document");
    let (_, replaced) = doc.scan(Collect::default, &|_: std::ops::Range<usize>| {});
    assert!(replaced);
    assert_same(&pieces(&doc), &whole(&surrogate), "a lone surrogate");
    let big_endian: Vec<u8> = bytes.chunks_exact(2).flat_map(|u| [u[1], u[0]]).collect();
    let doc = utf16_document(&big_endian, None).expect("UTF-16 BE");
    assert_eq!(doc.name, "UTF-16BE (BOM)");
    assert_same(&pieces(&doc), &want, "big-endian");
    let cut = &bytes[..bytes.len() * 2 / 3 + 1];
    let doc = utf16_document(cut, None).expect("still a document");
    assert!(doc.odd_byte);
    assert_same(&pieces(&doc), &whole(cut), "a cut file");
}

#[test]
fn other_files_take_the_usual_way() {
    let small = ps51_dump(10);
    assert!(utf16_document(&small, None).is_none(), "small");
    let utf8 = String::from_utf16_lossy(
        &ps51_dump(9_000)[2..]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect::<Vec<_>>(),
    );
    assert!(utf16_document(utf8.as_bytes(), None).is_none(), "UTF-8");
    let lines: String = (0..40_000)
        .map(|i| {
            format!("{{\"CreationTime\":\"2024-01-01T00:00:00\",\"Operation\":\"Op{i}\"}}\r\n")
        })
        .collect();
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(lines.encode_utf16().flat_map(u16::to_le_bytes));
    assert!(utf16_document(&bytes, None).is_none(), "JSON Lines");
}

#[test]
fn transcoding_grows_its_buffer_for_text_that_is_not_ascii() {
    let bytes = ps51_dump(9_000);
    let doc = utf16_document(&bytes, None).expect("a UTF-16 document");
    // Mostly ASCII, CJK (three UTF-8 bytes for two UTF-16 ones), emoji, a lone surrogate.
    let texts = [
        "plain ascii ".repeat(5_000),
        "会议纪要，请查收。".repeat(5_000),
        "🍕 Réunion ".repeat(3_000),
        "x".repeat(10),
    ];
    let mut buffer = vec![b'!'; 7];
    for text in &texts {
        for lone_surrogate in [false, true] {
            let mut raw: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
            if lone_surrogate {
                raw.extend([0x00, 0xD8, b'a', 0]);
            }
            let (want, _, want_replaced) = UTF_16LE.decode(&raw);
            // The same buffer throughout: grown, then longer than what a piece needs.
            let (len, replaced) = doc.transcode(&raw, &mut buffer);
            assert_eq!(&buffer[..len], want.as_bytes(), "{}", &text[..10]);
            assert_eq!(replaced, want_replaced);
        }
    }
}
