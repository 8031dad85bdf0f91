//! `triage --sigma`: the Sigma corpus in testdata/sigma (SigmaHQ and Suzaku, Detection Rule
//! License 1.1) loads or is named, and its rules fire through the real binary on the real
//! samples, with the evidence a reading of the rules selects.

use std::collections::BTreeMap;

use crate::util::*;

/// `triage --format json ARGS`: (rule id → evidence places) and stderr.
fn sigma_findings(args: &[&str]) -> (BTreeMap<String, Vec<String>>, serde_json::Value, String) {
    let mut full = vec!["triage", "--format", "json"];
    full.extend_from_slice(args);
    let run = mbxaudit(&full);
    run.expect_code(0);
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON findings");
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in doc["findings"].as_array().expect("findings") {
        let places = f["evidence"]
            .as_array()
            .expect("evidence")
            .iter()
            .map(|p| p.as_str().unwrap_or_default().to_string());
        out.entry(f["rule"].as_str().unwrap_or_default().to_string())
            .or_default()
            .extend(places);
    }
    (out, doc, run.stderr)
}

#[test]
fn the_corpus_loads_or_is_named() {
    let run = mbxaudit(&[
        "triage",
        "--sigma",
        "testdata/sigma",
        "testdata/ual/t1114_Set-Mailbox-ForwardSMTPAddress.csv",
    ]);
    run.expect_code(0)
        .expect_stderr("Sigma: 33 rules loaded from 46 files; 0 for other log sources, 10 not usable")
        .expect_stderr("microsoft365_suspicious_email_delivered.yml (3569aefd-e535-4391-8c18-24bd01a21eaf): not loaded, invalid: not valid YAML: line 6")
        .expect_stderr("not loaded, unsupported: line 35: 'Parameters|contains|expand': placeholder %internal_domains%")
        .expect_stderr("not loaded, duplicate: same id and detection as");
    let named = run.stderr.matches("sigma: testdata/sigma/").count();
    assert_eq!(named, 13, "every rule not loaded is named:\n{}", run.stderr);
}

#[test]
fn strict_makes_unusable_rules_an_incomplete_run() {
    let run = mbxaudit(&[
        "triage",
        "--strict",
        "--sigma",
        "testdata/sigma",
        "testdata/ual/t1114_Set-Mailbox-ForwardSMTPAddress.csv",
    ]);
    run.expect_code(1)
        .expect_stderr("--strict: 10 Sigma rules could not be used");
}

/// The SigmaHQ Exchange inbox-rule rules and Suzaku's fire on an attacker's New-InboxRule
/// (delete messages whose subject contains "Attention"): 4ca118f2 (BEC: New-InboxRule with
/// DeleteMessage), 756232a0 (New-InboxRule with DeleteMessage), d3577be1 (any New-/Set-
/// InboxRule with parameters), Suzaku 0013 (New-InboxRule). Not 332bfab9 or c726e007
/// (forwarding: the rule does not forward). The record is line 2 of the export.
#[test]
fn inbox_rule_rules_fire_on_the_real_sample() {
    let file = "testdata/ual/t1564.008_New inbox rule to delete email.csv";
    let (got, doc, _) = sigma_findings(&["--sigma", "testdata/sigma", "--no-builtin-rules", file]);
    let at = vec![format!("{file}:2")];
    let want: BTreeMap<String, Vec<String>> = [
        "4ca118f2-3c1d-4e8e-97c8-4d798dff6dcc",
        "756232a0-5b3d-4665-86a1-12187c1bd427",
        "a1f0c2e1-0013-4a00-8a01-000000000013",
        "d3577be1-42c9-44a7-b56e-2e8de97349d3",
    ]
    .iter()
    .map(|id| (id.to_string(), at.clone()))
    .collect();
    assert_eq!(got, want);
    // The author is kept with each finding (Detection Rule License 1.1).
    for f in doc["findings"].as_array().unwrap() {
        assert!(f["sigma"]["author"].is_string(), "{f}");
        assert!(f["sigma"]["path"]
            .as_str()
            .unwrap()
            .starts_with("testdata/sigma/"));
    }
}

