//! Unified Audit Log exports end to end (CSV with AuditData, JSON): the three CSV shapes,
//! cut AuditData cells, record families, item expansion, dedup across exports.
//! Fixtures: `testdata/ual/` (real exports `t*.csv`/`t*.json`, crafted ones made by
//! `testdata/ual/make_ual_fixtures.py`; see its README).

use crate::util::*;

/// Report column indexes (the seed script's order).
const SUBJECT: usize = 0;
const OPERATION: usize = 1;
const USER: usize = 2;
const TIME: usize = 3;
const FOLDER: usize = 5;
const IP: usize = 7;
const LOGON: usize = 11;
const OWNER: usize = 12;
const RESULT: usize = 13;

/// The real exports copied from blueteam0ps/det-eng-samples.
const REAL_CSV: &[&str] = &[
    "testdata/ual/t1098.002_Mail Account Delegation full access permissions.csv",
    "testdata/ual/t1114.002_Enable_POP_IMAP_OWA.csv",
    "testdata/ual/t1114_Set-Mailbox-ForwardSMTPAddress.csv",
    "testdata/ual/t1562.001_Remove-DlpCompliancePolicy.csv",
    "testdata/ual/t1564.008_New inbox rule to delete email.csv",
    "testdata/ual/t1564.008_Update existing mailbox rule using Set-InboxRule.csv",
    "testdata/ual/t1592.004_mfa_sweep.csv",
];

/// Searches `inputs` with `extra` options, compares the report with
/// `testdata/golden/NAME`, and returns the run and the report's rows.
fn golden(name: &str, extra: &[&str], inputs: &[&str]) -> (Run, Vec<Vec<String>>) {
    let mut args: Vec<&str> = extra.to_vec();
    args.extend_from_slice(inputs);
    let (run, report) = search_to_file(&args);
    let report = report.unwrap_or_else(|| panic!("no report; stderr:\n{}", run.stderr));
    assert_golden(name, &report);
    let rows = report_rows(&report);
    (run, rows)
}

// ---- the three CSV shapes (docs/formats.md §C) ----

#[test]
fn search_unified_audit_log_export_rps_era() {
    // BOM, #TYPE line, RunspaceId/PSComputerName, CRLF, record type names.
    let (run, rows) = golden(
        "ual_sua_mailbox.csv",
        &[],
        &["testdata/ual/sua_mailbox.csv"],
    );
    run.expect_code(0)
        .expect_stderr("sua_mailbox.csv: Unified Audit Log CSV, UTF-8 (BOM), 10 rows")
        .expect_stderr("   2  - other record types (--record-types)")
        .expect_stderr("   1      of which AzureActiveDirectory")
        .expect_stderr("   1  - other logon types")
        .expect_stderr("   7  = rows written");
    assert_eq!(
        column(&rows, OPERATION),
        [
            "ModifyFolderPermissions",
            "UpdateInboxRules",
            "Update",
            "SoftDelete",
            "HardDelete",
            "SendAs",
            "MoveToDeletedItems"
        ]
    );
    // No LogonUserDisplayName in the AuditData: the UserId is shown.
    assert_eq!(rows[2][USER], "eve@contoso.com");
    assert_eq!(rows[6][USER], "Test User 1");
    assert_eq!(rows[2][LOGON], "Delegate", "LogonType 2 as its name");
    assert_eq!(rows[6][LOGON], "Owner");
    assert_eq!(rows[0][FOLDER], "\\Inbox", "Item.ParentFolder.Path");
    assert_eq!(
        rows[3][SUBJECT], "Invoice, March 2024",
        "first affected item"
    );
    assert_eq!(rows[4][14], "False", "CrossMailboxOperations (plural)");
    assert_eq!(rows[5][IP], "[2001:db8::7]:52100", "kept as written");
    assert_eq!(rows[5][14], "N/A", "SendAs");
}

