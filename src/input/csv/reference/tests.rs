//! The fast CSV path against the reference, visitor call by visitor call, at chunk sizes
//! from one byte up: every record's fields, line and dedup key, every malformed row and
//! warning, in order.

use super::super::{scan_with_chunk_size, Layout};
use super::*;
use crate::record::FieldSet;

/// One call a reader made, with everything the visitor could see.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Call {
    Record {
        line: u64,
        fields: Vec<Vec<u8>>,
        time_is_utc: bool,
        extra_subjects: Vec<Vec<u8>>,
        items: Vec<[Vec<u8>; 3]>,
        key: EventKey,
    },
    Malformed(u64, String),
    Warn(u64, String),
}

#[derive(Default)]
struct Recorder(Vec<Call>);

impl Visitor for Recorder {
    fn record(&mut self, rec: &AuditRecord<'_>, key: &dyn OnDemand, line: u64) {
        let own = |f: &RawField<'_>| f.unescaped().into_owned();
        self.0.push(Call::Record {
            line,
            fields: Field::ALL.iter().map(|&f| own(&rec.get(f))).collect(),
            time_is_utc: rec.time_is_utc,
            extra_subjects: rec.extra_subjects.iter().map(own).collect(),
            items: rec
                .items
                .iter()
                .map(|i| [own(&i.folder), own(&i.internet_message_id), own(&i.subject)])
                .collect(),
            key: key.event_key(),
        });
    }
    fn malformed(&mut self, line: u64, reason: String) {
        self.0.push(Call::Malformed(line, reason));
    }
    fn warn(&mut self, line: u64, message: String) {
        self.0.push(Call::Warn(line, message));
    }
    fn shift_lines(&mut self, by: u64) {
        for call in &mut self.0 {
            match call {
                Call::Record { line, .. } | Call::Malformed(line, _) | Call::Warn(line, _) => {
                    *line += by;
                }
            }
        }
    }
}

fn fast(text: &[u8], layout: &Layout, target: usize) -> Vec<Call> {
    scan_with_chunk_size(text, layout, Recorder::default, &|_| {}, target)
        .into_iter()
        .flat_map(|r| r.0)
        .collect()
}

fn reference(text: &[u8], layout: &Layout) -> Vec<Call> {
    let mut r = Recorder::default();
    scan(text, layout, &mut r);
    r.0
}

/// Asserts that the fast path gives the reference's calls at every chunk size in
/// `targets`, and returns the reference's.
fn check(text: &[u8], targets: &[usize]) -> Vec<Call> {
    let layout = Layout::read(text, 0, 1).expect("header");
    let want = reference(text, &layout);
    for &target in targets {
        let got = fast(text, &layout, target);
        if got != want {
            let at = got.iter().zip(&want).position(|(a, b)| a != b);
            let at = at.unwrap_or(got.len().min(want.len()));
            panic!(
                "chunk size {target}: call {at} differs (fast {} calls, reference {})\n\
                 fast:      {:?}\nreference: {:?}\ninput:\n{}",
                got.len(),
                want.len(),
                got.get(at),
                want.get(at),
                String::from_utf8_lossy(text)
            );
        }
    }
    want
}

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Writes `value` as a CSV field: quoted when it must be, else when `quote_all` or by
/// chance; quotes doubled inside.
fn field(out: &mut String, value: &str, delimiter: char, quote_all: bool, rng: &mut Rng) {
    let must = value.contains(['"', '\r', '\n', delimiter]);
    if must || quote_all || rng.chance(30) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

const PIECES: &[&str] = &[
    "",
    "plain",
    "Good News",
    "a,b",
    "semi;colon",
    "tab\there",
    "He said \"hi\"",
    "\"\"",
    "two\r\nlines",
    "two\nlines",
    "Résumé – Jürgen Müller",
    "Lunch 🍕",
    "  padded  ",
    "end\r\n",
    "x",
];

/// A legacy export of `rows` records with random quoting, delimiters and line ends; now
/// and then a blank line, a record with an extra field, or a one-line record that is short.
fn legacy(rng: &mut Rng, rows: usize) -> String {
    let delimiter = *[',', ';', '\t'].get(rng.below(3)).unwrap_or(&',');
    let eol = if rng.chance(50) { "\r\n" } else { "\n" };
    let quote_all = rng.chance(50);
    let mut columns = vec![
        "Operation",
        "LogonType",
        "LastAccessed",
        "ItemSubject",
        "SourceItemSubjectsList",
        "FolderPathName",
        "ClientInfoString",
        "MailboxOwnerUPN",
        "RunspaceId",
        "DirtyProperties",
    ];
    if rng.chance(60) {
        columns.push("Identity");
    }
    for i in (1..columns.len()).rev() {
        columns.swap(i, rng.below(i + 1));
    }
    let mut text = String::new();
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            text.push(delimiter);
        }
        field(&mut text, c, delimiter, quote_all, rng);
    }
    text.push_str(eol);
    for r in 0..rows {
        if rng.chance(3) {
            text.push_str(eol); // a blank line
        }
        let mut values: Vec<String> = columns
            .iter()
            .map(|c| match *c {
                "Operation" => rng
                    .pick(&["FolderBind", "Move", "SoftDelete", "Send\"As"])
                    .into(),
                "LogonType" => rng.pick(&["Owner", "Delegate", "Admin", ""]).into(),
                "LastAccessed" => format!("4/{}/2017 3:22:{:02} PM", 1 + rng.below(28), r % 60),
                "Identity" if rng.chance(80) => format!("id-{r}"),
                "RunspaceId" => format!("rs-{}", rng.below(3)),
                _ => (0..rng.below(3)).map(|_| rng.pick(PIECES)).collect(),
            })
            .collect();
        let multi_line = values.iter().any(|v| v.contains('\n'));
        if rng.chance(2) {
            values.push("extra".into());
        } else if !multi_line && rng.chance(2) {
            values.truncate(rng.below(values.len()));
        }
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                text.push(delimiter);
            }
            field(&mut text, v, delimiter, quote_all, rng);
        }
        if r + 1 < rows || rng.chance(50) {
            text.push_str(eol);
        }
    }
    text
}

