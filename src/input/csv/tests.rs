use super::*;

#[derive(Default)]
struct Collect {
    rows: Vec<(u64, Vec<String>)>,
    bad: Vec<(u64, String)>,
}

impl Visitor for Collect {
    fn record(&mut self, rec: &AuditRecord<'_>, _key: &dyn OnDemand, line: u64) {
        let fields = [Field::Operation, Field::LastAccessed, Field::ItemSubject]
            .iter()
            .map(|&f| String::from_utf8_lossy(&rec.get(f).unescaped()).into_owned())
            .collect();
        self.rows.push((line, fields));
    }
    fn malformed(&mut self, line: u64, reason: String) {
        self.bad.push((line, reason));
    }
    fn warn(&mut self, _line: u64, _message: String) {}
    fn shift_lines(&mut self, by: u64) {
        self.rows.iter_mut().for_each(|r| r.0 += by);
        self.bad.iter_mut().for_each(|b| b.0 += by);
    }
}

fn read_all(text: &[u8], target: usize) -> Collect {
    let layout = Layout::read(text, 0, 1).unwrap();
    let parts = scan_with_chunk_size(text, &layout, Collect::default, &|_| {}, target);
    let mut all = Collect::default();
    for p in parts {
        all.rows.extend(p.rows);
        all.bad.extend(p.bad);
    }
    all
}

const SAMPLE: &[u8] = b"\"Operation\",\"LastAccessed\",\"ItemSubject\"\r\n\
\"SoftDelete\",\"4/10/2017 3:22:11 PM\",\"He said \"\"hi\"\"\"\r\n\
\"Move\",\"4/11/2017 3:22:11 PM\",\"two\r\nlines, and \"\"more\"\"\"\r\n\
\r\n\
\"Update\",\"4/12/2017 3:22:11 PM\",\"x\",\"extra\"\r\n\
Create,4/13/2017 3:22:11 PM,plain";

/// Rows and malformed rows of `text` read with a counted plan only.
fn read_counted(text: &[u8], target: usize) -> Collect {
    let layout = Layout::read(text, 0, 1).unwrap();
    let body = (layout.body_start, layout.body_line);
    let (parts, _) = scan_planned(
        text,
        &layout,
        body,
        &Collect::default,
        &|_| {},
        target,
        true,
    );
    let mut all = Collect::default();
    for p in parts {
        all.rows.extend(p.rows);
        all.bad.extend(p.bad);
    }
    all
}

#[test]
fn speculative_cuts_read_what_counted_cuts_read() {
    let mut text = b"Operation,LastAccessed,ItemSubject\r\n".to_vec();
    for i in 0..300 {
        let row = match i % 4 {
            0 => format!(
                "Move,4/{}/2017 1:00:00 PM,\"two\r\nlines {i}\"\r\n",
                i % 28 + 1
            ),
            1 => format!("\"Create\",\"4/1/2017\",\"a, \"\"quoted\"\" {i}\"\r\n"),
            2 => format!("Update,4/2/2017,x{i}\r\n"),
            _ => "Copy,4/3/2017,\"\r\n\r\n\"\r\n".to_string(),
        };
        text.extend_from_slice(row.as_bytes());
    }
    let layout = Layout::read(&text, 0, 1).unwrap();
    for target in [40, 64, 100, 333, 1000, 5000] {
        let plan = plan_speculative(&text, &layout, target).expect("a plan");
        assert!(
            plan.len() > text.len() / target / 2,
            "{target}: {}",
            plan.len()
        );
        let visitors = scan_speculative(&text, &layout, &plan, &Collect::default, &|_| {});
        assert!(visitors.is_some(), "{target}: the guess was right");
        let got = read_all(&text, target);
        let want = read_counted(&text, target);
        assert_eq!(got.rows, want.rows, "{target}");
        assert_eq!(got.bad, want.bad, "{target}");
        assert_eq!(got.rows.len(), 300);
    }
}

#[test]
fn a_wrong_guess_is_caught_and_read_again() {
    // A quoted field whose lines look like records: a cut inside it is taken for a
    // record start, which the check at the end of the previous chunk refutes.
    let mut text = b"Operation,LastAccessed,ItemSubject\n".to_vec();
    text.extend_from_slice(b"Move,4/1/2017,\"notes:\n");
    for i in 0..200 {
        text.extend_from_slice(format!("Fake,4/{}/2017,row\n", i % 28 + 1).as_bytes());
    }
    text.extend_from_slice(b"end\"\nCopy,4/2/2017,last\n");
    let layout = Layout::read(&text, 0, 1).unwrap();
    let target = text.len() / 3;
    let plan = plan_speculative(&text, &layout, target).expect("a plan");
    assert!(plan.len() > 1);
    let visitors = scan_speculative(&text, &layout, &plan, &Collect::default, &|_| {});
    assert!(visitors.is_none(), "the wrong guess must be caught");
    let got = read_all(&text, target);
    assert_eq!(got.rows, read_counted(&text, target).rows);
    assert_eq!(got.rows.len(), 2);
    assert_eq!(got.rows[1].0, 204);
}

#[test]
fn reads_quoted_multiline_and_counts_lines() {
    let all = read_all(SAMPLE, 1 << 20);
    assert_eq!(all.rows.len(), 3);
    assert_eq!(all.rows[0].0, 2);
    assert_eq!(all.rows[0].1[2], "He said \"hi\"");
    assert_eq!(all.rows[1].0, 3);
    assert_eq!(all.rows[1].1[2], "two\r\nlines, and \"more\"");
    assert_eq!(
        all.bad,
        vec![(6, "expected 3 fields as in the header, found 4".into())]
    );
    assert_eq!(all.rows[2].0, 7);
    assert_eq!(
        all.rows[2].1,
        vec!["Create", "4/13/2017 3:22:11 PM", "plain"]
    );
}

