use proptest::prelude::*;

use super::*;
use crate::input::json::parse::record_by_bytes;
use crate::input::structural::Isa;

/// Every instruction set this processor can run, the baseline first.
fn isas() -> Vec<Isa> {
    let best = Isa::best();
    [Isa::Baseline, Isa::Avx2, Isa::Avx512]
        .into_iter()
        .filter(|&i| i == Isa::Baseline || i == best || (i == Isa::Avx2 && best == Isa::Avx512))
        .collect()
}

/// The escaped bytes of `s`, one byte at a time: a backslash that is not itself escaped
/// escapes the next byte (listed unless it is a backslash).
fn escaped_by_bytes(s: &[u8]) -> Vec<bool> {
    let mut out = vec![false; s.len()];
    let mut escaping = false;
    for (i, &b) in s.iter().enumerate() {
        if escaping {
            out[i] = b != b'\\';
            escaping = false;
        } else {
            escaping = b == b'\\';
        }
    }
    out
}

fn escaped_by_blocks(s: &[u8]) -> Vec<bool> {
    let mut out = Vec::new();
    let mut carry = 0;
    for block in s.chunks(64) {
        let bs = block
            .iter()
            .enumerate()
            .fold(0u64, |m, (i, &b)| m | u64::from(b == b'\\') << i);
        let e = escaped_bytes(bs, &mut carry);
        out.extend((0..block.len()).map(|i| e >> i & 1 == 1));
    }
    out
}

#[test]
fn escapes_across_block_boundaries() {
    for run in 0..70 {
        for at in [0, 1, 30, 62, 63, 64, 65, 126, 127] {
            let mut s = vec![b'a'; 200];
            for b in &mut s[at..(at + run).min(200)] {
                *b = b'\\';
            }
            assert_eq!(
                escaped_by_blocks(&s),
                escaped_by_bytes(&s),
                "run {run} at {at}"
            );
        }
    }
}

/// The members of `s`'s record as the byte parser reads them, or its error.
fn by_bytes(s: &[u8]) -> Result<(usize, Vec<Member<'_>>), super::super::parse::Error> {
    let mut out = Vec::new();
    record_by_bytes(s, 0, &mut out).map(|end| (end, out))
}

/// Whether the valid record `s` escapes a UTF-16 surrogate, its escapes read one by one.
fn escapes_a_surrogate(s: &[u8]) -> bool {
    use crate::input::json_lex::{escape_at, EscapeSeq, Quoting};
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            i += 1;
            continue;
        }
        match escape_at(s, i, Quoting::Plain) {
            EscapeSeq::Unit(u) if (0xD800..0xE000).contains(&u) => return true,
            e => i += e.len().max(1),
        }
    }
    false
}

/// Checks that each instruction set's block reader, when it reads `s`, reads it as the
/// byte parser does, and that `parse_record` (blocks, else bytes) gives exactly the
/// byte parser's answer. Returns whether the block reader read it.
fn same_as_bytes(s: &[u8]) -> bool {
    let want = by_bytes(s);
    let mut read = Vec::new();
    for isa in isas() {
        let mut out = Vec::new();
        let got = record_with(isa, s, 0, &mut out).map(|p| p.end);
        if let Some(end) = got {
            assert_eq!(
                Ok((end, out)),
                want,
                "{isa:?} read {:?}",
                String::from_utf8_lossy(s)
            );
        }
        read.push(got.is_some());
    }
    assert!(read.windows(2).all(|w| w[0] == w[1]), "{read:?}");
    let mut out = Vec::new();
    let both = super::parse_record(s, 0, &mut out, &mut Scratch::default()).map(|p| (p.end, out));
    assert_eq!(both, want);
    read[0]
}

