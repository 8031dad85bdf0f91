//! `mbxaudit triage`: every rule on a fixture that fires it and on one that must not
//! (`testdata/triage/`, made by `make_triage_fixtures.py`), the findings of all of them as
//! golden text and JSON, the options that tune the rules, rules files, the outputs and
//! the exit status.

use crate::util::*;

/// Runs `triage --format json ARGS` and returns the parsed document.
fn triage_json(args: &[&str]) -> serde_json::Value {
    let mut full = vec!["triage", "--format", "json"];
    full.extend_from_slice(args);
    let run = mbxaudit(&full);
    run.expect_code(0);
    serde_json::from_slice(&run.stdout).expect("triage writes JSON")
}

/// `(rule, severity, records)` of every finding, in output order.
fn fired(args: &[&str]) -> Vec<(String, String, u64)> {
    let doc = triage_json(args);
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
                f["records"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

fn fixture(name: &str) -> String {
    format!("testdata/triage/{name}")
}

/// The fixture that fires `rule` gives exactly `expected` findings `(severity,
/// records)`, all of that rule; the quiet one gives none at all.
fn fires_and_quiet(rule: &str, fires: &str, quiet: &str, expected: &[(&str, u64)]) {
    let got = fired(&[&fixture(fires)]);
    let want: Vec<(String, String, u64)> = expected
        .iter()
        .map(|(s, n)| (rule.to_string(), s.to_string(), *n))
        .collect();
    assert_eq!(got, want, "{fires}");
    let got = fired(&[&fixture(quiet)]);
    assert!(got.is_empty(), "{quiet} must not fire: {got:?}");
}

#[test]
fn rule_mass_deletion() {
    // 30 SoftDelete and 22 HardDelete by a delegate in 41 minutes: high (non-owner).
    // Quiet: the owner's 49 in an hour, the delegate's 8 an hour.
    fires_and_quiet(
        "mass-deletion",
        "mass_deletion_fires.csv",
        "mass_deletion_quiet.csv",
        &[("high", 52)],
    );
}

#[test]
fn rule_non_owner_access() {
    // Three MailItemsAccessed Bind records of 10 messages each in 14 minutes (items are
    // counted, not records). Quiet: the owner's 30; the delegate's 20, then 20 again.
    fires_and_quiet(
        "non-owner-access",
        "non_owner_access_fires.jsonl",
        "non_owner_access_quiet.jsonl",
        &[("medium", 3)],
    );
}

#[test]
fn rule_send_as_other() {
    fires_and_quiet(
        "send-as-other",
        "send_as_fires.csv",
        "send_as_quiet.csv",
        &[("medium", 1), ("medium", 1)],
    );
}

#[test]
fn rule_inbox_rule() {
    // Move to RSS Feeds + mark as read, and forward: high; a newsletter rule and an
    // UpdateInboxRules without parameters: medium. Quiet: Remove-InboxRule, Set-CASMailbox.
    fires_and_quiet(
        "inbox-rule",
        "inbox_rule_fires.csv",
        "inbox_rule_quiet.csv",
        &[("high", 1), ("high", 1), ("medium", 1), ("medium", 1)],
    );
    let doc = triage_json(&[&fixture("inbox_rule_fires.csv")]);
    let why = doc["findings"][0]["why"].as_str().unwrap_or_default();
    assert!(
        why.contains("moves to a rarely used folder, marks messages as read")
            && why.contains("-MoveToFolder 'RSS Feeds'"),
        "{why}"
    );
}

#[test]
fn rule_inbox_rule_needs_admin_records() {
    // The admin cmdlets are read because triage defaults to --record-types admin; with
    // mailbox records only, just UpdateInboxRules is left.
    let got = fired(&[
        "--record-types",
        "mailbox",
        &fixture("inbox_rule_fires.csv"),
    ]);
    assert_eq!(got, vec![("inbox-rule".into(), "medium".into(), 1)]);
}

#[test]
fn rule_mailbox_forwarding() {
    fires_and_quiet(
        "mailbox-forwarding",
        "forwarding_fires.jsonl",
        "forwarding_quiet.jsonl",
        &[("high", 1)],
    );
}

#[test]
fn rule_mailbox_sync() {
    // A delegate's two Syncs (high) and the owner's (medium).
    fires_and_quiet(
        "mailbox-sync",
        "mailbox_sync_fires.csv",
        "mailbox_sync_quiet.csv",
        &[("high", 2), ("medium", 1)],
    );
}

#[test]
fn rule_mail_access_throttled() {
    fires_and_quiet(
        "mail-access-throttled",
        "mail_access_throttled_fires.csv",
        "mail_access_throttled_quiet.csv",
        &[("high", 1)],
    );
}

#[test]
fn rule_new_client_ip() {
    // Ten days of the owner from one address, then three reads from another. Quiet: two
    // addresses from the first day on.
    fires_and_quiet(
        "new-client-ip",
        "new_client_ip_fires.csv",
        "new_client_ip_quiet.csv",
        &[("medium", 3)],
    );
    let doc = triage_json(&[&fixture("new_client_ip_fires.csv")]);
    assert_eq!(
        doc["findings"][0]["why"],
        "client IP 198.51.100.66 first seen on CONTOSO\\test1 at 2024-03-10T22:00:00Z (by Test \
         User 1), after a 7d baseline (14 records, known addresses: 1); 3 records from it until \
         2024-03-10T22:09:00Z."
    );
}

#[test]
fn rule_new_client_app() {
    // Quiet: Outlook and OWA from the start; and a mailbox with three days of records,
    // too short to judge, which a note reports.
    fires_and_quiet(
        "new-client-app",
        "new_client_app_fires.csv",
        "new_client_app_quiet.csv",
        &[("low", 2)],
    );
    let doc = triage_json(&[&fixture("new_client_app_quiet.csv")]);
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("new-client-app: 1 of 2 groups (mailbox) not judged"),
        "{notes}"
    );
}

#[test]
fn rule_many_client_ips() {
    // Four addresses in 41 minutes (one with and without its port). Quiet: three (an
    // IPv4-mapped address is the same client), the fourth three hours later.
    fires_and_quiet(
        "many-client-ips",
        "many_client_ips_fires.jsonl",
        "many_client_ips_quiet.jsonl",
        &[("medium", 5)],
    );
}

#[test]
fn rule_permission_change() {
    // FullAccess and Default's rights: high; ModifyFolderPermissions: medium.
    fires_and_quiet(
        "permission-change",
        "permission_change_fires.csv",
        "permission_change_quiet.csv",
        &[("high", 1), ("high", 1), ("medium", 1)],
    );
}

#[test]
fn rule_audit_tampering() {
    // CSV: the bypass (critical), the age limit lowered to 30 days and the owner's audited
    // actions reduced (high, one finding: same actor, mailbox and operation). JSON Lines:
    // UAL ingestion stopped and mailbox auditing disabled (critical each). Quiet: the same
    // cmdlets turning auditing on, a longer age limit, an action added.
    fires_and_quiet(
        "audit-tampering",
        "audit_tampering_fires.csv",
        "audit_tampering_quiet.csv",
        &[("critical", 1), ("high", 2)],
    );
    let got = fired(&[&fixture("audit_tampering_fires.jsonl")]);
    assert_eq!(
        got,
        [
            ("audit-tampering".to_string(), "critical".to_string(), 1),
            ("audit-tampering".to_string(), "critical".to_string(), 1)
        ]
    );
}

#[test]
fn rule_protocol_enabled() {
    // POP and IMAP on, then SMTP AUTH re-enabled: one finding. Quiet: OWA on, POP off,
    // SMTP AUTH kept disabled.
    fires_and_quiet(
        "protocol-enabled",
        "protocol_enabled_fires.csv",
        "protocol_enabled_quiet.csv",
        &[("medium", 2)],
    );
}

#[test]
fn rule_impersonation_role() {
    // ApplicationImpersonation assigned to an app, Eve added to Discovery Management.
    // Quiet: an ordinary role assignment and role group member.
    fires_and_quiet(
        "impersonation-role",
        "impersonation_role_fires.csv",
        "impersonation_role_quiet.csv",
        &[("high", 1), ("high", 1)],
    );
}

#[test]
fn rule_transport_rule() {
    // A new rule blind-copying mail outside (high), a subject tag changed (medium).
    // Quiet: a rule disabled and one removed.
    fires_and_quiet(
        "transport-rule",
        "transport_rule_fires.csv",
        "transport_rule_quiet.csv",
        &[("high", 1), ("medium", 1)],
    );
}

/// Every Exchange attack sample of blueteam0ps/det-eng-samples (real records, copied into
/// testdata/) triaged alone gives at least one finding, and each audit-tampering one a
/// high or critical finding of that rule.
#[test]
fn every_real_exchange_attack_sample_gives_a_finding() {
    let samples: &[(&str, &str, &str)] = &[
        (
            "ual/t1098.002_ApplicationImpersonation.csv",
            "impersonation-role",
            "high",
        ),
        (
            "ual/t1098.002_Mail Account Delegation full access permissions.csv",
            "permission-change",
            "high",
        ),
        (
            "ual/t1098.002_Mail Account Delegation full access permissions.json",
            "permission-change",
            "high",
        ),
        (
            "ual/t1098.002_Mail account delegation-SendAs permission.csv",
            "permission-change",
            "high",
        ),
        (
            "ual/t1098.002_user-reset_mailbox_full_access.json",
            "permission-change",
            "high",
        ),
        (
            "ual/t1114.002_Enable_POP_IMAP_OWA.csv",
            "protocol-enabled",
            "medium",
        ),
        (
            "ual/t1114.002_Enable_POP_IMAP_OWA.json",
            "protocol-enabled",
            "medium",
        ),
        (
            "json/t1114.003_Forward_Rule_Multi_Users_Same_Forward_dest.json",
            "mailbox-forwarding",
            "high",
        ),
        (
            "json/t1114.003_rule_mail_forward_same_dest.json",
            "inbox-rule",
            "high",
        ),
        (
            "ual/t1114_Set-Mailbox-ForwardSMTPAddress.csv",
            "mailbox-forwarding",
            "high",
        ),
        (
            "ual/t1562-Set-MailboxAuditBypassAssociation.json",
            "audit-tampering",
            "critical",
        ),
        (
            "ual/t1562-UnifiedAuditlogIngestion-Stopped.json",
            "audit-tampering",
            "critical",
        ),
        (
            "ual/t1562.001_Set-Mailbox-AuditLogAgeLimitoZero.csv",
            "audit-tampering",
            "critical",
        ),
        (
            "ual/t1562.008_Disable UAL ingestion.csv",
            "audit-tampering",
            "critical",
        ),
        (
            "ual/t1562.008_Set-MailboxAuditBypassAssociation.csv",
            "audit-tampering",
            "critical",
        ),
        (
            "ual/t1562_Set-Mailbox-AuditLogAgeLimitoZero.json",
            "audit-tampering",
            "high",
        ),
        (
            "ual/t1564.008_New inbox rule to delete email.csv",
            "inbox-rule",
            "high",
        ),
        (
            "ual/t1564.008_Update existing mailbox rule using Set-InboxRule.csv",
            "inbox-rule",
            "high",
        ),
        (
            "ual/t1564.008_markasread_delete_all_email.json",
            "inbox-rule",
            "high",
        ),
        (
            "json/t1564.008_rule_mark_as_read_move.json",
            "inbox-rule",
            "high",
        ),
    ];
    for (file, rule, severity) in samples {
        let path = testdata(file);
        let got = fired(&[path.to_str().expect("UTF-8 path")]);
        assert!(
            got.iter().any(|(r, s, _)| r == rule && s == severity),
            "{file}: want a {severity} {rule} finding, got {got:?}"
        );
    }
}

#[test]
fn every_builtin_rule_has_fixtures() {
    let run = mbxaudit(&["triage", "--list-rules", "--format", "json"]);
    run.expect_code(0);
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).expect("rules JSON");
    let names: Vec<String> = std::fs::read_dir(testdata("triage"))
        .expect("testdata/triage")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    for rule in doc["rules"].as_array().expect("rules") {
        let id = rule["id"].as_str().expect("id");
        let stem = match id {
            "send-as-other" => "send_as".to_string(),
            "mailbox-forwarding" => "forwarding".to_string(),
            other => other.replace('-', "_"),
        };
        for kind in ["fires", "quiet"] {
            assert!(
                names
                    .iter()
                    .any(|n| n.starts_with(&format!("{stem}_{kind}."))),
                "no {stem}_{kind}.* fixture for rule {id}"
            );
        }
    }
}

