use super::*;
use crate::input::csv::Layout;
use crate::input::visit::{OnDemand, Visitor};
use crate::record::{AuditRecord, Field};

/// Everything a visitor is told, in order.
#[derive(Default)]
struct Events(Vec<String>);

impl Visitor for Events {
    fn record(&mut self, rec: &AuditRecord<'_>, key: &dyn OnDemand, line: u64) {
        let fields: Vec<String> = [Field::Operation, Field::LastAccessed, Field::ItemSubject]
            .iter()
            .map(|&f| String::from_utf8_lossy(&rec.get(f).unescaped()).into_owned())
            .collect();
        self.0
            .push(format!("{line} record {fields:?} {:?}", key.event_key()));
    }
    fn malformed(&mut self, line: u64, reason: String) {
        self.0.push(format!("{line} malformed {reason}"));
    }
    fn warn(&mut self, line: u64, message: String) {
        self.0.push(format!("{line} warn {message}"));
    }
}

fn whole(text: &[u8]) -> Vec<String> {
    let layout = Layout::read(text, 0, 1).expect("header");
    scan(text, &layout, Events::default, &|_| {})
        .into_iter()
        .flat_map(|e| e.0)
        .collect()
}

/// Feeds `text` in windows of `window` bytes; also returns the most text held at once.
fn streamed(text: &[u8], window: usize, max_record: usize) -> (Vec<String>, usize) {
    let layout = Layout::read(text, 0, 1).expect("header");
    let mut stream = CsvStream::new(&layout, max_record, |a: &mut Events, b| a.0.extend(b.0));
    let (mut buf, mut base, mut pos, mut held) = (Vec::new(), 0, 0, 0);
    let mut got = Vec::new();
    loop {
        let next = (pos + window).min(text.len());
        buf.extend_from_slice(&text[pos..next]);
        pos = next;
        held = held.max(buf.len());
        let end = pos == text.len();
        let needed = stream.feed(&buf, base, end, &Events::default, &mut |v: Events| {
            got.extend(v.0)
        });
        assert!(needed >= base && needed <= base + buf.len());
        buf.drain(..needed - base);
        base = needed;
        if end {
            return (got, held);
        }
    }
}

fn too_long(event: &str) -> bool {
    event.contains("more than is held")
}

fn line_of(event: &str) -> &str {
    event.split(' ').next().unwrap_or_default()
}

/// Compares a streamed read with the whole-text one for every window and record bound.
/// A well-formed record longer than the bound is the one thing told apart: where the
/// stream names one, the whole read's record (and its warnings) on that line are left
/// out of the comparison. Returns how many reads had one.
fn check(text: &[u8], windows: &[usize], max_records: &[usize]) -> usize {
    let reference = whole(text);
    let mut skipped = 0;
    for &w in windows {
        for &m in max_records {
            let (got, _) = streamed(text, w, m);
            let long: Vec<&str> = got
                .iter()
                .filter(|e| too_long(e))
                .map(|e| line_of(e))
                .collect();
            skipped += usize::from(!long.is_empty());
            let got: Vec<&String> = got.iter().filter(|e| !too_long(e)).collect();
            let want: Vec<&String> = reference
                .iter()
                .filter(|e| !long.contains(&line_of(e)) || e.contains(" malformed "))
                .collect();
            if got != want {
                let first = got.iter().zip(&want).position(|(a, b)| a != b);
                panic!(
                    "window {w}, max_record {m}: first difference at {first:?}\n\
                     text {:?}\n got {got:#?}\nwant {want:#?}",
                    String::from_utf8_lossy(text)
                );
            }
        }
    }
    skipped
}

const HEADER: &[u8] = b"\"Operation\",\"LastAccessed\",\"ItemSubject\"\r\n";

fn export(rows: usize, multiline: bool, stray_at: &[usize]) -> Vec<u8> {
    let mut text = HEADER.to_vec();
    for i in 0..rows {
        let subject = if stray_at.contains(&i) {
            format!("cut \"{i}")
        } else if multiline && i % 7 == 0 {
            format!("two\r\nlines \"\"{i}\"\"")
        } else {
            format!("s{i}")
        };
        text.extend_from_slice(format!("\"Move\",\"4/1/2017\",\"{subject}\"\r\n").as_bytes());
    }
    text
}

#[test]
fn good_export_at_any_window() {
    let text = export(300, true, &[]);
    assert_eq!(
        check(&text, &[1, 2, 5, 64, 100, 1000, 1 << 20], &[1 << 30]),
        0
    );
}