#[test]
fn purview_classic_export() {
    // RecordType numbers, ISO CreationDate with a trailing space, one cut AuditData.
    let (run, rows) = golden(
        "ual_purview_classic.csv",
        &[],
        &["testdata/ual/purview_classic.csv"],
    );
    run.expect_code(0)
        .expect_stderr(
            "purview_classic.csv:6: AuditData is not valid JSON (cut at 3062 characters?): \
             row reported from its CSV columns and the AuditData fields before the cut",
        )
        .expect_stderr("  5  = rows written");
    assert_eq!(
        column(&rows, SUBJECT),
        [
            "Good News",
            "Good News (2)",
            "Invoice, March 2024",
            "Urgent: wire transfer",
            ""
        ]
    );
    // The cut MailItemsAccessed row: its mailbox and logon fields came before the cut.
    let cut = &rows[4];
    assert_eq!(cut[OPERATION], "MailItemsAccessed");
    assert_eq!(cut[TIME], "2024-03-05T09:30:00Z");
    assert_eq!(cut[LOGON], "Delegate");
    assert_eq!(cut[OWNER], "test1@contoso.com");
}

#[test]
fn purview_graph_13_column_export() {
    let (run, rows) = golden(
        "ual_graph_13col.csv",
        &[],
        &["testdata/ual/graph_13col.csv"],
    );
    run.expect_code(0).expect_stderr("3 rows");
    assert_eq!(
        column(&rows, SUBJECT),
        ["Offer letter", "Draft: \"final\" numbers", ""]
    );
    assert_eq!(
        column(&rows, IP),
        ["[2001:db8::7]:52311", "2001:db8::7", "[2001:db8::7]:52320"]
    );
}

#[test]
fn cut_audit_data_rows_are_reported_not_dropped() {
    let (run, rows) = golden(
        "ual_cut_auditdata.csv",
        &[],
        &["testdata/ual/cut_auditdata.csv"],
    );
    run.expect_code(0)
        .expect_stderr("cut_auditdata.csv:3: AuditData is not valid JSON (cut at 3062 characters?)")
        .expect_stderr("  2  = rows written");
    assert_eq!(column(&rows, OPERATION), ["Update", "MailItemsAccessed"]);
}

#[test]
fn unreadable_audit_data_falls_back_to_the_csv_time_in_the_users_zone() {
    // No AuditData field survives: the record is the CSV's, its time local (--tz).
    let dir = tempdir();
    let path = dir.path().join("empty_auditdata.csv");
    std::fs::write(
        &path,
        "\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\",\"Identity\"\r\n\
         \"ExchangeItemGroup\",\"3/25/2024 9:30:00 AM\",\"eve@contoso.com\",\"HardDelete\",\"\",\"id-1\"\r\n\
         \"ExchangeItemGroup\",\"3/25/2024 9:31:00 AM\",\"eve@contoso.com\",\"HardDelete\",\"{\"\"Id\",\"id-2\"\r\n\
         \"ExchangeItemGroup\",\"3/25/2024 9:32:00 AM\",\"eve@contoso.com\",\"HardDelete\",\"{\"\"CreationTime\"\":\"\"2024-03-25T09:32:00\"\",oops}\",\"id-3\"\r\n",
    )
    .unwrap();
    let path = path.to_str().unwrap();
    let (run, rows) = rows_of(&["--tz", "+02:00", "--logon-types", "all", path]);
    run.expect_code(0)
        .expect_stderr(
            "empty_auditdata.csv:2: AuditData is empty: row reported from its CSV columns",
        )
        .expect_stderr("empty_auditdata.csv:3: AuditData is not valid JSON (cut at 4 characters?)")
        .expect_stderr(
            "empty_auditdata.csv:4: AuditData cannot be read as a JSON object (key must be a \
             string at line 1 column 39)",
        );
    // The third row's CreationTime (UTC) came before the error: --tz does not apply.
    assert_eq!(
        column(&rows, TIME),
        [
            "2024-03-25T07:30:00Z",
            "2024-03-25T07:31:00Z",
            "2024-03-25T09:32:00Z"
        ]
    );
    assert_eq!(column(&rows, USER), ["eve@contoso.com"; 3]);
    assert_eq!(
        column(&rows, SUBJECT),
        ["", "", ""],
        "no subject is made up"
    );
}