/// Every fixture that fires, at once.
fn all_fires() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(testdata("triage"))
        .expect("testdata/triage")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("_fires."))
        .map(|n| fixture(&n))
        .collect();
    names.sort();
    names
}

#[test]
fn golden_text_and_json() {
    let files = all_fires();
    let mut args: Vec<&str> = vec!["triage", "-q"];
    args.extend(files.iter().map(String::as_str));
    let run = mbxaudit(&args);
    run.expect_code(0);
    assert!(run.stderr.is_empty(), "--quiet: {}", run.stderr);
    assert_golden("triage_fires.txt", &run.stdout);

    let mut args: Vec<&str> = vec!["triage", "-q", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let run = mbxaudit(&args);
    run.expect_code(0);
    assert_golden("triage_fires.json", &run.stdout);
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    assert_eq!(doc["format"], "mbxaudit-triage");
    // Sorted by severity, then time.
    let rank = |s: &str| {
        ["critical", "high", "medium", "low"]
            .iter()
            .position(|x| *x == s)
    };
    let findings = doc["findings"].as_array().expect("findings");
    for pair in findings.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (ra, rb) = (
            rank(a["severity"].as_str().unwrap_or_default()),
            rank(b["severity"].as_str().unwrap_or_default()),
        );
        assert!(
            ra < rb || (ra == rb && a["first"].as_str() <= b["first"].as_str()),
            "order: {a} before {b}"
        );
    }
}

