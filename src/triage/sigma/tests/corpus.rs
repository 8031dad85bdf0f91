//! The SigmaHQ and Suzaku rules of testdata/sigma against the real exports of
//! testdata/ual: which rules load (and why the others do not), and which records each
//! rule selects. The expected records were read off the rules and the samples by hand
//! (Operation, Parameters and user agents of every record), not produced by this code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::samples;
use crate::triage::sigma::{load, Event, Loaded, NotLoadedKind};

fn corpus() -> Loaded {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sigma");
    load(&[dir]).expect("testdata/sigma is readable")
}

fn relative(path: &Path) -> String {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sigma");
    path.strip_prefix(&base)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Every rule file that does not load, in load order, with its kind and a telling part of
/// the reason.
const NOT_LOADED: &[(&str, NotLoadedKind, &str)] = &[
    (
        "sigmahq/rules/cloud/m365/audit/m365_audit_inbox_rule_external_forward.yml",
        NotLoadedKind::Unsupported,
        "line 35: 'Parameters|contains|expand': placeholder %internal_domains%",
    ),
    (
        "sigmahq/rules/cloud/m365/audit/microsoft365_email_anti-phishing_policy_disabled.yml",
        NotLoadedKind::Unsupported,
        "field 'eventSource'",
    ),
    (
        "sigmahq/rules/cloud/m365/audit/microsoft365_email_protection_policy_disabled.yml",
        NotLoadedKind::Unsupported,
        "field 'eventName'",
    ),
    (
        "sigmahq/rules/cloud/m365/audit/microsoft365_suspicious_email_delivered.yml",
        NotLoadedKind::Invalid,
        "not valid YAML: line 6:",
    ),
    (
        "sigmahq/rules/cloud/m365/audit/microsoft365_suspicious_inbox_rule_external_forward_audit.yml",
        NotLoadedKind::Unsupported,
        "placeholder %internal_domains%",
    ),
    (
        "sigmahq/rules/cloud/m365/exchange/microsoft365_new_federated_domain_added_exchange.yml",
        NotLoadedKind::Unsupported,
        "field 'eventSource'",
    ),
    (
        "sigmahq/rules/cloud/m365/microsoft365_susp_inbox_forwarding.yml",
        NotLoadedKind::Unsupported,
        "field 'eventSource'",
    ),
    (
        "sigmahq/rules/cloud/m365/microsoft365_susp_mail_forwarding_o365auditlogs.yml",
        NotLoadedKind::Invalid,
        "line 22: key 'OperationProperties.Value|contains' repeated (first on line 19)",
    ),
    (
        "sigmahq/rules/cloud/m365/microsoft365_suspicious_inbox_manipulation_rules.yml",
        NotLoadedKind::Unsupported,
        "field 'eventSource'",
    ),
    (
        "sigmahq/rules-threat-hunting/cloud/m365/audit/detection_of_responder_tool_in_microsoft_365_defender_logs.yaml",
        NotLoadedKind::Invalid,
        "line 15: 'detection' has no 'condition'; it holds a nested 'detection:' (line 16)",
    ),
    (
        "sigmahq/rules-threat-hunting/cloud/m365/audit/microsoft365_susp_email_forwarding_activity.yml",
        NotLoadedKind::Duplicate,
        "same id and detection as ",
    ),
    (
        "sigmahq/rules-threat-hunting/cloud/m365/audit/microsoft365_susp_inbox_rule_creation_or_update_activity.yml",
        NotLoadedKind::Duplicate,
        "microsoft365_susp_email_hiding_activity.yml (loaded instead)",
    ),
    (
        "sigmahq/rules-threat-hunting/cloud/m365/microsoft365_susp_email_forwarding_activity.yml",
        NotLoadedKind::Duplicate,
        "rules/cloud/m365/microsoft365_susp_email_forwarding_activity.yml (loaded instead)",
    ),
];

#[test]
fn every_corpus_rule_loads_or_is_named_with_a_reason() {
    let loaded = corpus();
    assert_eq!(loaded.files_read, 46);
    let got: Vec<(String, NotLoadedKind, String)> = loaded
        .not_loaded
        .iter()
        .map(|n| (relative(&n.path), n.kind, n.reason.clone()))
        .collect();
    let want: Vec<(String, NotLoadedKind)> = NOT_LOADED
        .iter()
        .map(|(p, k, _)| (p.to_string(), *k))
        .collect();
    assert_eq!(
        got.iter()
            .map(|(p, k, _)| (p.clone(), *k))
            .collect::<Vec<_>>(),
        want,
        "not loaded: {got:#?}"
    );
    for ((path, _, reason), (_, _, needle)) in got.iter().zip(NOT_LOADED) {
        assert!(
            reason.contains(needle),
            "{path}: {reason:?} lacks {needle:?}"
        );
    }
    assert_eq!(loaded.rules.len(), 46 - NOT_LOADED.len());
    assert!(loaded.notes.is_empty(), "{:?}", loaded.notes);
    // Every not-loaded rule file is named with its id and title where it has them.
    assert!(loaded
        .not_loaded
        .iter()
        .all(|n| n.id.is_some() && n.title.is_some()));
}

#[test]
fn metadata_is_kept_as_written() {
    let loaded = corpus();
    let rule = loaded
        .rules
        .iter()
        .find(|r| r.id() == Some("13f2d3f5-6497-44a7-bf5f-dc13ffafe5dc"))
        .expect("bypass conditional access loads");
    assert_eq!(
        rule.title(),
        "Azure Login Bypassing Conditional Access Policies"
    );
    assert_eq!(rule.level(), Some(crate::triage::sigma::Level::High));
    assert_eq!(rule.status(), Some("experimental"));
    assert_eq!(rule.author(), Some("Josh Nickels, Marius Rothenbücher"));
    assert_eq!(rule.tags(), ["attack.defense-evasion", "attack.t1078"]);
    assert_eq!(rule.falsepositives(), ["Unknown"]);
    assert_eq!(rule.references().len(), 2);
    assert_eq!(rule.date(), Some("2025-01-08"));
    assert!(rule
        .description()
        .is_some_and(|d| d.starts_with("Detects a successful login")));
    assert_eq!(
        rule.search_identifiers(),
        ["selection", "filter_main_bjectid"]
    );
    assert!(rule
        .path()
        .ends_with("microsoft365_bypass_conditional_access.yml"));
    let logsource = rule.logsource();
    assert_eq!(logsource.product.as_deref(), Some("m365"));
    assert_eq!(logsource.service.as_deref(), Some("audit"));
    // The mojibake author of the sibling file is kept byte for byte (not loaded, but
    // the loaded copy of the same rule keeps its own); the rules' order is the paths'.
    let paths: Vec<PathBuf> = loaded
        .rules
        .iter()
        .map(|r| r.path().to_path_buf())
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
}

/// Sample files, all of testdata/ual's real exports plus the crafted sua_mailbox.csv.
const SAMPLES: &[&str] = &[
    "t1098.001_Add a user to company administrator role.csv",
    "t1098.002_ApplicationImpersonation.csv",
    "t1098.002_Mail Account Delegation full access permissions.csv",
    "t1098.002_Mail Account Delegation full access permissions.json",
    "t1098.002_Mail account delegation-SendAs permission.csv",
    "t1098.002_user-reset_mailbox_full_access.json",
    "t1098.003_add_role_global_admin.json",
    "t1098_Add a user to company administrator role.json",
    "t1110.003_msolspray-powershell.json",
    "t1110.003_msolspray-python.json",
    "t1110.003_msolspraywithsuccess_1.csv",
    "t1110.003_o365spray_default.json",
    "t1110.003_o365spray_reporting.csv",
    "t1110.003_o365spray_reporting.json",
    "t1114.002_Enable_POP_IMAP_OWA.csv",
    "t1114.002_Enable_POP_IMAP_OWA.json",
    "t1114.003_Forward_Rule_Multi_Users_Same_Forward_dest.json",
    "t1114.003_rule_mail_forward_same_dest.json",
    "t1114_Set-Mailbox-ForwardSMTPAddress.csv",
    "t1482_azurehound_list.csv",
    "t1531_Remove-Admin members from a group.csv",
    "t1531_mass_delete_users.json",
    "t1550.001_Allusers_consent_to_grant_permission_granted.json",
    "t1550.001_default_rclone_app_registration.json",
    "t1556.006_Disable Strong Authentication.csv",
    "t1556_Disable _Strong_Authentication.json",
    "t1562-Set-MailboxAuditBypassAssociation.json",
    "t1562-UnifiedAuditlogIngestion-Stopped.json",
    "t1562.001_Remove-DlpCompliancePolicy.csv",
    "t1562.001_Set-Mailbox-AuditLogAgeLimitoZero.csv",
    "t1562.008_Advanced Auditing policy removed from a user.csv",
    "t1562.008_Disable UAL ingestion.csv",
    "t1562.008_Set-MailboxAuditBypassAssociation.csv",
    "t1562_Set-Mailbox-AuditLogAgeLimitoZero.json",
    "t1564.008_New inbox rule to delete email.csv",
    "t1564.008_Update existing mailbox rule using Set-InboxRule.csv",
    "t1564.008_markasread_delete_all_email.json",
    "t1564.008_rule_mark_as_read_move.json",
    "t1592.004_mfa_sweep.csv",
    "sua_mailbox.csv",
];

type Hits = &'static [(&'static str, &'static [(usize, &'static str)])];

