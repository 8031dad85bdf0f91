use proptest::prelude::*;

use super::classes::run_by_bytes;
use super::*;
use crate::input::json::parse::record_by_bytes;

/// Lines as the bench's generator and the Management API write them, and odd ones.
const LINES: &[&str] = &[
    r#"{"CreationTime":"2017-06-30T23:57:22","Id":"cbc2d873","Operation":"MailItemsAccessed","RecordType":50,"UserType":0,"Workload":"Exchange","ClientIP":"192.0.2.29:23029","UserId":"pattif@contoso.com","ClientInfoString":"Client=OWA;Mozilla\/5.0 (Macintosh)","ExternalAccess":false,"LogonType":0,"OperationProperties":[{"Name":"MailAccessType","Value":"Bind"},{"Name":"IsThrottled","Value":"False"}],"Folders":[{"FolderItems":[{"Id":"RgAA\/x","Subject":"Resume of yesterday's discussion","SizeInBytes":331459},{"Id":"Rg","SizeInBytes":-4.5e3}],"Path":"\\Sent Items"}]}"#,
    r#"{"CreationTime":"2024-03-05T09:10:00","Operation":"SoftDelete","RecordType":2,"Item":{"Subject":"caf\u00e9 \"q\" [x] {y}","ParentFolder":{"Path":"\\Inbox"}},"LogonType":2,"Empty":{},"None":[],"N":null,"T":true}"#,
    r#"{"a":[1,[2,[3,{"b":[]}]],"c"],"d":{"e":{"f":{}}},"g":""}"#,
    r#"{}"#,
    "{\"CreationTime\":\"x\",\"Operation\":\"y\"}\r",
    "{\"CreationTime\":\"x\",\"Operation\":\"y\"}  \t",
];

/// What the full parser reads of the line at `text[0..]`: its end and its top-level
/// member names, when the line is one valid object then blanks.
fn parsed(text: &[u8]) -> Option<(usize, Vec<Vec<u8>>)> {
    let eol = text.iter().position(|&b| b == b'\n').unwrap_or(text.len());
    let line = &text[..eol];
    let mut members = Vec::new();
    let end = record_by_bytes(line, 0, &mut members).ok()?;
    if !line[end..]
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r'))
    {
        return None;
    }
    Some((end, members.iter().map(|m| m.key.to_vec()).collect()))
}

/// What the check says of the line, with each classifier this processor has: all must
/// agree.
fn checked(text: &[u8]) -> Option<(usize, Vec<Vec<u8>>)> {
    let mut answers = Vec::new();
    let mut scratch = Scratch::default();
    let by_bytes = run_by_bytes(text, 0, text.len(), &mut scratch);
    let names = |scratch: &Scratch| {
        scratch
            .names
            .chunks_exact(2)
            .map(|q| text[q[0] as usize + 1..q[1] as usize].to_vec())
            .collect::<Vec<_>>()
    };
    answers.push(by_bytes.map(|c| (c.record_end, names(&scratch))));
    for isa in [Isa::Avx2, Isa::Avx512] {
        let best = Isa::best();
        if isa == best || (isa == Isa::Avx2 && best == Isa::Avx512) {
            let got = check(isa, text, 0, text.len(), &mut scratch);
            answers.push(got.map(|c| (c.record_end, names(&scratch))));
        }
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    answers.swap_remove(0)
}

#[test]
fn accepts_compact_records_as_the_parser_reads_them() {
    for line in LINES {
        let text = format!("{line}\n{{\"next\":1}}\n");
        let got = checked(text.as_bytes());
        assert!(got.is_some(), "{line}");
        assert_eq!(got, parsed(text.as_bytes()), "{line}");
    }
}

#[test]
fn refuses_what_is_not_one_compact_valid_object() {
    for bad in [
        r#"{"a":1} {"b":2}"#,
        r#"{"a" : 1}"#,
        r#"{"a":1,}"#,
        r#"{"a"}"#,
        r#"{"a":1:2}"#,
        r#"{"a":"b":"c"}"#,
        r#"["a"]"#,
        r#"{"a":[1,"b":2]}"#,
        r#"{"a":["b":2]}"#,
        r#"{"a":{"b"}}"#,
        r#"{"a":1]"#,
        r#"{"a":[1}"#,
        r#"{"a":01}"#,
        r#"{"a":tru}"#,
        r#"{"a":"\x"}"#,
        r#"{"a":"\ud83d\ude00"}"#,
        "{\"a\":\"\u{1}\"}",
        r#"{"a":1}x"#,
        r#"{"a":1"#,
        r#"{"a":"b"#,
        r#"{"a""b":1}"#,
        r#"{"a":1"b":2}"#,
        r#"{"a":{}1}"#,
        r#"{,"a":1}"#,
        r#"{"a":,}"#,
        r#"{"a":1,2:3}"#,
        r#"{"a":1,{}:3}"#,
        r#"{"a":1,["x"]:3}"#,
    ] {
        assert_eq!(checked(format!("{bad}\n").as_bytes()), None, "{bad}");
    }
}

#[test]
fn finds_names_across_blocks() {
    for pad in 0..140 {
        let line = format!(
            r#"{{"{}":"{}","Operation":{{"x":[1,2]}},"Sub\"ject":"v"}}"#,
            "k".repeat(pad % 70),
            "v".repeat(pad)
        );
        let got = checked(line.as_bytes());
        assert_eq!(got, parsed(line.as_bytes()), "{line}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3_000))]

    /// A line the check accepts is one the full parser reads, to the same end and with
    /// the same top-level names: damaged lines included (bytes cut, JSON's punctuation
    /// and escapes put anywhere), and arbitrary bytes never panic.
    #[test]
    fn never_accepts_what_the_parser_refuses(
        which in 0..LINES.len(),
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), 0..3u8, prop::sample::select(
                &[b'"', b'\\', b'{', b'}', b'[', b']', b':', b',', b' ', b'1', b'\n', 1u8, b'u', b'e'][..]
            )),
            0..4,
        ),
    ) {
        let mut line = LINES[which].as_bytes().to_vec();
        for (at, kind, byte) in edits {
            if line.is_empty() {
                break;
            }
            let i = at.index(line.len());
            match kind {
                0 => { line.remove(i); }
                1 => line.insert(i, byte),
                _ => line[i] = byte,
            }
        }
        if let Some(got) = checked(&line) {
            prop_assert_eq!(Some(got), parsed(&line));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Some(got) = checked(&bytes) {
            prop_assert_eq!(Some(got), parsed(&bytes));
        }
    }
}