#[test]
fn ual_times_are_utc_whatever_the_tz() {
    let (_, utc) = rows_of(&["testdata/ual/sua_mailbox.csv"]);
    let (run, berlin) = rows_of(&["--tz", "Europe/Berlin", "testdata/ual/sua_mailbox.csv"]);
    run.expect_code(0);
    assert_eq!(column(&utc, TIME), column(&berlin, TIME));
    assert_eq!(utc[2][TIME], "2024-03-05T09:12:40Z");
}

// ---- record families ----

#[test]
fn mail_items_accessed_throttled() {
    let (run, rows) = golden(
        "ual_mailitemsaccessed_throttled.csv",
        &[],
        &["testdata/ual/mailitemsaccessed_throttled.csv"],
    );
    run.expect_code(0)
        .expect_stderr("mailitemsaccessed_throttled.csv:3: MailItemsAccessed logging was throttled")
        .expect_stderr("1 Bind")
        .expect_stderr("1 Sync");
    assert_eq!(column(&rows, SUBJECT), ["", "Good News"]);
}

#[test]
fn mail_items_accessed_expand_items() {
    let (run, rows) = golden(
        "ual_mailitemsaccessed_throttled__expand_items.csv",
        &["--expand-items"],
        &["testdata/ual/mailitemsaccessed_throttled.csv"],
    );
    run.expect_code(0);
    // The Sync record touched no listed message: one row; the Bind record: one a message.
    assert_eq!(rows.len(), 1 + 6);
    assert_eq!(
        column(&rows[1..], FOLDER),
        [
            "\\Inbox",
            "\\Inbox",
            "\\Inbox",
            "\\Sent Items",
            "\\Sent Items",
            "\\Finance"
        ]
    );
}

#[test]
fn exchange_item_group_subjects() {
    let (run, rows) = golden(
        "ual_exchangeitemgroup.csv",
        &[],
        &["testdata/ual/exchangeitemgroup.csv"],
    );
    run.expect_code(0);
    // The first affected item's subject, left-trimmed, as the seed script shows it.
    assert_eq!(column(&rows, SUBJECT), ["RE: Good News", "Q1 budget"]);
    assert_eq!(rows[1][14], "True", "CrossMailboxOperation");
    // --subject matches any affected item, not only the first.
    let (run, rows) = rows_of(&[
        "--subject",
        "board minutes",
        "testdata/ual/exchangeitemgroup.csv",
    ]);
    run.expect_code(0);
    assert_eq!(column(&rows, OPERATION), ["MoveToDeletedItems"]);
}

#[test]
fn admin_cmdlets_with_record_types_admin() {
    let mut inputs = REAL_CSV.to_vec();
    inputs.push("testdata/ual/sua_mailbox.csv");
    let (run, rows) = golden(
        "ual_real_and_sua__record_types_admin.csv",
        &["--record-types", "admin"],
        &inputs,
    );
    run.expect_code(0);
    let rule = rows
        .iter()
        .find(|r| r[OPERATION] == "New-InboxRule" && r[USER] == "eve@contoso.com")
        .expect("the crafted New-InboxRule");
    assert_eq!(
        rule[SUBJECT],
        "'-Mailbox test1 -Name 'Move to RSS' -ForwardTo eve@evil.example -DeleteMessage True \
         -MoveToFolder 'RSS Feeds'",
        "a leading '-' is neutralised for Excel"
    );
    assert_eq!(
        rule[OWNER], "test1",
        "the mailbox of ObjectId test1\\Move to RSS"
    );
    assert_eq!(rule[RESULT], "True");
    let forward = rows
        .iter()
        .find(|r| r[OPERATION] == "Set-Mailbox")
        .expect("the real Set-Mailbox");
    assert!(
        forward[SUBJECT].contains("-ForwardingSmtpAddress smtp:bla@bla.com"),
        "{}",
        forward[SUBJECT]
    );
    assert_eq!(forward[IP], "104.28.196.199:52385");
    assert!(!column(&rows, OPERATION).contains(&"UserLoggedIn"));
}