/// Suzaku's audit-tampering rules on the real samples, each on the one record there is:
/// UAL ingestion disabled (000d, `Parameters.UnifiedAuditLogIngestionEnabled: 'False'`),
/// audit bypass (000b), audit age limit (000c, `Parameters.AuditLogAgeLimit|exists`), and
/// the CAS mailbox protocols rule (0009) on both POP/IMAP rows.
#[test]
fn suzaku_rules_fire_on_the_real_samples() {
    let dir = "testdata/sigma/suzaku";
    let cases: &[(&str, &str, &[u64])] = &[
        (
            "testdata/ual/t1562.008_Disable UAL ingestion.csv",
            "a1f0c2e1-000d-4a00-8a01-00000000000d",
            &[2],
        ),
        (
            "testdata/ual/t1562-UnifiedAuditlogIngestion-Stopped.json",
            "a1f0c2e1-000d-4a00-8a01-00000000000d",
            &[1],
        ),
        (
            "testdata/ual/t1562.008_Set-MailboxAuditBypassAssociation.csv",
            "a1f0c2e1-000b-4a00-8a01-00000000000b",
            &[2],
        ),
        (
            "testdata/ual/t1562.001_Set-Mailbox-AuditLogAgeLimitoZero.csv",
            "a1f0c2e1-000c-4a00-8a01-00000000000c",
            &[2],
        ),
        (
            "testdata/ual/t1114.002_Enable_POP_IMAP_OWA.csv",
            "a1f0c2e1-0009-4a00-8a01-000000000009",
            &[2, 3],
        ),
    ];
    for (file, id, lines) in cases {
        let (got, _, _) = sigma_findings(&["--sigma", dir, "--no-builtin-rules", file]);
        let want: Vec<String> = lines.iter().map(|l| format!("{file}:{l}")).collect();
        assert_eq!(got.get(*id), Some(&want), "{file}: {got:?}");
    }
}

/// A rule of one's own, on a legacy export: legacy records are matched by their columns.
#[test]
fn legacy_records_are_matched_by_their_columns() {
    let dir = tempdir();
    let rule = dir.path().join("harddelete.yml");
    std::fs::write(
        &rule,
        "title: Hard delete by a delegate\nid: 0b9d6e7e-1111-4222-8333-944444444444\n\
         author: Test\nlogsource:\n  product: m365\n  service: exchange\ndetection:\n  \
         selection:\n    Operation: HardDelete\n    LogonType: Delegate\n  condition: selection\n\
         level: high\n",
    )
    .unwrap();
    let rule = rule.to_str().unwrap();
    let (got, _, _) = sigma_findings(&[
        "--sigma",
        rule,
        "--no-builtin-rules",
        "testdata/legacy/basic_en-US.csv",
    ]);
    // By hand: the lines of the export (one record a line) whose Operation is HardDelete
    // and LogonType Delegate.
    let text = String::from_utf8(fixture("legacy/basic_en-US.csv")).expect("UTF-8");
    let want: Vec<String> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("\"HardDelete\",") && l.contains(",\"Delegate\","))
        .map(|(i, _)| format!("testdata/legacy/basic_en-US.csv:{}", i + 1))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got.get("0b9d6e7e-1111-4222-8333-944444444444"), Some(&want));
}

#[test]
fn disable_takes_sigma_ids_and_no_builtin_needs_rules() {
    let file = "testdata/ual/t1562.008_Disable UAL ingestion.csv";
    let (got, _, _) = sigma_findings(&[
        "--sigma",
        "testdata/sigma/suzaku",
        "--no-builtin-rules",
        "--disable",
        "a1f0c2e1-000d-4a00-8a01-00000000000d",
        file,
    ]);
    assert!(got.is_empty(), "{got:?}");
    mbxaudit(&["triage", "--no-builtin-rules", file])
        .expect_code(2)
        .expect_stderr("--no-builtin-rules needs rules to run");
    mbxaudit(&[
        "triage",
        "--disable",
        "no-such-rule",
        "--sigma",
        "testdata/sigma/suzaku",
        file,
    ])
    .expect_code(2)
    .expect_stderr("--disable no-such-rule: no rule");
}
