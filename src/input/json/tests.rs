//! Unit and property tests of the JSON reader.

use proptest::prelude::*;

use super::*;
use crate::input::visit::{EventKey, OnDemand};
use crate::record::{AuditRecord, Field};

/// What a visitor saw of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Row {
    pub line: u64,
    fields: Vec<(Field, String)>,
    subject: String,
    extra_subjects: Vec<String>,
    items: Vec<(String, String)>,
    key: EventKey,
}

#[derive(Default, Debug)]
pub(super) struct Collect {
    pub rows: Vec<Row>,
    pub bad: Vec<(u64, String)>,
    pub warnings: Vec<(u64, String)>,
}

fn text_of(f: crate::record::RawField<'_>) -> String {
    String::from_utf8_lossy(&f.unescaped()).into_owned()
}

impl Visitor for Collect {
    fn record(&mut self, rec: &AuditRecord<'_>, key: &dyn OnDemand, line: u64) {
        self.rows.push(Row {
            line,
            fields: Field::ALL
                .into_iter()
                .filter(|&f| !rec.get(f).is_empty())
                .map(|f| (f, text_of(rec.get(f))))
                .collect(),
            subject: text_of(rec.subject()),
            extra_subjects: rec.extra_subjects.iter().map(|&s| text_of(s)).collect(),
            items: rec
                .items
                .iter()
                .map(|i| (text_of(i.folder), text_of(i.subject)))
                .collect(),
            key: key.event_key(),
        });
    }
    fn malformed(&mut self, line: u64, reason: String) {
        self.bad.push((line, reason));
    }
    fn warn(&mut self, line: u64, message: String) {
        self.warnings.push((line, message));
    }
    fn shift_lines(&mut self, by: u64) {
        for row in &mut self.rows {
            row.line += by;
        }
        for (line, _) in self.bad.iter_mut().chain(&mut self.warnings) {
            *line += by;
        }
    }
}

impl Row {
    fn get(&self, f: Field) -> &str {
        self.fields
            .iter()
            .find(|(g, _)| *g == f)
            .map_or("", |(_, v)| v.as_str())
    }
}

fn read_all(text: &[u8], target: usize) -> Collect {
    read_with(text, target, 2)
}

/// Reads `text` in chunks of about `target` bytes as with `threads` threads.
pub(super) fn read_with(text: &[u8], target: usize, threads: usize) -> Collect {
    let total = std::sync::atomic::AtomicUsize::new(0);
    let parts = scan_with_chunk_size(
        text,
        Collect::default,
        &|r: std::ops::Range<usize>| {
            total.fetch_add(r.len(), std::sync::atomic::Ordering::Relaxed);
        },
        target,
        threads,
    );
    assert_eq!(total.into_inner(), text.len(), "progress covers the text");
    let mut all = Collect::default();
    for p in parts {
        all.rows.extend(p.rows);
        all.bad.extend(p.bad);
        all.warnings.extend(p.warnings);
    }
    all
}

fn ops(c: &Collect) -> Vec<(u64, &str)> {
    c.rows
        .iter()
        .map(|r| (r.line, r.get(Field::Operation)))
        .collect()
}

fn rec(op: &str) -> String {
    format!(r#"{{"Operation":"{op}","LastAccessed":"2017-04-10T15:22:11Z"}}"#)
}

#[test]
fn reads_arrays_concatenations_and_bare_objects() {
    let text = format!(
        "    [{},\r\n    {}]\r\n[\r\n{}\r\n]\r\n{}{}\r\n",
        rec("A"),
        rec("B"),
        rec("C"),
        rec("D"),
        rec("E")
    );
    assert_eq!(sniff_layout(text.as_bytes()), Layout::Document);
    let all = read_all(text.as_bytes(), 1 << 20);
    assert_eq!(
        ops(&all),
        vec![(1, "A"), (2, "B"), (4, "C"), (6, "D"), (6, "E")]
    );
    assert!(all.bad.is_empty(), "{:?}", all.bad);
}

#[test]
fn json_lines_resume_after_a_broken_line() {
    let text = format!(
        "{}\r\n{{\"Operation\":\"B\",\r\n{}\r\n\r\n[{},{}]\r\n{} trailing\n{}",
        rec("A"),
        rec("C"),
        rec("D"),
        rec("E"),
        rec("F"),
        rec("G")
    );
    assert_eq!(sniff_layout(text.as_bytes()), Layout::Lines);
    let all = read_all(text.as_bytes(), 1 << 20);
    assert_eq!(
        ops(&all),
        vec![(1, "A"), (3, "C"), (5, "D"), (5, "E"), (6, "F"), (7, "G")]
    );
    assert_eq!(
        all.bad,
        vec![(
            2,
            "truncated: the record that starts here is not closed at the end of the line"
                .to_string()
        )]
    );
    // Text after a record that was read: a warning on its line, not a second row.
    assert_eq!(
        all.warnings,
        vec![(
            6,
            "unexpected text between JSON values: 'trailing': ignored, after the record read \
             on this line"
                .to_string()
        )]
    );
}

#[test]
fn strings_may_hold_brackets_escaped_quotes_and_line_break_escapes() {
    let text = br#"[{"Operation":"a]}\"{[","LastAccessed":"x","ItemSubject":"q\\\"\r\n}"},
{"Operation":"b","LastAccessed":"y"}]"#;
    let all = read_all(text, 1 << 20);
    assert_eq!(ops(&all), vec![(1, "a]}\"{["), (2, "b")]);
    assert_eq!(all.rows[0].get(Field::ItemSubject), "q\\\"\r\n}");
}