#[test]
fn text_caps_evidence_json_lists_all() {
    let f = fixture("mass_deletion_fires.csv");
    let run = mbxaudit(&["triage", "-q", &f]);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("(+42 more; 52 rows, --evidence 0 lists all)"),
        "{text}"
    );
    let run = mbxaudit(&["triage", "-q", "--evidence", "0", &f]);
    let text = String::from_utf8_lossy(&run.stdout);
    assert_eq!(text.matches("mass_deletion_fires.csv:").count(), 52);
    let doc = triage_json(&[&f]);
    let ev = doc["findings"][0]["evidence"].as_array().expect("evidence");
    assert_eq!(ev.len(), 52);
    assert!(ev[0]
        .as_str()
        .unwrap_or_default()
        .ends_with("mass_deletion_fires.csv:53"));
}

#[test]
fn threshold_options_and_sets() {
    let f = fixture("mass_deletion_fires.csv");
    assert!(fired(&["--mass-delete", "53", &f]).is_empty());
    assert_eq!(fired(&["--mass-delete", "52", &f]).len(), 1);
    assert!(fired(&["--set", "mass-deletion.threshold=60", &f]).is_empty());
    // 30 SoftDeletes in 30 minutes, then 22 HardDeletes in the next 11: with a 10-minute
    // window, 10 deletions at most.
    assert!(fired(&["--mass-delete-window", "10m", &f]).is_empty());
    assert_eq!(
        fired(&["--mass-delete-window", "10m", "--mass-delete", "10", &f]),
        vec![("mass-deletion".into(), "high".into(), 52)]
    );
    assert!(fired(&["--disable", "mass-deletion", &f]).is_empty());
    assert_eq!(
        fired(&["--set", "mass-deletion.severity=critical", &f])[0].1,
        "critical"
    );
    let q = fixture("new_client_ip_quiet.csv");
    // A one-day baseline (of two records): both addresses appear on day 1, in it.
    assert!(fired(&[
        "--baseline",
        "1d",
        "--set",
        "new-client-ip.min_baseline=2",
        &q
    ])
    .is_empty());
    let m = fixture("many_client_ips_quiet.jsonl");
    assert_eq!(fired(&["--ip-count", "3", &m]).len(), 1);
    let n = fixture("non_owner_access_quiet.jsonl");
    assert_eq!(fired(&["--bind-count", "20", &n]).len(), 2);
    assert_eq!(fired(&["--bind-window", "4h", &n]).len(), 1);
}