// Shorthands for the files that several rules select from.
const INBOX_DELETE: &str = "t1564.008_New inbox rule to delete email.csv";
const INBOX_SET: &str = "t1564.008_Update existing mailbox rule using Set-InboxRule.csv";
const INBOX_READ_DELETE: &str = "t1564.008_markasread_delete_all_email.json";
const INBOX_READ_MOVE: &str = "t1564.008_rule_mark_as_read_move.json";
const INBOX_FORWARD: &str = "t1114.003_rule_mail_forward_same_dest.json";
const SUA: &str = "sua_mailbox.csv";
const FWD_SMTP: &str = "t1114_Set-Mailbox-ForwardSMTPAddress.csv";
const FWD_MULTI: &str = "t1114.003_Forward_Rule_Multi_Users_Same_Forward_dest.json";
const FWD_MULTI_ALL: &[(usize, &str)] = &[
    (1, "c67fa231"),
    (2, "1320acfd"),
    (3, "a0cd9667"),
    (4, "1320acfd"),
    (5, "a0cd9667"),
];

/// Rule id → the records (file, number, Id prefix) it must select; every other
/// (rule, record) pair must stay quiet. Loaded rules missing here select nothing:
/// 13f2d3f5 (needs ApplicationId 9ba1a5c7...), 33130063, 4b4d8640 and 56d25a6c (no
/// ThreatIntelligence records), 58f88172 (no domain operation), aed9c24f (no Teams).
const FIRES: &[(&str, Hits)] = &[
    // SigmaHQ: Suspicious Microsoft 365 Exchange Activity Indicative of BEC.
    // Folders ('Deleted Items', 'RSS Feeds'), DeleteMessage + True, ForwardTo, 'invoice',
    // Set-Mailbox forwarding, Add-MailboxPermission FullAccess.
    (
        "4ca118f2-3c1d-4e8e-97c8-4d798dff6dcc",
        &[
            (
                "t1098.002_Mail Account Delegation full access permissions.csv",
                &[(1, "158ad9da")],
            ),
            (
                "t1098.002_Mail Account Delegation full access permissions.json",
                &[(1, "97fc1f52")],
            ),
            (
                "t1098.002_user-reset_mailbox_full_access.json",
                &[(5, "bc0b2d0b")],
            ),
            (FWD_MULTI, FWD_MULTI_ALL),
            (INBOX_FORWARD, &[(1, "80ab29e3"), (2, "80ab29e3")]),
            (FWD_SMTP, &[(1, "d7cf7b7d")]),
            (INBOX_DELETE, &[(1, "76c3fa50")]),
            (INBOX_SET, &[(1, "b6803747")]),
            (INBOX_READ_DELETE, &[(1, "3afb17e9")]),
            (SUA, &[(3, "0000000a")]),
        ],
    ),
    // SigmaHQ: Email Forwarding Rule - Exchange (Parameters.Name is a forwarding one).
    (
        "332bfab9-170c-40ef-9b11-c8df8d402421",
        &[
            (INBOX_FORWARD, &[(1, "80ab29e3"), (2, "80ab29e3")]),
            (SUA, &[(3, "0000000a")]),
        ],
    ),
    // SigmaHQ: inbox rule configured for external forwarding or message suppression.
    (
        "756232a0-5b3d-4665-86a1-12187c1bd427",
        &[
            (INBOX_FORWARD, &[(1, "80ab29e3"), (2, "80ab29e3")]),
            (INBOX_DELETE, &[(1, "76c3fa50")]),
            (INBOX_SET, &[(1, "b6803747")]),
            (INBOX_READ_DELETE, &[(1, "3afb17e9")]),
            (INBOX_READ_MOVE, &[(1, "67c49fce")]),
            (SUA, &[(3, "0000000a")]),
        ],
    ),
    // SigmaHQ: Mail Forwarding/Redirecting Activity In O365 (Set-Mailbox forwarding,
    // inbox rules with ForwardTo; the UpdateInboxRules record moves, does not forward).
    (
        "c726e007-2cd0-4a55-abfb-79730fbedee5",
        &[
            (FWD_MULTI, FWD_MULTI_ALL),
            (INBOX_FORWARD, &[(1, "80ab29e3"), (2, "80ab29e3")]),
            (FWD_SMTP, &[(1, "d7cf7b7d")]),
            (SUA, &[(3, "0000000a")]),
        ],
    ),
    // SigmaHQ: Inbox Rules Creation Or Update Activity (delete, mark read, move).
    (
        "d3577be1-42c9-44a7-b56e-2e8de97349d3",
        &[
            (INBOX_DELETE, &[(1, "76c3fa50")]),
            (INBOX_SET, &[(1, "b6803747")]),
            (INBOX_READ_DELETE, &[(1, "3afb17e9")]),
            (INBOX_READ_MOVE, &[(1, "67c49fce")]),
            (SUA, &[(3, "0000000a")]),
        ],
    ),
    // SigmaHQ: Disabling Multi Factor Authentication.
    (
        "60de9b57-dc4d-48b9-a6a0-b39e0469f876",
        &[
            (
                "t1556.006_Disable Strong Authentication.csv",
                &[(2, "391865b5")],
            ),
            (
                "t1556_Disable _Strong_Authentication.json",
                &[(2, "2787b9e4")],
            ),
        ],
    ),
    // Suzaku: role member added / removed, user updated and deleted, MFA disabled.
    (
        "a1f0c2e1-0001-4a00-8a01-000000000001",
        &[
            (
                "t1098.001_Add a user to company administrator role.csv",
                &[(1, "c27d7322")],
            ),
            ("t1098.003_add_role_global_admin.json", &[(1, "4ae7e0d5")]),
            (
                "t1098_Add a user to company administrator role.json",
                &[(1, "df48cda4")],
            ),
        ],
    ),
    (
        "a1f0c2e1-0002-4a00-8a01-000000000002",
        &[(
            "t1531_Remove-Admin members from a group.csv",
            &[(1, "7264385a")],
        )],
    ),
    (
        "a1f0c2e1-0015-4a00-8a01-000000000015",
        &[
            (
                "t1098.002_user-reset_mailbox_full_access.json",
                &[(2, "8319061b")],
            ),
            (
                "t1556.006_Disable Strong Authentication.csv",
                &[(1, "7c1647b0")],
            ),
            (
                "t1556_Disable _Strong_Authentication.json",
                &[(1, "632c63c7")],
            ),
            (
                "t1562.008_Advanced Auditing policy removed from a user.csv",
                &[(1, "58b55b8d")],
            ),
        ],
    ),
    (
        "a1f0c2e1-000f-4a00-8a01-00000000000f",
        &[(
            "t1531_mass_delete_users.json",
            &[
                (1, "f1cb450f"),
                (2, "af85b59a"),
                (3, "2116f955"),
                (4, "b4d3a479"),
                (5, "ab0877ff"),
                (6, "a31059a3"),
                (7, "05122da1"),
                (8, "0323d248"),
                (9, "e03c8d64"),
                (10, "ee889fe4"),
            ],
        )],
    ),
    (
        "a1f0c2e1-0012-4a00-8a01-000000000012",
        &[
            (
                "t1556.006_Disable Strong Authentication.csv",
                &[(2, "391865b5")],
            ),
            (
                "t1556_Disable _Strong_Authentication.json",
                &[(2, "2787b9e4")],
            ),
        ],
    ),
    // Suzaku: application registered, consent policy updated.
    (
        "a1f0c2e1-0011-4a00-8a01-000000000011",
        &[(
            "t1550.001_default_rclone_app_registration.json",
            &[(1, "f4ca135c")],
        )],
    ),
    (
        "a1f0c2e1-0010-4a00-8a01-000000000010",
        &[(
            "t1550.001_Allusers_consent_to_grant_permission_granted.json",
            &[(1, "2eb5a8f8")],
        )],
    ),
    // Suzaku: sign-ins. AzureHound and WindowsPowerShell user agents (ExtendedProperties),
    // failed logins.
    (
        "a1f0c2e1-0007-4a00-8a01-000000000007",
        &[(
            "t1482_azurehound_list.csv",
            &[(1, "2ef9a610"), (2, "02274f13")],
        )],
    ),
    (
        "a1f0c2e1-0008-4a00-8a01-000000000008",
        &[
            (
                "t1110.003_msolspray-powershell.json",
                &[
                    (1, "f8a2e606"),
                    (2, "75bbb8cc"),
                    (4, "7836e60b"),
                    (5, "7836e60b"),
                    (7, "7836e60b"),
                    (8, "15ce5c05"),
                    (9, "80fa9cb8"),
                    (10, "ba7f7f8d"),
                    (11, "9401f4f5"),
                ],
            ),
            (
                "t1110.003_msolspraywithsuccess_1.csv",
                &[
                    (1, "feb15f2c"),
                    (2, "05c3e4f8"),
                    (3, "05c3e4f8"),
                    (4, "05c3e4f8"),
                    (5, "05c3e4f8"),
                    (6, "05c3e4f8"),
                    (7, "c858ef06"),
                    (8, "c858ef06"),
                    (9, "e165a77f"),
                ],
            ),
            (
                "t1592.004_mfa_sweep.csv",
                &[(2, "3d3400e3"), (6, "1e723756"), (7, "c879eed4")],
            ),
        ],
    ),
    (
        "a1f0c2e1-0006-4a00-8a01-000000000006",
        &[
            (
                "t1110.003_msolspray-powershell.json",
                &[
                    (1, "f8a2e606"),
                    (2, "75bbb8cc"),
                    (3, "b181c852"),
                    (4, "7836e60b"),
                    (5, "7836e60b"),
                    (6, "e570bd95"),
                    (7, "7836e60b"),
                    (8, "15ce5c05"),
                    (9, "80fa9cb8"),
                    (10, "ba7f7f8d"),
                ],
            ),
            (
                "t1110.003_msolspray-python.json",
                &[
                    (1, "71fafc2a"),
                    (2, "de5d9c86"),
                    (3, "bb028a14"),
                    (4, "c5a1e16d"),
                    (5, "2fbae12b"),
                    (6, "48674a1b"),
                    (8, "845f65c8"),
                    (9, "7cc52b96"),
                ],
            ),
            (
                "t1110.003_msolspraywithsuccess_1.csv",
                &[
                    (1, "feb15f2c"),
                    (2, "05c3e4f8"),
                    (3, "05c3e4f8"),
                    (4, "05c3e4f8"),
                    (5, "05c3e4f8"),
                    (6, "05c3e4f8"),
                    (7, "c858ef06"),
                    (8, "c858ef06"),
                ],
            ),
            (
                "t1110.003_o365spray_default.json",
                &[
                    (1, "2eaee53c"),
                    (2, "f3d31ad2"),
                    (3, "27f4d215"),
                    (4, "4cc5be65"),
                    (5, "ff8b8f87"),
                    (6, "841e4ad0"),
                    (7, "b65c1ca8"),
                    (8, "ef7f8279"),
                    (9, "5fdc26f5"),
                ],
            ),
            (
                "t1110.003_o365spray_reporting.csv",
                &[
                    (1, "1ebc1d1a"),
                    (2, "a582d51f"),
                    (3, "5ba11053"),
                    (4, "f3874e9b"),
                    (6, "6995c3be"),
                    (7, "ccf90af7"),
                    (8, "fcf2c939"),
                    (9, "0e4cbb8e"),
                ],
            ),
            (
                "t1110.003_o365spray_reporting.json",
                &[
                    (1, "759cbc44"),
                    (3, "378be9cf"),
                    (4, "5ec201cb"),
                    (5, "792e4fcd"),
                    (6, "cb4a291d"),
                    (7, "74f64909"),
                    (8, "759cbc44"),
                    (10, "378be9cf"),
                    (11, "5ec201cb"),
                    (12, "792e4fcd"),
                    (13, "cb4a291d"),
                    (14, "74f64909"),
                ],
            ),
        ],
    ),
    // Suzaku: Exchange admin cmdlets.
    (
        "a1f0c2e1-0004-4a00-8a01-000000000004",
        &[
            (
                "t1098.002_Mail Account Delegation full access permissions.csv",
                &[(1, "158ad9da")],
            ),
            (
                "t1098.002_Mail Account Delegation full access permissions.json",
                &[(1, "97fc1f52")],
            ),
            (
                "t1098.002_user-reset_mailbox_full_access.json",
                &[(5, "bc0b2d0b")],
            ),
        ],
    ),
    (
        "a1f0c2e1-0005-4a00-8a01-000000000005",
        &[(
            "t1098.002_Mail account delegation-SendAs permission.csv",
            &[(1, "c1b9ac08")],
        )],
    ),
    (
        "a1f0c2e1-0003-4a00-8a01-000000000003",
        &[("t1098.002_ApplicationImpersonation.csv", &[(1, "7627a837")])],
    ),
    (
        "a1f0c2e1-000e-4a00-8a01-00000000000e",
        &[(
            "t1562.001_Remove-DlpCompliancePolicy.csv",
            &[(1, "646c1d49")],
        )],
    ),
    (
        "a1f0c2e1-000d-4a00-8a01-00000000000d",
        &[
            (
                "t1562-UnifiedAuditlogIngestion-Stopped.json",
                &[(1, "21e87b2c")],
            ),
            ("t1562.008_Disable UAL ingestion.csv", &[(1, "c1d1651a")]),
        ],
    ),
    (
        "a1f0c2e1-0009-4a00-8a01-000000000009",
        &[
            (
                "t1114.002_Enable_POP_IMAP_OWA.csv",
                &[(1, "a5148ab2"), (2, "8f78843b")],
            ),
            ("t1114.002_Enable_POP_IMAP_OWA.json", &[(1, "7d1a3ff8")]),
        ],
    ),
    (
        "a1f0c2e1-000c-4a00-8a01-00000000000c",
        &[
            (
                "t1562.001_Set-Mailbox-AuditLogAgeLimitoZero.csv",
                &[(1, "d3bc1013")],
            ),
            (
                "t1562_Set-Mailbox-AuditLogAgeLimitoZero.json",
                &[(1, "8b30644e")],
            ),
        ],
    ),
    (
        "a1f0c2e1-000b-4a00-8a01-00000000000b",
        &[
            (
                "t1562-Set-MailboxAuditBypassAssociation.json",
                &[(1, "20fd5006")],
            ),
            (
                "t1562.008_Set-MailboxAuditBypassAssociation.csv",
                &[(1, "20fd5006")],
            ),
        ],
    ),
    (
        "a1f0c2e1-000a-4a00-8a01-00000000000a",
        &[(FWD_MULTI, FWD_MULTI_ALL), (FWD_SMTP, &[(1, "d7cf7b7d")])],
    ),
    (
        "a1f0c2e1-0013-4a00-8a01-000000000013",
        &[
            (INBOX_FORWARD, &[(1, "80ab29e3"), (2, "80ab29e3")]),
            (INBOX_DELETE, &[(1, "76c3fa50")]),
            (INBOX_READ_DELETE, &[(1, "3afb17e9")]),
            (INBOX_READ_MOVE, &[(1, "67c49fce")]),
            (SUA, &[(3, "0000000a")]),
        ],
    ),
    (
        "a1f0c2e1-0014-4a00-8a01-000000000014",
        &[(INBOX_SET, &[(1, "b6803747")])],
    ),
];