#[test]
fn truncation_is_reported_at_the_line_where_the_record_starts() {
    let text = format!("[\r\n{},\r\n{{\r\n\"Operation\": \"Cut", rec("A"));
    let all = read_all(text.as_bytes(), 1 << 20);
    assert_eq!(ops(&all), vec![(2, "A")]);
    assert_eq!(
        all.bad,
        vec![(
            3,
            "truncated: the record that starts here is not closed at the end of the file: the \
             file was probably cut short (a truncated copy or export); the records before it \
             are read, copy or export the file again to recover this one"
                .into()
        )]
    );
    // cut between records: the records are read, the open array is reported
    let all = read_all(format!("[{},\r\n", rec("A")).as_bytes(), 1 << 20);
    assert_eq!(ops(&all).len(), 1);
    assert_eq!(all.bad.len(), 1);
    assert!(all.bad[0]
        .1
        .contains("array that starts here is not closed"));
}

#[test]
fn invalid_records_are_reported_with_the_line_of_the_error() {
    let text = format!(
        "[\n{},\n{{\n\"Operation\": \"x\"\n\"LastAccessed\": \"y\"}},\n{},\n{{\"a\":1}}, 7]",
        rec("A"),
        rec("B")
    );
    let all = read_all(text.as_bytes(), 1 << 20);
    assert_eq!(ops(&all), vec![(2, "A"), (6, "B")]);
    assert_eq!(
        all.bad,
        vec![
            (
                3,
                "not valid JSON: expected ',' or '}' after a member (line 5)".into()
            ),
            (
                7,
                "not an audit record: no Operation/LastAccessed or CreationTime".into()
            ),
            (7, "array element is not an object: '7'".into()),
        ]
    );
}

/// Records of every shape and error, in both layouts.
fn mixed_sample(lines: bool) -> String {
    let mut text = String::new();
    for i in 0..40 {
        let r = rec(&format!("Op{i}"));
        let piece = match i % 8 {
            0 => format!("[{r},{r}]"),
            1 => format!("{{\"Operation\":\"p{i}\",\"LastAccessed\":\"a\\\"]}}\"}}"),
            2 => format!("[{r}, 1, {{\"x\":{{}}}}]"),
            3 if lines => format!("{{\"Operation\":\"cut{i}\""),
            3 => format!("garbage {i}"),
            4 => "".to_string(),
            5 => format!("{{\"Operation\":\"s\",\"LastAccessed\":\"x\", \"bad\": tru}} {r}"),
            _ => r,
        };
        text.push_str(&piece);
        text.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
    }
    if !lines {
        // pretty-printed: members on their own lines, the second half in an array
        text = text.replace("\",\"", "\",\n    \"");
        let half = text.len() / 2;
        let cut = half + text[half..].find("\n{").unwrap_or(0);
        text = format!(
            "{}[\n{}\n]",
            &text[..cut],
            text[cut..].replace("}\n{", "},\n{")
        );
    }
    text
}