#[test]
fn stray_quotes_at_any_window_and_record_bound() {
    for multiline in [false, true] {
        for stray in [&[3][..], &[20, 21], &[5, 150, 151, 290], &[299]] {
            let text = export(300, multiline, stray);
            let skipped = check(&text, &[1, 3, 64, 333, 1 << 20], &[40, 100, 1000, 1 << 30]);
            assert_eq!(skipped, 0, "stray {stray:?}");
        }
    }
}

#[test]
fn a_long_broken_record_is_followed_in_bounded_memory() {
    // A stray quote in row 10: the record runs to the end of the text (which has no
    // final line end either), 1990 lines.
    let mut text = export(2000, false, &[10]);
    text.truncate(text.len() - 2);
    let (got, held) = streamed(&text, 256, 4096);
    assert_eq!(got, whole(&text));
    assert!(held < 8192, "held {held} bytes");
    assert!(
        got.iter()
            .any(|e| e.contains("this record runs over 1990 lines")),
        "{:?}",
        &got[..12]
    );
}

#[test]
fn header_only_and_blank_bodies() {
    for body in [&b""[..], b"\r\n", b"  \r\n\t\r\n", b"   "] {
        let mut text = HEADER.to_vec();
        text.extend_from_slice(body);
        check(&text, &[1, 4, 1000], &[1 << 30, 2]);
        assert!(whole(&text)
            .iter()
            .any(|e| e.contains("not followed by any record")));
    }
}

#[test]
fn a_well_formed_record_longer_than_the_bound_is_named() {
    let mut text = HEADER.to_vec();
    text.extend_from_slice(b"\"Move\",\"4/1/2017\",\"a\"\r\n\"Move\",\"4/1/2017\",\"");
    text.extend_from_slice(&b"x\r\n".repeat(100));
    text.extend_from_slice(b"\"\r\n\"Move\",\"4/2/2017\",\"b\"\r\n");
    let (got, _) = streamed(&text, 16, 64);
    assert!(
        got[1].starts_with("3 malformed this record is longer than 64 bytes"),
        "{got:?}"
    );
    assert_eq!(got.len(), 3);
    assert!(got[2].starts_with("104 record"), "{got:?}");
}

/// Random text from pieces that trouble a CSV reader: quotes, delimiters, every line end,
/// NUL bytes, multi-byte characters.
#[test]
fn random_text_reads_the_same_in_windows() {
    let pieces: [&[u8]; 13] = [
        b"\"",
        b",",
        b"\r\n",
        b"\n",
        b"ab",
        b"\"\"",
        b"xyz,",
        b"\r",
        b"\0",
        "é".as_bytes(),
        b"\"Move\",\"4/1/2017\",\"s\"\r\n",
        b"Move,4/1/2017,s\n",
        b";",
    ];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut skipped = 0;
    let cases = 1500;
    for case in 0..cases {
        // Every other text `;`-delimited (Export-Csv -UseCulture).
        let mut text = if case % 2 == 0 {
            HEADER.to_vec()
        } else {
            b"Operation;LastAccessed;ItemSubject\n".to_vec()
        };
        for _ in 0..(case % 197) * 3 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.extend_from_slice(pieces[(seed % pieces.len() as u64) as usize]);
        }
        skipped += check(&text, &[1, 2, 7, 50], &[1 << 30, 10, 33]);
    }
    assert!(skipped > 0, "the bound was reached");
}

#[test]
fn the_cursor_counts_the_same_in_parallel_pieces() {
    let pieces: [&[u8]; 6] = [b"\"", b"\n", b"ab,", b"\r\n", b"\"\"", &[b'x'; 70]];
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut text = b"head\n".to_vec();
    while text.len() < 5 << 20 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        text.extend_from_slice(pieces[(seed % 6) as usize]);
    }
    for cut in [text.len(), text.len() - 1000, text.len() - 3] {
        let (mut serial, mut parallel) = (Cursor::new(5, 2), Cursor::new(5, 2));
        serial.scan_serial(&text, 0, cut);
        parallel.scan(&text, 0, 3 << 20);
        parallel.scan(&text, 0, cut);
        assert_eq!(
            (serial.pos, serial.odd, serial.line, serial.last),
            (parallel.pos, parallel.odd, parallel.line, parallel.last)
        );
        assert!(serial.last[0].is_some() && serial.last[1].is_some());
    }
}