/// A Unified Audit Log CSV export: AuditData objects (now and then cut, empty, or with
/// escaped quotes and line breaks in the subject) in a CSV cell.
fn ual(rng: &mut Rng, rows: usize) -> String {
    let mut text =
        String::from("\"RecordId\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\",\"ResultIndex\"\r\n");
    for r in 0..rows {
        let op = rng.pick(&["SoftDelete", "MailItemsAccessed", "Update", "New-InboxRule"]);
        let subject = rng.pick(&[
            "Good News",
            "He said \\\"hi\\\"",
            "two\\r\\nlines",
            "R\\u00e9sum\\u00e9",
            "a, b",
        ]);
        let time = format!("2024-03-{:02}T10:{:02}:00", 1 + rng.below(28), r % 60);
        let mut json = format!(
            "{{\"CreationTime\":\"{time}\",\"Id\":\"id-{}\",\"Operation\":\"{op}\",\
             \"RecordType\":{},\"UserId\":\"eve@contoso.com\",\"Workload\":\"Exchange\",\
             \"LogonType\":{},\"MailboxOwnerUPN\":\"test1@contoso.com\",\
             \"Item\":{{\"Subject\":\"{subject}\",\"ParentFolder\":{{\"Path\":\"\\\\Inbox\"}}}}}}",
            rng.below(40),
            rng.pick(&["2", "3", "1", "0"]),
            rng.pick(&["0", "1", "2"]),
        );
        if rng.chance(5) {
            json.truncate(rng.below(json.len()));
            while !json.is_char_boundary(json.len()) {
                json.pop();
            }
        } else if rng.chance(2) {
            json.clear();
        }
        let cells = [
            format!("id-{r}"),
            format!("3/{}/2024 10:00:00 AM", 1 + rng.below(28)),
            "eve@contoso.com".into(),
            op.to_string(),
            json,
            r.to_string(),
        ];
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            field(&mut text, c, ',', false, rng);
        }
        text.push_str(if rng.chance(50) { "\r\n" } else { "\n" });
    }
    text
}

const TARGETS: &[usize] = &[1, 2, 3, 5, 8, 13, 31, 64, 200, 1000, 4096, 1 << 20];

#[test]
fn fast_path_equals_reference_at_any_chunk_size_legacy() {
    let mut seen = Seen::default();
    for seed in 1..=40u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let text = legacy(&mut rng, 120);
        seen.add(&check(text.as_bytes(), TARGETS));
    }
    // The inputs reach what they are meant to.
    assert!(seen.by_identity > 100 && seen.by_columns > 100, "{seen:?}");
    assert!(seen.multi_line > 100 && seen.malformed > 20, "{seen:?}");
}

/// A visitor that, like the collector, decides by two fields and asks for every field
/// of a record it keeps only now and then ([`Visitor::locates_all`], at random): a
/// record passed with only the deciding fields located is read whole through its key,
/// as the collector reads the records it keeps.
struct Deciding {
    calls: Recorder,
    rng: Rng,
}

