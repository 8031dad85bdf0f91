//! Issue 15 (correctness), the items about what the readers make of a shape: Graph pages
//! and SIEM wrappers (2), typed values (4), AttachmentAccess items (5), a damaged
//! AuditData (9), one row per JSON Lines line (18). One test (or a few) per item; each
//! failed before its fix.

use crate::util::{fixture, mbxaudit_in, tempdir};

/// The first line of the UAL JSON Lines fixture: one readable ExchangeItem record.
fn one_record() -> Vec<u8> {
    let good = fixture("ual/sua_mailbox.jsonl");
    good.split(|&b| b == b'\n')
        .next()
        .unwrap_or_default()
        .to_vec()
}

/// A CSV report's lines, header first.
fn table(bytes: &[u8]) -> Vec<Vec<String>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    r.records()
        .map(|rec| rec.expect("valid CSV").iter().map(String::from).collect())
        .collect()
}

/// The value of column `name` in data line `i` (from 1) of a [`table`].
fn cell<'t>(rows: &'t [Vec<String>], i: usize, name: &str) -> &'t str {
    let col = rows[0]
        .iter()
        .position(|c| c == name)
        .unwrap_or_else(|| panic!("no {name}"));
    rows[i][col].as_str()
}

// ---- item 18: a JSON Lines line is one row ----

#[test]
fn a_line_with_junk_after_its_value_is_one_row() {
    let dir = tempdir();
    // Not a record, then junk: one malformed row, not two.
    let mut text = one_record();
    text.extend_from_slice(b"\n{\"a\":1} junk\n");
    std::fs::write(dir.path().join("g.jsonl"), &text).unwrap();
    let args = ["search", "g.jsonl", "--stdout", "--logon-types", "all"];
    let run = mbxaudit_in(dir.path(), &args, None);
    run.expect_code(1)
        .expect_stderr("2  rows read")
        .expect_stderr("1  - malformed");
    // A record, then junk: the record is read and the junk is a warning on its line.
    let mut text = one_record();
    text.push(b'\n');
    text.extend_from_slice(&one_record().replace_id());
    text.extend_from_slice(b" junk\n");
    std::fs::write(dir.path().join("g.jsonl"), &text).unwrap();
    let run = mbxaudit_in(dir.path(), &args, None);
    run.expect_stderr("2  rows read")
        .expect_stderr("g.jsonl:2: unexpected text between JSON values: 'junk': ignored");
    assert!(!run.stderr.contains("malformed"), "{}", run.stderr);
}

/// The record with another `Id`, so that it is another event.
trait ReplaceId {
    fn replace_id(&self) -> Vec<u8>;
}

impl ReplaceId for Vec<u8> {
    fn replace_id(&self) -> Vec<u8> {
        let text = String::from_utf8_lossy(self);
        text.replacen("00000000b99a", "00000000c00a", 1)
            .into_bytes()
    }
}

// ---- item 9: a damaged AuditData keeps the fields before the damage ----

/// An ExchangeItem AuditData whose syntax breaks (`"Broken":tru`) after its logon type,
/// mailbox, client address and subject.
const DAMAGED: &str = r#"{"CreationTime":"2024-03-05T09:03:17","Id":"d1","Operation":"Send","RecordType":2,"Workload":"Exchange","UserId":"eve@contoso.com","ClientIPAddress":"203.0.113.7","LogonType":0,"MailboxOwnerUPN":"test1@contoso.com","Item":{"Subject":"Wire transfer","ParentFolder":{"Path":"\\Sent Items"}},"Broken":tru,"ResultStatus":"Succeeded"}"#;