type Selected = BTreeMap<(String, String), Vec<(usize, String)>>;

#[test]
fn corpus_rules_select_what_a_reading_of_them_selects() {
    let loaded = corpus();
    let mut got: Selected = BTreeMap::new();
    for name in SAMPLES {
        for record in samples::read(name) {
            let event = match &record.outer {
                Some(outer) => Event::with_outer(&record.audit_data, outer),
                None => Event::new(&record.audit_data),
            };
            for rule in &loaded.rules {
                if rule.matches(&event) {
                    got.entry((rule.id().unwrap_or_default().to_string(), name.to_string()))
                        .or_default()
                        .push((record.number, record.id()[..8].to_string()));
                }
            }
        }
    }
    let mut want: Selected = BTreeMap::new();
    for (id, files) in FIRES {
        for (file, records) in *files {
            let list = records.iter().map(|(n, i)| (*n, i.to_string())).collect();
            assert!(want
                .insert((id.to_string(), file.to_string()), list)
                .is_none());
        }
    }
    let missing: Vec<_> = want
        .iter()
        .filter(|(k, v)| got.get(*k) != Some(v))
        .collect();
    let extra: Vec<_> = got.iter().filter(|(k, _)| !want.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "expected but not selected as written: {missing:#?}\nselected but not expected: {extra:#?}\n\
         selected for those: {:#?}",
        missing.iter().map(|(k, _)| (k, got.get(*k))).collect::<Vec<_>>()
    );
}