impl Visitor for Deciding {
    fn record(&mut self, rec: &AuditRecord<'_>, key: &dyn OnDemand, line: u64) {
        let whole = if key.utf8_checked() {
            None
        } else {
            key.full_record()
        };
        self.calls.record(whole.as_ref().unwrap_or(rec), key, line);
    }
    fn malformed(&mut self, line: u64, reason: String) {
        self.calls.malformed(line, reason);
    }
    fn warn(&mut self, line: u64, message: String) {
        self.calls.warn(line, message);
    }
    fn shift_lines(&mut self, by: u64) {
        self.calls.shift_lines(by);
    }
    fn decision_fields(&self) -> FieldSet {
        FieldSet::EMPTY.with_all(&[Field::Operation, Field::LastAccessed])
    }
    fn locates_all(&mut self) -> bool {
        self.rng.chance(30)
    }
}

#[test]
fn locating_only_the_deciding_fields_reads_kept_records_alike() {
    for seed in 1..=30u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let text = legacy(&mut rng, 120);
        let layout = Layout::read(text.as_bytes(), 0, 1).expect("header");
        let want = reference(text.as_bytes(), &layout);
        for target in [13, 200, 1 << 20] {
            let n = std::sync::atomic::AtomicU64::new(0);
            let make = || {
                let n = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                Deciding {
                    calls: Recorder::default(),
                    rng: Rng(seed ^ n.wrapping_mul(0x2545_F491_4F6C_DD1D) | 1),
                }
            };
            let got: Vec<Call> =
                scan_with_chunk_size(text.as_bytes(), &layout, make, &|_| {}, target)
                    .into_iter()
                    .flat_map(|d| d.calls.0)
                    .collect();
            assert!(got == want, "seed {seed}, chunk size {target}");
        }
    }
}

/// What the calls of a test covered.
#[derive(Debug, Default)]
struct Seen {
    by_identity: usize,
    by_columns: usize,
    multi_line: usize,
    utc: usize,
    malformed: usize,
    warnings: usize,
}

impl Seen {
    fn add(&mut self, calls: &[Call]) {
        for c in calls {
            match c {
                Call::Record {
                    fields,
                    key,
                    time_is_utc,
                    ..
                } => {
                    *if matches!(key, EventKey::Whole(_)) {
                        &mut self.by_identity
                    } else {
                        &mut self.by_columns
                    } += 1;
                    self.multi_line += usize::from(fields.iter().any(|f| f.contains(&b'\n')));
                    self.utc += usize::from(*time_is_utc);
                }
                Call::Malformed(..) => self.malformed += 1,
                Call::Warn(..) => self.warnings += 1,
            }
        }
    }
}

#[test]
fn fast_path_equals_reference_at_any_chunk_size_ual() {
    let mut seen = Seen::default();
    for seed in 1..=20u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let text = ual(&mut rng, 60);
        seen.add(&check(text.as_bytes(), TARGETS));
    }
    // Parsed AuditData (UTC times), and cut or empty cells (warned about, read from the
    // CSV columns).
    assert!(seen.utc > 500 && seen.warnings > 50, "{seen:?}");
    assert!(seen.multi_line > 50, "{seen:?}");
}

#[test]
fn reference_lines_skip_blank_lines_and_count_breaks_in_quotes() {
    let text = b"Operation,LastAccessed,ItemSubject\r\n\r\n\
Move,4/1/2017,\"a\r\nb\nc\"\r\n\n\nCopy,4/2/2017,x\r\nA,B\r\nLast,4/3/2017,\"q\"\"\"";
    let calls = check(text, TARGETS);
    let lines: Vec<u64> = calls
        .iter()
        .map(|c| match c {
            Call::Record { line, .. } | Call::Malformed(line, _) | Call::Warn(line, _) => *line,
        })
        .collect();
    assert_eq!(lines, vec![3, 8, 9, 10], "{calls:?}");
    assert!(
        matches!(&calls[2], Call::Malformed(_, m) if m == "expected 3 fields as in the header, found 2")
    );
}

#[test]
fn header_only_is_warned_about_once() {
    for text in [
        &b"Operation,LastAccessed\r\n"[..],
        b"Operation,LastAccessed",
        b"Operation,LastAccessed\r\n\r\n",
    ] {
        let calls = check(text, &[1 << 20]);
        assert!(matches!(calls.as_slice(), [Call::Warn(1, _)]), "{calls:?}");
    }
}

/// A header followed by blank lines only is warned about whatever the chunk count (the
/// fast path once warned only when it made one chunk: over 4 MiB of blank lines).
#[test]
fn header_then_blank_lines_is_warned_about_at_any_chunk_size() {
    let text = b"Operation,LastAccessed\r\n\r\n\r\n\r\n\r\n\r\n";
    check(text, &[1, 2, 4, 1 << 20]);
}