#[test]
fn reads_plain_records_and_leaves_the_rest_to_the_byte_parser() {
    for (text, plain) in [
        (r#"{}"#, true),
        (
            r#"{"a":1,"b":[1,{"c":null}],"d":"x\"y\\","e":true,"f":-0.5e+3}"#,
            true,
        ),
        ("{ \"a\" :\t\"b\" ,\r\n \"c\" : { } , \"d\":[ ] }", true),
        (r#"{"a":"\u00e9\/\b\f\n\r\t"}x"#, true),
        (r#"{"a":"x"}{"b":"\x"}"#, true),
        (r#"{"a":"\x"}"#, false),
        (r#"{"a":"\u00g9"}"#, false),
        ("{\"a\":\"x\ty\"}", false),
        (r#"{"a":01}"#, false),
        (r#"{"a":1.}"#, false),
        (r#"{"a":tru}"#, false),
        (r#"{"a":truex}"#, false),
        (r#"{"a":[1,]}"#, false),
        (r#"{"a":[1}"#, false),
        (r#"{"a":{]}"#, false),
        (r#"{"a" 1}"#, false),
        (r#"{"a":1 "b":2}"#, false),
        (r#"{a:1}"#, false),
        (r#"{"a":1,}"#, false),
        (r#"{"a":1"#, false),
        (r#"{"a":"abc"#, false),
        (r#"{"a":1\}"#, false),
        ("{\"a\":\x0c1}", false),
    ] {
        assert_eq!(same_as_bytes(text.as_bytes()), plain, "{text}");
    }
    let deep = |n: usize| "{\"a\":".to_string() + &"[".repeat(n) + &"]".repeat(n) + "}";
    assert!(same_as_bytes(deep(127).as_bytes()));
    assert!(!same_as_bytes(deep(128).as_bytes()));
    // Long strings and runs of backslashes across blocks.
    for n in [60, 62, 63, 64, 65, 127, 128, 200] {
        let s = format!(
            r#"{{"k":"{}\\\"{}","n":{}}}"#,
            "x".repeat(n),
            "\\\\".repeat(n),
            n
        );
        assert!(same_as_bytes(s.as_bytes()), "{s}");
    }
}

/// A JSON string as text, with every kind of escape.
fn string() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "a",
            "é",
            "🎉",
            " ",
            "\\\"",
            "\\\\",
            "\\/",
            "\\b",
            "\\f",
            "\\n",
            "\\r",
            "\\t",
            "\\u00e9",
            "\\uD83D\\uDE00",
            "\\ud800",
            "{",
            "}",
            "[",
            "]",
            ":",
            ",",
            "'",
        ]),
        0..40,
    )
    .prop_map(|parts| format!("\"{}\"", parts.concat()))
}

/// A JSON value as text, with every kind of escape, number and whitespace.
fn value(depth: u32) -> BoxedStrategy<String> {
    let number = prop::sample::select(vec![
        "0",
        "-0",
        "12",
        "-3.25",
        "1e5",
        "2E-3",
        "4.5e+10",
        "1234567890123",
    ])
    .prop_map(str::to_string);
    let literal = prop::sample::select(vec!["true", "false", "null"]).prop_map(str::to_string);
    let leaf = prop_oneof![string(), number, literal].boxed();
    if depth == 0 {
        return leaf;
    }
    let ws = || prop::sample::select(vec!["", " ", "\r\n    ", "\t", "\n"]);
    let member = (string(), ws(), value(depth - 1)).prop_map(|(k, w, v)| format!("{k}{w}:{w}{v}"));
    let object = (prop::collection::vec(member, 0..6), ws())
        .prop_map(|(m, w)| format!("{{{w}{}{w}}}", m.join(&format!(",{w}"))));
    let array = (prop::collection::vec(value(depth - 1), 0..5), ws())
        .prop_map(|(e, w)| format!("[{w}{}{w}]", e.join(&format!("{w},"))));
    prop_oneof![2 => leaf, 1 => object, 1 => array].boxed()
}

fn record_text() -> impl Strategy<Value = String> {
    let ws = || prop::sample::select(vec!["", " ", "\r\n  ", "\n"]);
    let member = (string(), ws(), value(3)).prop_map(|(k, w, v)| format!("{k}{w}:  {v}"));
    (prop::collection::vec(member, 0..12), ws(), ws())
        .prop_map(|(m, w, tail)| format!("{{{w}{}{w}}}{tail}", m.join(&format!(",{w}"))))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    #[test]
    fn escapes_are_found_as_one_byte_at_a_time(s in prop::collection::vec(
        prop::sample::select(&b"\\\\\\a\""[..]), 0..300)
    ) {
        prop_assert_eq!(escaped_by_blocks(&s), escaped_by_bytes(&s));
    }

    /// Valid records are read from their blocks, as the byte parser reads them, and
    /// their surrogate escapes are found.
    #[test]
    fn valid_records_are_read_from_blocks(text in record_text()) {
        prop_assert!(same_as_bytes(text.as_bytes()), "{}", text);
        let parsed = record(text.as_bytes(), 0, &mut Vec::new(), &mut Scratch::default());
        let end = parsed.map_or(0, |p| p.end);
        let want = escapes_a_surrogate(&text.as_bytes()[..end]);
        prop_assert_eq!(parsed.and_then(|p| p.surrogates), Some(want));
        let feeds = text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() as u64;
        prop_assert_eq!(parsed.and_then(|p| p.line_feeds), Some(feeds));
    }

    /// Damaged records: the block reader reads only what the byte parser reads, alike.
    #[test]
    fn damaged_records_are_read_alike(
        text in record_text(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..4u8), 1..4),
    ) {
        let mut bytes = text.into_bytes();
        for (at, b, kind) in edits {
            let i = at.index(bytes.len().max(1));
            let noise = [b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b'\n', b'\x01', b];
            match kind {
                0 if i < bytes.len() => bytes[i] = noise[usize::from(b) % noise.len()],
                1 => bytes.insert(i.min(bytes.len()), noise[usize::from(b) % noise.len()]),
                2 if i < bytes.len() => { bytes.remove(i); }
                _ => bytes.truncate(i),
            }
        }
        if bytes.first() == Some(&b'{') {
            same_as_bytes(&bytes);
        }
    }

    #[test]
    fn arbitrary_bytes_are_read_alike(tail in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut bytes = vec![b'{'];
        bytes.extend(tail);
        same_as_bytes(&bytes);
    }
}