#[test]
fn same_records_at_any_chunk_size() {
    let mut text = SAMPLE.to_vec();
    text.extend_from_slice(b"\n");
    for i in 0..50 {
        text.extend_from_slice(
            format!("\"Op{i}\",\"4/1/2017\",\"a \"\"q\"\"\r\nb\"\r\n").as_bytes(),
        );
    }
    let reference = read_all(&text, 1 << 20);
    for target in [1, 2, 3, 7, 16, 64, 100] {
        let got = read_all(&text, target);
        assert_eq!(got.rows, reference.rows, "target {target}");
        assert_eq!(got.bad, reference.bad, "target {target}");
    }
}

#[test]
fn semicolon_delimiter_and_case_insensitive_header() {
    let text = b"\"operation\";\"LASTACCESSED\";\"itemsubject\"\n\"Move\";\"10.04.2017 15:22:11\";\"a;b, c\"\n";
    let all = read_all(text, 1 << 20);
    assert_eq!(all.rows[0].1, vec!["Move", "10.04.2017 15:22:11", "a;b, c"]);
}

#[test]
fn header_errors() {
    let e = Layout::read(b"name,age\nbob,3\n", 0, 1).unwrap_err();
    assert!(matches!(e, HeaderError::Unrecognised { .. }));
    let e = Layout::read(b"Operation,ItemSubject\n", 0, 1).unwrap_err();
    assert_eq!(
        e,
        HeaderError::MissingColumns {
            missing: vec!["LastAccessed"]
        }
    );
    let l = Layout::read(b"CreationDate,UserIds,Operations,AuditData\n", 0, 1).unwrap();
    assert_eq!(l.kind, Kind::UnifiedAuditLog);
}

#[test]
fn unterminated_quote_is_malformed_and_reading_resumes() {
    let all = read_all(b"Operation,LastAccessed\n\"Move,4/1/2017\nx,y\n", 1 << 20);
    assert_eq!(all.rows, vec![(3, vec!["x".into(), "y".into(), "".into()])]);
    assert_eq!(all.bad.len(), 1);
    assert_eq!(all.bad[0].0, 2);
    assert!(
        all.bad[0].1.contains("reading resumes on line 3"),
        "{:?}",
        all.bad
    );
}

/// A fully quoted export (as Export-Csv writes) with a stray quote: without the
/// resynchronisation every later line break would read as quoted.
fn stray_quote_export(rows: usize, stray_at: &[usize]) -> Vec<u8> {
    let mut text = b"\"Operation\",\"LastAccessed\",\"ItemSubject\"\r\n".to_vec();
    for i in 0..rows {
        let subject = if stray_at.contains(&i) {
            format!("cut \"{i}")
        } else if i % 7 == 0 {
            format!("two\r\nlines {i}")
        } else {
            format!("s{i}")
        };
        text.extend_from_slice(format!("\"Move\",\"4/1/2017\",\"{subject}\"\r\n").as_bytes());
    }
    text
}

#[test]
fn stray_quotes_cost_one_line_each_at_any_chunk_size() {
    let text = stray_quote_export(200, &[20, 21, 150]);
    let reference = read_all(&text, 1 << 20);
    // Each stray quote costs its own row; the rows after it are read.
    assert_eq!(reference.rows.len(), 197, "{:?}", reference.bad);
    assert_eq!(reference.bad.len(), 3, "{:?}", reference.bad);
    assert!(reference.rows.iter().any(|r| r.1[2] == "s199"));
    for target in [1, 5, 64, 100, 333, 4096] {
        let got = read_all(&text, target);
        assert_eq!(got.rows, reference.rows, "target {target}");
        assert_eq!(got.bad, reference.bad, "target {target}");
    }
}

#[test]
fn truncated_last_row_says_so() {
    let all = read_all(
        b"Operation,LastAccessed,ItemSubject\nMove,4/1/2017,a\nMove,4/2",
        1 << 20,
    );
    assert_eq!(all.rows.len(), 1);
    assert!(
        all.bad[0].1.contains("file ends inside this row"),
        "{:?}",
        all.bad
    );
    let all = read_all(b"Operation,LastAccessed\r\n\"Move\",\"4/1/20", 1 << 20);
    assert!(all.bad[0]
        .1
        .starts_with("unterminated quoted field; the file ends inside"));
}

#[test]
fn extra_carriage_returns_end_a_line_and_bare_ones_are_named() {
    let all = read_all(
        b"Operation,LastAccessed\r\r\n\"Move\",\"4/1/2017\"\r\r\nA,B\r\n",
        1 << 20,
    );
    assert_eq!(all.rows.len(), 2, "{:?}", all.bad);
    let all = read_all(
        b"Operation,LastAccessed\nMove,4/1/2017\rCopy,4/2/2017\n",
        1 << 20,
    );
    assert!(
        all.bad[0].1.contains("carriage returns without line feeds"),
        "{:?}",
        all.bad
    );
    let e = Layout::read(b"Operation,LastAccessed\rMove,1\r", 0, 1).unwrap_err();
    assert!(
        e.to_string()
            .contains("carriage returns without line feeds"),
        "{e}"
    );
}