#[test]
fn real_exports_every_record_type() {
    let (run, rows) = golden(
        "ual_real__record_types_all.csv",
        &["--record-types", "all"],
        REAL_CSV,
    );
    run.expect_code(0).expect_stderr("15  rows read");
    let logons = rows
        .iter()
        .filter(|r| r[OPERATION] == "UserLoggedIn")
        .count();
    assert_eq!(logons, 8);
    let dlp = rows
        .iter()
        .find(|r| r[OPERATION] == "Remove-DlpCompliancePolicy")
        .expect("the SecurityComplianceCenter record");
    assert_eq!(dlp[SUBJECT], "", "other workloads: common fields only");
}

#[test]
fn real_exports_hold_no_mailbox_records_by_default() {
    let (run, rows) = rows_of(REAL_CSV);
    run.expect_code(0)
        .expect_stderr("15  - other record types (--record-types)")
        .expect_stderr("8      of which AzureActiveDirectory")
        .expect_stderr("0  = rows written");
    assert!(rows.is_empty());
}

#[test]
fn real_json_lines_exports() {
    let (run, rows) = rows_of(&[
        "--record-types",
        "all",
        "testdata/ual/t1098.002_user-reset_mailbox_full_access.json",
        "testdata/ual/t1564.008_markasread_delete_all_email.json",
    ]);
    run.expect_code(0);
    assert_eq!(rows.len(), 6);
    let rule = rows
        .iter()
        .find(|r| r[OPERATION] == "New-InboxRule")
        .expect("New-InboxRule");
    assert_eq!(
        rule[SUBJECT],
        "'-AlwaysDeleteOutlookRulesBlob False -Force False -Name . -DeleteMessage True \
         -MarkAsRead True -StopProcessingRules True"
    );
}

// ---- filters on UAL fields ----

#[test]
fn user_and_ip_filters_read_ual_fields() {
    let (run, rows) = rows_of(&[
        "--ip",
        "2001:db8::/32",
        "testdata/ual/sua_mailbox.csv",
        "testdata/ual/graph_13col.csv",
    ]);
    run.expect_code(0);
    assert_eq!(
        column(&rows, OPERATION),
        ["SendAs", "HardDelete", "Update", "MailItemsAccessed"]
    );
    let (_, rows) = rows_of(&["--user", "Test User 1", "testdata/ual/sua_mailbox.csv"]);
    assert_eq!(column(&rows, OPERATION), ["MoveToDeletedItems"]);
    let (_, rows) = rows_of(&[
        "--mailbox",
        "TEST1@contoso.com",
        "testdata/ual/sua_mailbox.csv",
    ]);
    assert_eq!(rows.len(), 7);
}

// ---- dedup across exports ----

#[test]
fn same_record_in_two_csv_exports_counts_once() {
    // purview_classic.csv re-serialises two records of sua_mailbox.csv (other key order,
    // spacing and escaping) and holds a third with the same Id as one of them but other
    // content: that one is kept.
    let (run, rows) = rows_of(&[
        "testdata/ual/sua_mailbox.csv",
        "testdata/ual/purview_classic.csv",
    ]);
    run.expect_code(0)
        .expect_stderr("2  - duplicates (same event in several exports)");
    assert_eq!(rows.len(), 7 + 5 - 2);
    let updates: Vec<&str> = rows
        .iter()
        .filter(|r| r[OPERATION] == "Update")
        .map(|r| r[SUBJECT].as_str())
        .collect();
    assert_eq!(updates, ["Good News", "Good News (2)"]);
}

#[test]
fn same_records_in_csv_and_json_lines_count_once() {
    let (run, rows) = rows_of(&[
        "testdata/ual/sua_mailbox.csv",
        "testdata/ual/sua_mailbox.jsonl",
    ]);
    run.expect_code(0)
        .expect_stderr("7  - duplicates (same event in several exports)");
    assert_eq!(rows.len(), 7);
}

