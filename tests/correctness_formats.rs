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