#[test]
fn same_records_at_any_chunk_size() {
    for lines in [true, false] {
        let text = mixed_sample(lines);
        let want = if lines {
            Layout::Lines
        } else {
            Layout::Document
        };
        assert_eq!(sniff_layout(text.as_bytes()), want);
        let reference = read_all(text.as_bytes(), 1 << 20);
        assert!(
            reference.rows.len() > 25,
            "{} {:?}",
            reference.rows.len(),
            reference.bad
        );
        assert!(!reference.bad.is_empty());
        for target in [1, 2, 3, 7, 16, 64, 100, 1000] {
            for threads in [1, 2] {
                let got = read_with(text.as_bytes(), target, threads);
                let at = format!("lines {lines} target {target} threads {threads}");
                assert_eq!(got.rows, reference.rows, "{at}");
                assert_eq!(got.bad, reference.bad, "{at}");
            }
        }
    }
}

#[test]
fn sniffs_the_layout() {
    assert_eq!(sniff_layout(b""), Layout::Document);
    assert_eq!(sniff_layout(b"{}"), Layout::Lines);
    assert_eq!(sniff_layout(b"[{\"a\":1},{}]\r\n"), Layout::Lines);
    assert_eq!(
        sniff_layout(b"[\r\n  {\r\n    \"a\": 1\r\n  }\r\n]"),
        Layout::Document
    );
    assert_eq!(
        sniff_layout(b"    [{\r\n\"a\":  1\r\n    }]"),
        Layout::Document
    );
    assert_eq!(sniff_layout(b"[]\n[]\n"), Layout::Document);
}

const LEGACY: &str = r#"{
    "RunspaceId":  "9f0c3c1e-0000-4000-a000-000000000001",
    "Operation":  "SoftDelete",
    "OperationResult":  "Succeeded",
    "LogonType":  2,
    "ExternalAccess":  false,
    "CrossMailboxOperation":  true,
    "ClientIPAddress":  "203.0.113.7",
    "LogonUserDisplayName":  "Eve Attacker",
    "SourceItems":  [
                        {
                            "SourceItemId":  "RgAAAAAD1",
                            "SourceItemSubject":  " Good News",
                            "SourceItemFolderPathName":  "\\Inbox"
                        },
                        {
                            "SourceItemId":  "RgAAAAAD2",
                            "SourceItemSubject":  " Invoice, March 2017",
                            "SourceItemFolderPathName":  "\\Inbox"
                        }
                    ],
    "SourceItemSubjectsList":  " Good News, Invoice, March 2017",
    "ItemSubject":  null,
    "MailboxGuid":  "5b1c2a9e-0d7f-4e0b-9a51-2f3c9d1e7a10",
    "LastAccessed":  "\/Date(1492035405000)\/",
    "Identity":  "RgAAAAD2abc",
    "IsValid":  true
}"#;

#[test]
fn maps_powershell_mailbox_audit_objects() {
    let all = read_all(LEGACY.as_bytes(), 1 << 20);
    assert!(all.bad.is_empty(), "{:?}", all.bad);
    let r = &all.rows[0];
    assert_eq!(r.line, 1);
    assert_eq!(r.get(Field::Operation), "SoftDelete");
    assert_eq!(r.get(Field::LogonType), "2");
    assert_eq!(r.get(Field::CrossMailboxOperation), "True");
    assert_eq!(r.get(Field::LastAccessed), "/Date(1492035405000)/");
    assert_eq!(r.get(Field::ItemSubject), "");
    assert_eq!(r.get(Field::SourceItemSubjectsList), " Good News");
    assert_eq!(r.subject, "Good News");
    assert_eq!(r.extra_subjects, vec!["Good News", "Invoice, March 2017"]);
    assert_eq!(
        r.items,
        vec![
            ("\\Inbox".into(), "Good News".into()),
            ("\\Inbox".into(), "Invoice, March 2017".into())
        ]
    );
    assert!(matches!(r.key, EventKey::Whole(_)), "keyed by Identity");

    // Default depth: SourceItems is a type name; the subject list is used.
    let shallow = LEGACY.replace(
        &LEGACY[LEGACY.find("[\n").unwrap()..LEGACY.find("],").unwrap() + 1],
        "\"System.Collections.ArrayList\"",
    );
    let all = read_all(shallow.as_bytes(), 1 << 20);
    let r = &all.rows[0];
    assert_eq!(r.subject, "Good News, Invoice, March 2017");
    assert!(r.extra_subjects.is_empty() && r.items.is_empty());
    assert_eq!(r.key, read_all(LEGACY.as_bytes(), 1 << 20).rows[0].key);

    // The DateTime object form and an ISO string.
    let obj = LEGACY.replace(
        r#""\/Date(1492035405000)\/""#,
        r#"{"value":"\/Date(1492035405000)\/","DisplayHint":2,"DateTime":"Wednesday, April 12, 2017 10:16:45 PM"}"#,
    );
    let r = &read_all(obj.as_bytes(), 1 << 20).rows[0];
    assert_eq!(r.get(Field::LastAccessed), "/Date(1492035405000)/");
    let iso = LEGACY.replace(
        r#""\/Date(1492035405000)\/""#,
        r#""2017-04-12T22:16:45+02:00""#,
    );
    let r = &read_all(iso.as_bytes(), 1 << 20).rows[0];
    assert_eq!(r.get(Field::LastAccessed), "2017-04-12T22:16:45+02:00");
}

