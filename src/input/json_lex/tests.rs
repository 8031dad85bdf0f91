use proptest::prelude::*;

use super::*;

#[test]
fn swar_finds_the_first_special_byte() {
    let text = b"abcdefgh\xc3\xa9ijklmno\"pq\\r\nst\"";
    assert_eq!(find_quote(text, false), Some(17));
    assert_eq!(find_quote(&text[18..], false), Some(7));
    assert_eq!(find_quote(&text[18..], true), Some(4));
    assert_eq!(find_quote(&text[26..], false), None);
    assert_eq!(find::<InStringStrict>(b"0123456789\x1fab", 0), 10);
    assert_eq!(find::<InStringStrict>(b"0123456789\x7f\x80\xffab", 0), 15);
    for (i, s) in [b"aaaaaaaa[", b"aaaaaaaa]", b"aaaaaaaa{", b"aaaaaaaa}"]
        .iter()
        .enumerate()
    {
        assert_eq!(find::<Structural>(*s, 0), 8, "{i}");
    }
    assert_eq!(find::<Structural>(b"a;:;, \x7b", 0), 6);
    assert_eq!(find::<Structural>(b"\x1b\x1d\x3b\x3d\x5a\x5c", 0), 5);
    // every position, every byte
    for b in 0..=255u8 {
        for at in 0..40 {
            let mut v = vec![b'a'; 40];
            v[at] = b;
            let want = if Structural::byte(b) { at } else { 40 };
            assert_eq!(find::<Structural>(&v, 0), want, "byte {b:#x} at {at}");
            let want = if InStringStrict::byte(b) { at } else { 40 };
            assert_eq!(find::<InStringStrict>(&v, 0), want, "byte {b:#x} at {at}");
            for breaks in [false, true] {
                let want = (b == b'"' || (breaks && b == b'\n')).then_some(at);
                assert_eq!(find_quote(&v, breaks), want, "byte {b:#x} at {at}");
            }
        }
    }
}

#[test]
fn counts_line_feeds_in_any_density() {
    for (text, want) in [
        (vec![b'\n'; 5000], 5000),
        (b"a\nb\n\n".repeat(1000), 3000),
        (vec![b'x'; 3000], 0),
        (b"\n\x8a\x0a\xff".repeat(777), 1554),
    ] {
        assert_eq!(count_lines(&text), want);
        assert_eq!(count_lines(&text[1..]), want - u64::from(text[0] == b'\n'));
    }
    assert_eq!(skip_ws(b"        \r\n           \tx", 0), 22);
    assert_eq!(skip_ws(b"   ", 1), 3);
    assert_eq!(skip_ws(b" \x0c ", 0), 1);
    assert_eq!(skip_ascii_ws(b" \x0c x", 0), 3);
}

const CELL: Rules = lenient(Quoting::Doubled);
const PLAIN: Rules = lenient(Quoting::Plain);