#[test]
fn bad_rule_options_are_fatal() {
    for (args, needle) in [
        (vec!["--set", "nope.threshold=1"], "no rule 'nope'"),
        (
            vec!["--set", "mass-deletion.colour=red"],
            "no setting 'colour'",
        ),
        (vec!["--mass-delete-window", "soon"], "is not a duration"),
        (vec!["--disable", "nope"], "no rule 'nope'"),
        (
            vec!["--rules", "/nonexistent/rules.json"],
            "cannot read rules file",
        ),
    ] {
        let mut full = vec!["triage"];
        full.extend(args);
        full.push("testdata/triage/send_as_fires.csv");
        mbxaudit(&full).expect_code(2).expect_stderr(needle);
    }
}

#[test]
fn rules_file_adds_and_replaces() {
    let dir = tempdir();
    let path = dir.path().join("rules.json");
    std::fs::write(
        &path,
        r#"{
  "rules": [
    {"id": "calendar-edits", "title": "Delegate edits the calendar", "severity": "low",
     "kind": "match", "group_by": ["actor"],
     "when": [{"field": "folder", "matches": "^\\\\Calendar"},
              {"field": "logon_type", "in": ["Delegate"]}],
     "why": "{actor}: {records} {when}{detail}"},
    {"id": "send-as-other", "title": "SendAs", "severity": "critical", "kind": "match",
     "when": [{"field": "operation", "in": ["SendAs"]}], "why": "{records}"}
  ]
}"#,
    )
    .expect("write rules");
    let p = path.to_str().expect("utf-8 path");
    let got = fired(&["--rules", p, &fixture("send_as_quiet.csv")]);
    assert_eq!(
        got,
        vec![
            ("send-as-other".into(), "critical".into(), 1),
            ("calendar-edits".into(), "low".into(), 2),
        ]
    );
    let got = fired(&[
        "--rules",
        p,
        "--no-builtin-rules",
        &fixture("mass_deletion_fires.csv"),
    ]);
    assert!(got.is_empty(), "only the file's rules run: {got:?}");

    // A broken rules file names the rule and what is wrong.
    std::fs::write(
        &path,
        r#"{"rules": [{"id": "x", "title": "t", "severity": "low", "kind": "threshold",
            "window": "1h", "why": "{peak}"}]}"#,
    )
    .expect("write rules");
    mbxaudit(&["triage", "--rules", p, "testdata/triage/send_as_fires.csv"])
        .expect_code(2)
        .expect_stderr("rule 'x': a threshold rule needs 'threshold'");
}