/// The key a CSV export gives the same event.
fn csv_key(csv_text: &str) -> EventKey {
    let text = csv_text.as_bytes();
    let layout = crate::input::csv::Layout::read(text, 0, 1).unwrap();
    let mut parts = crate::input::csv::scan(text, &layout, Collect::default, &|_| {});
    parts.remove(0).rows.remove(0).key
}

#[test]
fn dedup_keys_match_the_csv_export_of_the_same_event() {
    let json = read_all(LEGACY.as_bytes(), 1 << 20).rows[0].key;
    let csv = csv_key("\"Operation\",\"LastAccessed\",\"Identity\"\r\n\"SoftDelete\",\"4/12/2017 10:16:45 PM\",\"RgAAAAD2abc\"\r\n");
    assert_eq!(json, csv);

    // Without Identity: every other member, values as Export-Csv writes them.
    let json = r#"[{"RunspaceId":"a","Operation":"MoveToDeletedItems","LogonType":2,"ExternalAccess":false,
        "ItemSubject":null,"FolderPathName":"\\Inbox","SourceItemSubjectsList":" He said \"hi\"",
        "SourceItems":"System.Collections.ArrayList","LastAccessed":"\/Date(1492035423000)\/"}]"#;
    let csv = "\"RunspaceId\",\"Operation\",\"LogonType\",\"ExternalAccess\",\"ItemSubject\",\"FolderPathName\",\"SourceItemSubjectsList\",\"SourceItems\",\"LastAccessed\"\r\n\
        \"b\",\"MoveToDeletedItems\",\"Delegate\",\"False\",\"\",\"\\Inbox\",\" He said \"\"hi\"\"\",\"System.Collections.ArrayList\",\"4/12/2017 10:17:03 PM\"\r\n";
    let json = read_all(json.as_bytes(), 1 << 20).rows[0].key;
    assert_eq!(json, csv_key(csv));
    assert!(matches!(json, EventKey::Columns(_)));
}

#[test]
fn classifies_record_objects_by_their_members() {
    let text = br#"{"Name":"x"}
{"CreationDate":"\/Date(1728344797000)\/","UserIds":"a@b.c","Operations":"New-InboxRule","RecordType":"ExchangeAdmin","AuditData":"{\"cut","Identity":"i1"}
"#;
    let all = read_all(text, 1 << 20);
    assert_eq!(
        all.bad,
        vec![(
            1,
            "not an audit record: no Operation/LastAccessed or CreationTime".into()
        )]
    );
    // AuditData cut: warned, and reported from the wrapper's members.
    assert_eq!(all.warnings.len(), 1);
    assert_eq!(all.warnings[0].0, 2);
    let r = &all.rows[0];
    assert_eq!(r.get(Field::Operation), "New-InboxRule");
    assert_eq!(r.get(Field::LastAccessed), "/Date(1728344797000)/");
    assert_eq!(r.get(Field::UserId), "a@b.c");
    assert_eq!(r.get(Field::LogonUserDisplayName), "a@b.c");
    assert_eq!(r.get(Field::RecordType), "ExchangeAdmin");
    assert!(matches!(r.key, EventKey::Columns(_)));
}

// ---- property tests: any bytes, never a panic, always an end ----

struct Count(usize);

impl Visitor for Count {
    fn record(&mut self, rec: &AuditRecord<'_>, key: &dyn OnDemand, _line: u64) {
        let _ = (rec.subject(), key.event_key());
        self.0 += 1;
    }
    fn malformed(&mut self, _line: u64, _reason: String) {
        self.0 += 1;
    }
    fn warn(&mut self, _line: u64, _message: String) {}
}