// ---- caps ----

#[test]
fn exactly_5000_rows_is_probably_truncated() {
    let dir = tempdir();
    let path = dir.path().join("ual_page.csv");
    let mut text = String::from(
        "\"RecordType\",\"CreationDate\",\"UserIds\",\"Operations\",\"AuditData\",\"ResultIndex\",\"ResultCount\",\"Identity\"\n",
    );
    for i in 0..5000 {
        let audit = format!(
            "{{\"\"CreationTime\"\":\"\"2024-03-05T09:{:02}:{:02}\"\",\"\"Id\"\":\"\"id-{i}\"\",\
             \"\"Operation\"\":\"\"HardDelete\"\",\"\"RecordType\"\":3,\"\"Workload\"\":\"\"Exchange\"\",\
             \"\"UserId\"\":\"\"eve@contoso.com\"\",\"\"LogonType\"\":2}}",
            i / 60 % 60,
            i % 60
        );
        text.push_str(&format!(
            "\"ExchangeItemGroup\",\"3/5/2024 9:00:00 AM\",\"eve@contoso.com\",\"HardDelete\",\"{audit}\",\"{}\",\"5000\",\"id-{i}\"\n",
            i + 1
        ));
    }
    std::fs::write(&path, text).unwrap();
    let (run, rows) = rows_of(&[path.to_str().unwrap()]);
    run.expect_code(0)
        .expect_stderr("ual_page.csv: holds exactly 5000 records")
        .expect_stderr("probably");
    assert_eq!(rows.len(), 5000);
}

/// UpdateInboxRules: the rule's OperationProperties are its subject, so `--subject` finds
/// it by an action's folder; the quick look at raw AuditData leaves it to the full parser.
#[test]
fn update_inbox_rules_subject_is_the_rule() {
    for input in [
        "testdata/ual/sua_mailbox.csv",
        "testdata/ual/sua_mailbox.jsonl",
    ] {
        let (run, rows) = rows_of(&["--subject", "RSS Feeds", input]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(rows.len(), 1, "{input}: one row: {rows:?}");
        assert_eq!(rows[0][1], "UpdateInboxRules");
        assert!(rows[0][0].contains("-RuleActions"), "{:?}", rows[0][0]);
    }
}

// ---- admin records: the mailbox, and records that are no audit record (issue 15 item 6) ----

/// An admin cmdlet's Mailbox column names the mailbox, not its directory path with the
/// rule or folder after it; MailboxOwnerUPN (full report) keeps the ObjectId as written.
#[test]
fn admin_cmdlet_mailbox_is_the_mailbox_identity() {
    let run = mbxaudit(&[
        "search",
        "--record-types",
        "admin",
        "--columns",
        "full",
        "--format",
        "jsonl",
        "--stdout",
        "testdata/ual/t1564.008_New inbox rule to delete email.csv",
    ]);
    run.expect_code(0);
    let row: serde_json::Value =
        serde_json::from_slice(run.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        row["MailboxResolvedOwnerName"],
        "311b45d6-1a3e-46ac-8434-721367961e19"
    );
    assert_eq!(
        row["MailboxOwnerUPN"],
        "APCPR03A010.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/311b45d6-1a3e-46ac-8434-721367961e19\\Direct"
    );
}

/// A record with no Operation, Id or Workload (here only a RecordType) is named as
/// malformed, not written as an empty ExchangeAdmin row.
#[test]
fn a_record_without_operation_id_or_workload_is_malformed() {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("odd.jsonl"),
        "{\"RecordType\":1,\"CreationTime\":\"2024-03-05T09:00:00\",\"UserId\":\"x\"}\n",
    )
    .unwrap();
    let run = mbxaudit_in(
        dir.path(),
        &["search", "--record-types", "all", "--stdout", "odd.jsonl"],
        None,
    );
    run.expect_code(1)
        .expect_stderr("odd.jsonl:1: ")
        .expect_stderr("no Operation, Id or Workload member: not an audit record")
        .expect_stderr("1  - malformed");
}