#[test]
fn list_rules_needs_no_input_and_round_trips() {
    let run = mbxaudit(&["triage", "--list-rules"]);
    run.expect_code(0);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("mass-deletion  [medium]  Mass deletion"),
        "{text}"
    );
    assert!(
        text.contains(">= 50 items in 1h per actor+mailbox"),
        "{text}"
    );

    // The JSON listing is a rules file: fed back, it runs the same rules.
    let dir = tempdir();
    let path = dir.path().join("all.json");
    let run = mbxaudit(&[
        "triage",
        "--list-rules",
        "--format",
        "json",
        "--mass-delete",
        "7",
    ]);
    run.expect_code(0);
    std::fs::write(&path, &run.stdout).expect("write");
    let p = path.to_str().expect("utf-8 path");
    let f = fixture("mass_deletion_quiet.csv");
    assert_eq!(
        fired(&["--rules", p, "--no-builtin-rules", &f]),
        fired(&["--mass-delete", "7", &f])
    );
    assert!(!fired(&["--mass-delete", "7", &f]).is_empty());
}

#[test]
fn csv_output_is_excel_safe_and_atomic() {
    let dir = tempdir();
    let out = dir.path().join("findings.csv");
    let o = out.to_str().expect("utf-8 path");
    let run = mbxaudit(&[
        "triage",
        "--format",
        "csv",
        "-o",
        o,
        "testdata/triage/html_escape.csv",
    ]);
    run.expect_code(0)
        .expect_stderr("Writing the findings to")
        .expect_stderr("prefixed with '");
    let bytes = std::fs::read(&out).expect("findings written");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF\"Severity\",\"Rule\""));
    let rows = report_rows(&bytes);
    assert_eq!(rows.len(), 2);
    let actors: Vec<&str> = rows.iter().map(|r| r[6].as_str()).collect();
    assert!(actors.contains(&"'=cmd|' /C calc'!A0"), "{actors:?}");
    // An existing file is not replaced without --force.
    mbxaudit(&[
        "triage",
        "--format",
        "csv",
        "-o",
        o,
        "testdata/triage/html_escape.csv",
    ])
    .expect_code(2)
    .expect_stderr("already exists");
    mbxaudit(&[
        "triage",
        "--format",
        "csv",
        "--raw-cells",
        "--force",
        "-o",
        o,
        "testdata/triage/html_escape.csv",
    ])
    .expect_code(0);
    let rows = report_rows(&std::fs::read(&out).expect("findings written"));
    assert!(rows.iter().any(|r| r[6] == "=cmd|' /C calc'!A0"));
}

