//! Graph pages and SIEM wrappers read in pieces as in one pass: a page is one record
//! object to the splitter, so a cut never falls inside it, whatever the piece size, the
//! layout's guess or the UTF-16 pieces.

use super::tests::{read_with, Collect};
use super::{scan_reference, utf16_document};

/// A Graph page of `n` records numbered from `first`, pretty-printed (two spaces, as
/// `json.dumps(indent=2)` and Graph Explorer's "save response" write it).
fn page(first: usize, n: usize, more: bool) -> serde_json::Value {
    let records: Vec<serde_json::Value> = (first..first + n)
        .map(|i| {
            serde_json::json!({
                "id": format!("rec-{i}"),
                "createdDateTime": "2024-03-05T09:03:17Z",
                "auditLogRecordType": "exchangeItem",
                "operation": "Send",
                "userId": "eve@contoso.com",
                "administrativeUnits": [],
                "auditData": {
                    "CreationTime": "2024-03-05T09:03:17",
                    "Id": format!("rec-{i}"),
                    "Operation": "Send",
                    "RecordType": 2,
                    "LogonType": i % 3,
                    "Workload": "Exchange",
                    "MailboxOwnerUPN": "test1@contoso.com",
                    "Item": {"Subject": format!("}}\n{{ ] [ \"{i}\""), "ParentFolder": {"Path": "\\Inbox"}}
                }
            })
        })
        .collect();
    let mut page = serde_json::json!({
        "@odata.context": "https://graph.microsoft.com/beta/$metadata#records",
        "value": records,
    });
    if more {
        page["@odata.nextLink"] = "https://graph.microsoft.com/beta/next".into();
    }
    page
}

/// Pages of `sizes` records each, pretty-printed and appended.
fn pages(sizes: &[usize]) -> String {
    let mut text = String::new();
    let mut first = 0;
    for (k, &n) in sizes.iter().enumerate() {
        let page = page(first, n, k + 1 < sizes.len());
        text.push_str(&serde_json::to_string_pretty(&page).unwrap_or_default());
        text.push('\n');
        first += n;
    }
    text
}

fn reference(text: &[u8]) -> Collect {
    let mut all = Collect::default();
    scan_reference(text, &mut all);
    all
}

fn assert_same(got: &Collect, want: &Collect, what: &str) {
    assert_eq!(got.rows, want.rows, "{what}");
    assert_eq!(got.bad, want.bad, "{what}");
    assert_eq!(got.warnings, want.warnings, "{what}");
}

#[test]
fn pages_larger_than_a_piece_read_as_the_reference() {
    let mut text = pages(&[300, 0, 120, 1]);
    // A compact page, and an Elastic and a Splunk wrapper, appended.
    let compact = serde_json::to_string(&page(1000, 40, false)).unwrap_or_default();
    text.push_str(&compact);
    let raw =
        serde_json::to_string(&page(2000, 1, false)["value"][0]["auditData"]).unwrap_or_default();
    let elastic = serde_json::json!({"events": [{"message": raw}, {"event.original": raw}]});
    let splunk = serde_json::json!({"preview": false, "result": {"_raw": raw}});
    text.push_str(&format!("\n{elastic}\n{splunk}\n"));
    let want = reference(text.as_bytes());
    assert_eq!(want.rows.len(), 300 + 120 + 1 + 40 + 3, "{:?}", want.bad);
    assert!(want.bad.is_empty(), "{:?}", want.bad);
    // Lines are counted inside pages: the first record's `{` is on line 5 (after `{`,
    // `@odata.context`, `@odata.nextLink` and `"value": [`).
    assert_eq!(want.rows[0].line, 5);
    assert!(want.rows[299].line > 5_000, "{}", want.rows[299].line);
    for target in [1, 64, 700, 4096, 100_000] {
        for threads in [1, 2] {
            let got = read_with(text.as_bytes(), target, threads);
            assert_same(
                &got,
                &want,
                &format!("target {target}, {threads} thread(s)"),
            );
        }
    }
    // Damaged: the records of the page around the damage are lost, the others are not.
    let at = text.len() / 2;
    let mut damaged = text.clone().into_bytes();
    damaged.insert(at, b'#');
    let want = reference(&damaged);
    assert!(!want.bad.is_empty());
    for target in [64, 4096] {
        assert_same(&read_with(&damaged, target, 2), &want, "damaged");
    }
}

#[test]
fn utf16_pages_read_in_pieces_as_the_whole_file() {
    // A small first page (its layout guides the cuts), then three of about 7 MiB each
    // in UTF-16: cut only where a page ends.
    let text = pages(&[100, 9_000, 9_000, 9_000]);
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let doc = utf16_document(&bytes, None).expect("a UTF-16 document");
    let (parts, _) = doc.scan(Collect::default, &|_: std::ops::Range<usize>| {});
    assert!(parts.len() >= 2, "read in pieces");
    let mut got = Collect::default();
    for p in parts {
        got.rows.extend(p.rows);
        got.bad.extend(p.bad);
        got.warnings.extend(p.warnings);
    }
    let want = reference(text.as_bytes());
    assert_eq!(want.rows.len(), 27_100);
    assert_same(&got, &want, "UTF-16 pieces");
}

#[test]
fn wrapped_records_that_are_not_records_are_malformed_rows() {
    let text = "{\"result\":{\"_raw\":\"<34>Mar  5 mx1 postfix: connect\"}}\n\
                {\"@odata.context\":\"x\",\"value\":[{\"a\":1},2]}\n\
                {\"@odata.context\":\"x\",\"value\":[]}\n";
    let all = read_with(text.as_bytes(), 1 << 20, 1);
    assert!(all.rows.is_empty());
    let bad: Vec<(u64, &str)> = all
        .bad
        .iter()
        .map(|(l, r)| (*l, r.split(" whose").next().unwrap_or_default()))
        .collect();
    assert_eq!(
        bad,
        vec![
            (1, "a Splunk JSON export"),
            (2, "a Microsoft Graph audit-search page"),
            (2, "a Microsoft Graph audit-search page"),
        ]
    );
    assert!(
        all.bad[0].1.contains("jq -r '.result._raw'"),
        "{:?}",
        all.bad
    );
}

#[test]
fn refuses_a_wrapper_of_other_records() {
    let syslog = br#"{"events":[{"message":"<34>Mar  5 mx1 postfix: connect"}]}"#;
    let why = super::refuse_wrapper(syslog).unwrap_or_default();
    assert!(
        why.starts_with("an Elastic export, whose records are not"),
        "{why}"
    );
    assert!(why.contains("jq -r '.events[]"), "{why}");
    let graph = pages(&[2]);
    assert_eq!(super::refuse_wrapper(graph.as_bytes()), None);
    assert_eq!(super::refuse_wrapper(br#"[{"Operation":"x"}]"#), None);
}