#[test]
fn a_damaged_audit_data_keeps_the_fields_before_the_damage() {
    let dir = tempdir();
    let csv = format!(
        "\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\",\"Identity\"\n\
         \"ExchangeItem\",\"2024-03-05T09:03:17\",\"eve@contoso.com\",\"Send\",\"{}\",\"d1\"\n",
        DAMAGED.replace('"', "\"\"")
    );
    std::fs::write(dir.path().join("damaged.csv"), csv).unwrap();
    let wrapper = serde_json::json!([{
        "RecordType": 2,
        "CreationDate": "2024-03-05T09:03:17",
        "UserIds": "eve@contoso.com",
        "Operations": "Send",
        "AuditData": DAMAGED,
        "Identity": "d1",
    }]);
    std::fs::write(dir.path().join("damaged.json"), wrapper.to_string()).unwrap();
    for file in ["damaged.csv", "damaged.json"] {
        let run = mbxaudit_in(dir.path(), &["search", file, "--stdout"], None);
        run.expect_code(0).expect_stderr("fields before the");
        let rows = table(&run.stdout);
        assert_eq!(rows.len(), 2, "{file}: {}", run.stderr);
        let row = |name: &str| cell(&rows, 1, name);
        assert_eq!(row("Subject"), "Wire transfer", "{file}");
        assert_eq!(row("LogonType"), "Owner", "{file}");
        assert_eq!(row("ClientIPAddress"), "203.0.113.7", "{file}");
        assert_eq!(
            row("MailboxResolvedOwnerName"),
            "test1@contoso.com",
            "{file}"
        );
        assert_eq!(row("FolderPathName"), "\\Sent Items", "{file}");
    }
}

// ---- item 5: --expand-items on AttachmentAccess ----

#[test]
fn attachment_access_expands_to_one_row_per_message() {
    let dir = tempdir();
    let input = crate::util::testdata("ual/attachmentaccess.jsonl");
    let input = input.to_string_lossy();
    let args = [
        "search",
        "--expand-items",
        "--columns",
        "full",
        "--stdout",
        &input,
    ];
    let run = mbxaudit_in(dir.path(), &args, None);
    run.expect_code(0);
    let rows = table(&run.stdout);
    let got: Vec<(&str, &str, &str)> = (1..rows.len())
        .map(|i| {
            (
                cell(&rows, i, "FolderPathName"),
                cell(&rows, i, "Subject"),
                cell(&rows, i, "InternetMessageId"),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("\\Inbox", "Invoice 0311", "<inv-0311@fabrikam.example>"),
            ("\\Inbox", "Invoice 0312", "<inv-0312@fabrikam.example>"),
            (
                "\\Inbox",
                "<payroll-q1@contoso.com>",
                "<payroll-q1@contoso.com>"
            ),
            ("\\Inbox", "W-2 forms 2023", "<w2-2023@contoso.com>"),
            (
                "\\Finance\\Wire transfers",
                "Wire instructions",
                "<wire-77@contoso.com>"
            ),
            (
                "\\Finance\\Wire transfers",
                "Updated bank details",
                "<wire-78@contoso.com>"
            ),
        ],
        "{}",
        run.stderr
    );
    // Not expanded: one row, in the first message's folder, under its subject.
    let run = mbxaudit_in(dir.path(), &["search", "--stdout", &input], None);
    let rows = table(&run.stdout);
    assert_eq!(rows.len(), 2, "{}", run.stderr);
    assert_eq!(cell(&rows, 1, "FolderPathName"), "\\Inbox");
    assert_eq!(cell(&rows, 1, "Subject"), "Invoice 0311");
}

// ---- item 4: typed values ----

/// Members that re-serialised exports write as JSON strings.
const NESTED: [&str; 6] = [
    "Item",
    "Folders",
    "AffectedItems",
    "Parameters",
    "OperationProperties",
    "DestFolder",
];

/// The UAL fixture's records as pandas or a SIEM re-serialise them: LogonType and
/// RecordType as floats, nested objects and arrays as JSON strings.
fn reserialised() -> Vec<serde_json::Value> {
    let text = String::from_utf8(fixture("ual/sua_mailbox.jsonl")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            let o = v.as_object_mut().unwrap();
            for name in ["LogonType", "RecordType"] {
                if let Some(n) = o.get(name).and_then(serde_json::Value::as_f64) {
                    o.insert(name.into(), serde_json::json!(n));
                }
            }
            for name in NESTED {
                if let Some(nested) = o.get(name).filter(|n| !n.is_string()) {
                    let text = nested.to_string();
                    o.insert(name.into(), serde_json::Value::String(text));
                }
            }
            v
        })
        .collect()
}