#[test]
fn text_output_escapes_terminal_controls() {
    let run = mbxaudit(&["triage", "-q", "testdata/triage/html_escape.csv"]);
    run.expect_code(0);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("Wire transfer\\r\\nURGENT \\u{202e}exe.pdf"),
        "{text}"
    );
    assert!(!text.contains('\u{202E}'));
}

#[test]
fn exit_status_zero_with_findings_one_with_bad_rows() {
    // Findings are not failures.
    mbxaudit(&["triage", "-q", "testdata/triage/mass_deletion_fires.csv"]).expect_code(0);
    // Bad rows still give findings, and exit 1 as search does.
    let run = mbxaudit(&[
        "triage",
        "--format",
        "json",
        "testdata/legacy/malformed_rows.csv",
        "testdata/triage/send_as_fires.csv",
    ]);
    run.expect_code(1);
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(2));
    // A file named on the command line that is no export: an error, as in search.
    mbxaudit(&["triage", "testdata/legacy/not_an_export.csv"]).expect_code(1);
}

#[test]
fn folder_binds_are_kept() {
    // FolderBind rows count for non-owner access: basic_en-US.csv has ten, which search
    // drops by default.
    let doc = triage_json(&["--logon-types", "all", "testdata/legacy/basic_en-US.csv"]);
    assert_eq!(doc["records"], 25);
    let doc = triage_json(&[
        "--exclude-operation",
        "FolderBind",
        "testdata/legacy/basic_en-US.csv",
    ]);
    assert_eq!(doc["records"], 13);
}

/// An inbox rule changed from Outlook (UpdateInboxRules, a mailbox record) is judged by its
/// actions, read from OperationProperties: this one moves mail to RSS Feeds.
#[test]
fn update_inbox_rules_is_judged_by_its_actions() {
    let input = testdata("ual/sua_mailbox.csv");
    let run = mbxaudit(&["triage", input.to_str().expect("utf-8 path")]);
    let text = String::from_utf8_lossy(&run.stdout);
    let finding = text
        .split("\n\n")
        .find(|f| f.contains("UpdateInboxRules"))
        .unwrap_or_else(|| panic!("no UpdateInboxRules finding:\n{text}"));
    assert!(finding.starts_with("[HIGH] inbox-rule"), "{finding}");
    assert!(
        finding.contains("moves to a rarely used folder"),
        "{finding}"
    );
    assert!(finding.contains(r#""Folder":"RSS Feeds""#), "{finding}");
}