/// Reads `bytes` in chunks of `target` bytes on two threads (chunks cut by lines, by the
/// layout's guess or by the planner), and in one sequential pass: the same records, lines
/// and messages.
fn check(bytes: &[u8], target: usize) {
    let parts = scan_with_chunk_size(bytes, || Count(0), &|_| {}, target, 2);
    let small: usize = parts.iter().map(|c| c.0).sum();
    let whole: usize = scan_with_chunk_size(bytes, || Count(0), &|_| {}, target, 1)
        .iter()
        .map(|c| c.0)
        .sum();
    assert_eq!(small, whole);
    let (pieces, one) = (read_with(bytes, target, 2), read_with(bytes, target, 1));
    assert_eq!(pieces.rows, one.rows);
    assert_eq!(pieces.bad, one.bad);
    assert_eq!(pieces.warnings, one.warnings);
}

/// Pretty-printed dumps are cut where their layout says records end, the cuts proven
/// afterwards; a wrong guess (a damaged record, another layout) falls back to the
/// planner. Either way, the records, lines and messages of one sequential pass.
#[test]
fn documents_cut_by_their_layout_read_as_one_pass() {
    let mut guessed = 0;
    for text in fixtures() {
        if sniff_layout(text) != Layout::Document {
            continue;
        }
        guessed += usize::from(guess::scan(text, 4096, &Collect::default, &|_| {}).is_some());
        for target in [64, 700, 4096, 30_000] {
            check(text, target);
        }
        // Damaged near the cuts: a lost brace, a line break in a string, a cut file.
        for at in [text.len() / 3, text.len() / 2, text.len() * 2 / 3] {
            let mut damaged = text.clone();
            let brace = damaged[at..]
                .iter()
                .position(|&b| b == b'}')
                .map(|i| at + i);
            if let Some(i) = brace {
                damaged.remove(i);
            }
            check(&damaged, 700);
            let mut broken = text.clone();
            broken.insert(at, b'\n');
            check(&broken, 700);
            check(&text[..at], 700);
        }
    }
    assert!(guessed >= 5, "{guessed} fixtures cut by their layout");
}

fn json_noise() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(
            b"{}[]\",:\\ \n\r\t0123456789.-eEtruefalsnOpLA\x00\xff/Date()".to_vec(),
        ),
        0..400,
    )
}

/// JSON fixtures, decoded as the pipeline decodes them.
fn fixtures() -> &'static [Vec<u8>] {
    static FIXTURES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    FIXTURES.get_or_init(load_fixtures)
}

fn load_fixtures() -> Vec<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<_> = ["testdata/json", "testdata/graph"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root.join(dir)).into_iter().flatten())
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    names.retain(|p| p.extension().is_some_and(|e| e == "json" || e == "jsonl"));
    names.sort();
    names
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .map(|b| crate::input::decode::decode(&b, None).text.into_owned())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600), target in 1usize..64) {
        check(&bytes, target);
    }

    #[test]
    fn json_shaped_noise_never_panics(bytes in json_noise(), target in 1usize..64) {
        check(&bytes, target);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn mutated_fixtures_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(
            b"{}[]\",:\\ \n0x".to_vec()), 0u8..3), 1..6),
        target in 1usize..4096,
    ) {
        let all = fixtures();
        prop_assert!(all.len() >= 10, "testdata/json fixtures missing");
        let mut bytes = all[pick.index(all.len())].clone();
        for (at, b, op) in edits {
            let i = at.index(bytes.len() + 1);
            match op {
                0 => bytes.insert(i, b),
                1 if i < bytes.len() => bytes[i] = b,
                _ => bytes.truncate(i),
            }
        }
        check(&bytes, target);
    }
}

#[test]
fn an_audit_data_object_that_cannot_be_read_is_reported_with_its_size() {
    // Some collectors write AuditData as an object: one that is not a record is warned
    // about with its own size, and the row reported from the wrapper's members.
    let text = br#"{"CreationDate":"2024-10-08T00:00:00","UserIds":"a@b.c","Operations":"Set-Mailbox","RecordType":"ExchangeAdmin","AuditData":{"Name":"x"},"Identity":"i1"}
"#;
    let all = read_all(text, 1 << 20);
    assert_eq!(all.warnings.len(), 1, "{:?}", all.warnings);
    assert!(
        all.warnings[0]
            .1
            .starts_with("AuditData (12 characters) cannot be read"),
        "{:?}",
        all.warnings
    );
    assert_eq!(all.rows.len(), 1);
    assert_eq!(all.rows[0].get(Field::Operation), "Set-Mailbox");
}