#[test]
fn floats_and_string_encoded_objects_read_as_the_values() {
    let dir = tempdir();
    let records = reserialised();
    let jsonl: String = records.iter().map(|r| format!("{r}\n")).collect();
    assert!(jsonl.contains("\"LogonType\":2.0") && jsonl.contains("\"Item\":\"{\\\""));
    std::fs::write(dir.path().join("floats.jsonl"), &jsonl).unwrap();
    // The same records as a UAL CSV whose RecordType column is a float written as text.
    let mut csv =
        String::from("\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\"\n");
    for r in &records {
        let field = |name: &str| r[name].as_str().unwrap_or_default().replace('"', "\"\"");
        csv.push_str(&format!(
            "\"{:.1}\",\"{}\",\"{}\",\"{}\",\"{}\"\n",
            r["RecordType"].as_f64().unwrap_or_default(),
            field("CreationTime"),
            field("UserId"),
            field("Operation"),
            r.to_string().replace('"', "\"\"")
        ));
    }
    std::fs::write(dir.path().join("floats.csv"), &csv).unwrap();
    let original = crate::util::testdata("ual/sua_mailbox.jsonl");
    let original = original.to_string_lossy();
    let search = |input: &str| {
        let args = ["search", "--stdout", "--record-types", "all", input];
        let run = mbxaudit_in(dir.path(), &args, None);
        run.expect_code(0);
        assert!(!run.stderr.contains("warning"), "{}", run.stderr);
        run.stdout
    };
    let expected = search(&original);
    assert!(table(&expected).len() > 5);
    assert_eq!(
        String::from_utf8_lossy(&search("floats.jsonl")),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(
        String::from_utf8_lossy(&search("floats.csv")),
        String::from_utf8_lossy(&expected)
    );
    // The rule changed from Outlook is judged by its actions again.
    for input in ["floats.jsonl", "floats.csv"] {
        let run = mbxaudit_in(dir.path(), &["triage", input], None);
        let text = String::from_utf8_lossy(&run.stdout);
        let finding = text
            .split("\n\n")
            .find(|f| f.contains("UpdateInboxRules"))
            .unwrap_or_else(|| panic!("no UpdateInboxRules finding:\n{text}"));
        assert!(
            finding.starts_with("[HIGH] inbox-rule"),
            "{input}: {finding}"
        );
    }
}

#[test]
fn legacy_logon_types_written_as_floats_are_read() {
    let dir = tempdir();
    let csv = "Operation,LastAccessed,LogonType,LogonUserDisplayName,Identity\r\n\
               Move,2017-04-10T10:00:00Z,1.0,Test User,id-1\r\n\
               SoftDelete,2017-04-10T11:00:00Z,\"2.00\",Test User,id-2\r\n\
               HardDelete,2017-04-10T12:00:00Z,3.0,Test User,id-3\r\n";
    std::fs::write(dir.path().join("legacy.csv"), csv).unwrap();
    let run = mbxaudit_in(dir.path(), &["search", "--stdout", "legacy.csv"], None);
    run.expect_code(0).expect_stderr("1  - other logon types");
    let rows = table(&run.stdout);
    assert_eq!(rows.len(), 3, "{}", run.stderr);
    assert_eq!(cell(&rows, 1, "LogonType"), "Admin");
    assert_eq!(cell(&rows, 2, "LogonType"), "Delegate");
}

#[test]
fn values_that_cannot_be_read_are_warned_about() {
    let dir = tempdir();
    let records = reserialised();
    let mut fractional = records[0].clone();
    fractional["LogonType"] = serde_json::json!(2.5);
    let mut broken = records[0].clone();
    broken["Id"] = "another-id".into();
    broken["Item"] = "{\"Subject\": broken".into();
    std::fs::write(
        dir.path().join("w.jsonl"),
        format!("{fractional}\n{broken}\n"),
    )
    .unwrap();
    let args = ["search", "--stdout", "--logon-types", "all", "w.jsonl"];
    let run = mbxaudit_in(dir.path(), &args, None);
    run.expect_code(0)
        .expect_stderr("w.jsonl:1: LogonType '2.5' is not a whole number")
        .expect_stderr("w.jsonl:2: AuditData member 'Item' is a string that starts like JSON");
}

// ---- item 2: Graph audit-search pages and SIEM wrappers ----

/// Searches `inputs` into a report file; the run and the report.
fn search_report(dir: &std::path::Path, inputs: &[&str]) -> (crate::util::Run, Vec<u8>) {
    let mut args = vec!["search", "-o", "r.csv", "--force"];
    args.extend_from_slice(inputs);
    let run = mbxaudit_in(dir, &args, None);
    let report = std::fs::read(dir.join("r.csv")).unwrap_or_default();
    (run, report)
}

#[test]
fn graph_pages_and_siem_wrappers_give_the_records_they_hold() {
    // Each file wraps the ten records of ual/sua_mailbox.jsonl: the same report.
    let dir = tempdir();
    for name in [
        "graph_pages.json",
        "graph_pages.jsonl",
        "elastic_events.json",
        "splunk_export.json",
    ] {
        let input = crate::util::testdata(&format!("graph/{name}"));
        let (run, report) = search_report(dir.path(), &[&input.to_string_lossy()]);
        run.expect_code(0)
            .expect_stderr(&format!("{name}: JSON"))
            .expect_stderr("10 rows")
            .expect_stderr("10  rows read")
            .expect_stderr("7  = rows written");
        crate::util::assert_golden("ual_sua_mailbox.csv", &report);
    }
    // One page a file, in a directory; an empty page is an empty file of records.
    let pages = String::from_utf8(fixture("graph/graph_pages.jsonl")).unwrap();
    let folder = dir.path().join("pages");
    std::fs::create_dir(&folder).unwrap();
    for (k, page) in pages.lines().enumerate() {
        std::fs::write(folder.join(format!("page{k}.json")), page).unwrap();
    }
    let (run, report) = search_report(dir.path(), &["pages"]);
    run.expect_code(0)
        .expect_stderr("page2.json: JSON Lines, UTF-8, 0 rows")
        .expect_stderr("10  rows read");
    crate::util::assert_golden("ual_sua_mailbox.csv", &report);
}

#[test]
fn a_wrapper_of_other_records_is_refused_with_the_way_out() {
    let dir = tempdir();
    let input = crate::util::testdata("graph/elastic_syslog.json");
    let run = mbxaudit_in(
        dir.path(),
        &["search", "--stdout", &input.to_string_lossy()],
        None,
    );
    run.expect_code(1)
        .expect_stderr(
            "elastic_syslog.json: an Elastic export, whose records are not audit records",
        )
        .expect_stderr("jq -r '.events[] | .[\"event.original\"] // .event.original // .message'");
    // A later record that is not one: a malformed row of its own, saying the same.
    let mut splunk = fixture("graph/splunk_export.json");
    splunk.extend_from_slice(
        b"{\"preview\":false,\"result\":{\"_raw\":\"Mar  5 mx1 postfix: connect\"}}\n",
    );
    std::fs::write(dir.path().join("s.json"), splunk).unwrap();
    let run = mbxaudit_in(dir.path(), &["search", "--stdout", "s.json"], None);
    run.expect_code(1)
        .expect_stderr("s.json:11: a Splunk JSON export whose record is not an audit record")
        .expect_stderr("jq -r '.result._raw'")
        .expect_stderr("11  rows read")
        .expect_stderr("1  - malformed");
}