#[test]
fn strings_end_at_an_unescaped_quote_under_each_rule() {
    let end = |rules: Rules, s: &str| rules.string_end(s.as_bytes(), 0);
    let closed = |quote, after| StringEnd::Closed { quote, after };
    assert_eq!(end(PLAIN, r#"ab\"c\\"x"#), closed(7, 8));
    assert_eq!(end(PLAIN, "a\nb\"x"), closed(3, 4));
    assert_eq!(end(SPLITTER, "a\nb\"x"), StringEnd::LineBreak(1));
    assert_eq!(end(SPLITTER, "a\\\nb\"x"), StringEnd::LineBreak(2));
    assert_eq!(end(PLAIN, r"abc\"), StringEnd::Open);
    assert_eq!(end(CELL, r#"a\""b""x"#), closed(5, 7));
    assert_eq!(end(CELL, r#"a"b"#), StringEnd::Open);
    assert_eq!(CELL.string_at(br#"""k"":"#, 0), Some((&b"k"[..], 5)));
    assert_eq!(CELL.string_at(br#""k"":"#, 0), None);
    assert_eq!(PLAIN.string_at(br#"x"k":"#, 0), None);
}

#[test]
fn nesting_is_matched_under_each_rule() {
    let skip = |rules: Rules, s: &str| rules.skip_nested(s.as_bytes(), 0);
    assert_eq!(skip(PLAIN, r#"{"a":["}",{}]}x"#), Some(14));
    assert_eq!(skip(PLAIN, r#"{"a":1\"}"}"#), Some(11));
    assert_eq!(skip(SPLITTER, r#"{"a":1\"}"}"#), Some(9));
    assert_eq!(skip(SPLITTER, "{\"a\":\"x\n}"), Some(9));
    assert_eq!(skip(PLAIN, "{\"a\":\"x\n}"), None);
    assert_eq!(skip(CELL, r#"{""a"":""}""}x"#), Some(13));
    assert_eq!(skip(CELL, r#"{"a":1}"#), None);
    assert_eq!(skip(PLAIN, "[[]"), None);
}

#[test]
fn escapes_are_read_once_for_every_reader() {
    for (s, q, want) in [
        (r#"\""#, Quoting::Plain, EscapeSeq::Char(2)),
        (r#"\""#, Quoting::Doubled, EscapeSeq::Bad),
        (r#"\"""#, Quoting::Doubled, EscapeSeq::Char(3)),
        (r"\/", Quoting::Plain, EscapeSeq::Char(2)),
        (r"\u00e9", Quoting::Plain, EscapeSeq::Unit(0xe9)),
        (r"\uD83D", Quoting::Doubled, EscapeSeq::Unit(0xd83d)),
        (r"\u00g9", Quoting::Plain, EscapeSeq::BadUnit),
        (r"\u00", Quoting::Plain, EscapeSeq::BadUnit),
        (r"\x", Quoting::Plain, EscapeSeq::Bad),
        (r"\", Quoting::Plain, EscapeSeq::Bad),
    ] {
        assert_eq!(escape_at(s.as_bytes(), 0, q), want, "{s}");
    }
    let strict = |s: &str| strict_string(s.as_bytes(), 0);
    assert_eq!(strict(r#"a\"b\u00e9\/"x"#), Ok(12));
    for (s, at, what) in [
        (r"ab", 2, "unterminated string"),
        (r#"a\x""#, 1, "invalid escape in a string"),
        (r#"a\u12""#, 1, "invalid \\u escape in a string"),
        (
            "ab\ncd\"",
            2,
            "line break inside a string (unterminated string?)",
        ),
        ("ab\tcd\"", 2, "control character inside a string"),
    ] {
        assert_eq!(strict(s), Err(StringError { at, what }), "{s}");
    }
    assert!(may_hold_surrogate_escape(br#"{"a":"\ud83d"}"#));
    assert!(!may_hold_surrogate_escape(br#"{"a":"\u00e9 \ud7ff"}"#));
}

/// The end of a string read one character at a time, each escape skipped as it comes: the
/// lexer finds quotes and counts the backslashes before them, which must agree.
fn string_end_by_bytes(rules: Rules, s: &[u8], start: usize) -> StringEnd {
    let doubled = rules.quoting == Quoting::Doubled;
    let mut p = start;
    loop {
        match s.get(p) {
            None => return StringEnd::Open,
            Some(b'\n') if rules.line_break_ends_string => return StringEnd::LineBreak(p),
            Some(b'"') if !doubled => {
                return StringEnd::Closed {
                    quote: p,
                    after: p + 1,
                }
            }
            Some(b'"') if s.get(p + 1) == Some(&b'"') => {
                return StringEnd::Closed {
                    quote: p,
                    after: p + 2,
                }
            }
            Some(b'"') => return StringEnd::Open,
            Some(b'\\') => match s.get(p + 1) {
                Some(b'\n') if rules.line_break_ends_string => p += 1,
                Some(b'"') if doubled && s.get(p + 2) != Some(&b'"') => return StringEnd::Open,
                Some(b'"') if doubled => p += 3,
                _ => p += 2,
            },
            Some(_) => p += 1,
        }
    }
}

/// Nesting matched one byte at a time (the splitter's and the quick look's loops before
/// they shared the lexer).
fn skip_nested_by_bytes(rules: Rules, s: &[u8], mut p: usize) -> Option<usize> {
    let w = rules.quoting.width();
    let mut depth = 0u64;
    loop {
        match *s.get(p)? {
            b'"' => {
                if s.get(p..p + w)?.iter().any(|&b| b != b'"') {
                    return None;
                }
                p = match string_end_by_bytes(rules, s, p + w) {
                    StringEnd::Closed { after, .. } => after,
                    StringEnd::LineBreak(at) => at,
                    StringEnd::Open => return None,
                };
            }
            b'\\' if rules.escapes_outside_strings => {
                p += if s.get(p + 1) == Some(&b'\n') { 1 } else { 2 };
            }
            b'{' | b'[' => {
                depth += 1;
                p += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                p += 1;
                if depth == 0 {
                    return Some(p);
                }
            }
            _ => p += 1,
        }
    }
}

fn json_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop::sample::select(&b"\"\"\"\\\\\n{}[]a:,u0\xc3\xa9 "[..]);
    prop::collection::vec(byte, 0..80)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn quote_counting_reads_escapes_as_a_byte_walk_does(s in json_bytes(), from in 0usize..80) {
        let from = from.min(s.len());
        for rules in [SPLITTER, PLAIN, CELL] {
            prop_assert_eq!(
                rules.string_end(&s, from),
                string_end_by_bytes(rules, &s, from),
                "{:?}", rules
            );
        }
    }

    #[test]
    fn nesting_is_matched_as_a_byte_walk_does(s in json_bytes(), from in 0usize..80) {
        let mut s = s;
        let from = from.min(s.len());
        s.insert(from, b'{');
        for rules in [SPLITTER, PLAIN, CELL] {
            prop_assert_eq!(
                rules.skip_nested(&s, from),
                skip_nested_by_bytes(rules, &s, from),
                "{:?}", rules
            );
        }
    }
}

/// Unescapes the inside of a JSON string literal with [`unescape_strict`].
fn unescape_all(literal: &[u8]) -> Option<Vec<u8>> {
    let inside = &literal[1..literal.len() - 1];
    let (mut out, mut i) = (Vec::new(), 0);
    while i < inside.len() {
        if inside[i] == b'\\' {
            i = unescape_strict(inside, i, &mut out)?;
        } else {
            out.push(inside[i]);
            i += 1;
        }
    }
    Some(out)
}

#[test]
fn strict_unescaping_reads_what_serde_json_reads() {
    for (literal, want) in [
        (
            r#""a\"b\\c\/d\b\f\n\r\t""#,
            Some("a\"b\\c/d\u{8}\u{c}\n\r\t"),
        ),
        (r#""\u00e9\ud83d\ude00""#, Some("é😀")),
        (r#""\ud83d""#, None),
        (r#""\ud83dx""#, None),
        (r#""\ude00""#, None),
        (r#""\u00g1""#, None),
        (r#""\x""#, None),
    ] {
        let got = unescape_all(literal.as_bytes());
        let serde: Option<String> = serde_json::from_str(literal).ok();
        assert_eq!(
            got.map(|v| String::from_utf8(v).unwrap()),
            want.map(String::from),
            "{literal}"
        );
        assert_eq!(serde.as_deref(), want, "{literal}");
    }
}

proptest::proptest! {
    #[test]
    fn strict_unescaping_inverts_serde_json(text in ".*") {
        // serde_json escapes only what it must; escape everything non-ASCII too.
        let literal = serde_json::to_string(&text).unwrap();
        let ascii: String = literal
            .chars()
            .flat_map(|c| {
                if c.is_ascii() {
                    vec![c.to_string()]
                } else {
                    let mut units = [0u16; 2];
                    c.encode_utf16(&mut units)
                        .iter()
                        .map(|u| format!("\\u{u:04x}"))
                        .collect()
                }
            })
            .collect();
        for l in [literal, ascii] {
            let got = unescape_all(l.as_bytes());
            proptest::prop_assert_eq!(got, Some(text.clone().into_bytes()));
        }
    }
}

#[test]
fn same_name_is_slice_equality() {
    // Every length across the word steps, a difference at each place, and a prefix.
    for n in 0..40usize {
        let a: Vec<u8> = (0..n).map(|i| b'A' + (i % 26) as u8).collect();
        assert!(same_name(&a, &a.clone()), "{n}");
        for at in 0..n {
            let mut b = a.clone();
            b[at] ^= 0x20;
            assert!(!same_name(&a, &b), "{n} {at}");
        }
        assert!(!same_name(&a, &a[..n.saturating_sub(1)]) || n == 0);
    }
}
