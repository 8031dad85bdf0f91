//! Each modifier, value form and condition form on small hand-written events, firing and
//! quiet; and the reasons given for rules that cannot load.

use std::path::Path;

use serde_json::{json, Value};

use crate::triage::sigma::{parse_rule, parse_rules, Event, NotLoadedKind, SigmaRule};

/// A rule for `product: m365` around a detection written at two spaces of indent.
fn rule(detection: &str) -> SigmaRule {
    let text = format!(
        "title: t\nid: 1\nlevel: low\nlogsource:\n  product: m365\ndetection:\n{detection}"
    );
    parse_rule(&text, Path::new("t.yml")).unwrap_or_else(|e| panic!("{}: {text}", e.reason))
}

fn fires(rule: &SigmaRule, event: &Value) -> bool {
    rule.matches(&Event::new(event))
}

/// Asserts which of `events` fire.
fn check(detection: &str, firing: &[Value], quiet: &[Value]) {
    let r = rule(detection);
    for e in firing {
        assert!(fires(&r, e), "should fire: {e}\n{detection}");
    }
    for e in quiet {
        assert!(!fires(&r, e), "should stay quiet: {e}\n{detection}");
    }
}

fn op(value: Value) -> Value {
    json!({ "Operation": value })
}

#[test]
fn plain_values_are_case_insensitive_and_whole() {
    check(
        "  sel:\n    Operation: new-inboxrule\n  condition: sel\n",
        &[op(json!("New-InboxRule")), op(json!("NEW-INBOXRULE"))],
        &[
            op(json!("New-InboxRules")),
            op(json!("x New-InboxRule")),
            json!({}),
            op(json!(null)),
        ],
    );
}

#[test]
fn contains_startswith_endswith() {
    check(
        "  sel:\n    Operation|contains: inbox\n  condition: sel\n",
        &[op(json!("New-InboxRule")), op(json!("inbox"))],
        &[op(json!("New-Rule"))],
    );
    check(
        "  sel:\n    Operation|startswith: set-\n  condition: sel\n",
        &[op(json!("Set-Mailbox"))],
        &[op(json!("xSet-Mailbox"))],
    );
    check(
        "  sel:\n    Operation|endswith: rule\n  condition: sel\n",
        &[op(json!("Set-InboxRule"))],
        &[op(json!("Set-InboxRules"))],
    );
}

#[test]
fn wildcards_and_escapes() {
    check(
        "  sel:\n    UserId: '*@*.onmicrosoft.com'\n  condition: sel\n",
        &[json!({"UserId": "eve@evil.onmicrosoft.com"})],
        &[json!({"UserId": "eve@contoso.com"})],
    );
    check(
        "  sel:\n    Subject: 'a?c'\n  condition: sel\n",
        &[json!({"Subject": "abc"}), json!({"Subject": "a\nc"})],
        &[json!({"Subject": "ac"}), json!({"Subject": "abbc"})],
    );
    // \* and \? are literal; \\ is one backslash; a lone backslash stays itself.
    check(
        r"  sel:
    Subject: 'a\*b\?'
  condition: sel
",
        &[json!({"Subject": "a*b?"})],
        &[json!({"Subject": "axbc"})],
    );
    check(
        r"  sel:
    - Path: 'C:\Windows\*'
    - Path: 'x\\*'
  condition: sel
",
        &[
            json!({"Path": "C:\\Windows*"}),
            json!({"Path": "x\\anything"}),
        ],
        &[
            json!({"Path": "C:\\Windows\\System32"}),
            json!({"Path": "xanything"}),
        ],
    );
}

#[test]
fn lists_are_or_and_all_is_and() {
    check(
        "  sel:\n    Operation:\n      - New-InboxRule\n      - Set-InboxRule\n  condition: sel\n",
        &[op(json!("set-inboxrule"))],
        &[op(json!("Remove-InboxRule"))],
    );
    let params = |v: &[(&str, &str)]| json!({"Parameters": v.iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect::<Vec<_>>()});
    check(
        "  sel:\n    Parameters|contains|all:\n      - DeleteMessage\n      - 'True'\n  condition: sel\n",
        &[params(&[("DeleteMessage", "True")]), params(&[("DeleteMessage", "False"), ("X", "true")])],
        &[params(&[("DeleteMessage", "False")]), params(&[("MarkAsRead", "True")])],
    );
}

#[test]
fn list_of_maps_is_or_of_maps() {
    check(
        "  sel:\n    - Operation: Set-Mailbox\n      Workload: Exchange\n    - Operation: New-InboxRule\n  condition: sel\n",
        &[json!({"Operation": "Set-Mailbox", "Workload": "Exchange"}), op(json!("New-InboxRule"))],
        &[op(json!("Set-Mailbox")), json!({"Operation": "Other", "Workload": "Exchange"})],
    );
}

#[test]
fn regular_expressions_are_case_sensitive_unless_asked() {
    check(
        "  sel:\n    Operation|re: '^New-'\n  condition: sel\n",
        &[op(json!("New-InboxRule"))],
        &[op(json!("new-inboxrule")), op(json!("x New-"))],
    );
    check(
        "  sel:\n    Operation|re|i: '^new-'\n  condition: sel\n",
        &[op(json!("NEW-InboxRule"))],
        &[op(json!("Set-"))],
    );
    check(
        "  sel:\n    Operation|re: '(?i)^new-'\n  condition: sel\n",
        &[op(json!("NEW-X"))],
        &[],
    );
    check(
        "  sel:\n    Body|re|m: '^b$'\n  condition: sel\n",
        &[json!({"Body": "a\nb\nc"})],
        &[json!({"Body": "a b"})],
    );
    let no_m = rule("  sel:\n    Body|re: '^b$'\n  condition: sel\n");
    assert!(!fires(&no_m, &json!({"Body": "a\nb\nc"})));
    check(
        "  sel:\n    Body|re|s: 'a.b'\n  condition: sel\n",
        &[json!({"Body": "a\nb"})],
        &[],
    );
    let no_s = rule("  sel:\n    Body|re: 'a.b'\n  condition: sel\n");
    assert!(!fires(&no_s, &json!({"Body": "a\nb"})));
}

#[test]
fn cased_makes_a_comparison_case_sensitive() {
    check(
        "  sel:\n    Operation|cased: New-InboxRule\n  condition: sel\n",
        &[op(json!("New-InboxRule"))],
        &[op(json!("new-inboxrule"))],
    );
}

#[test]
fn cidr_reads_ual_client_ip_forms() {
    check(
        "  sel:\n    ClientIP|cidr:\n      - 104.28.0.0/16\n      - 2a09:bac5::/32\n  condition: sel\n",
        &[
            json!({"ClientIP": "104.28.196.199"}),
            json!({"ClientIP": "104.28.196.199:9808"}),
            json!({"ClientIP": "[2a09:bac5:110:105::1a:98]:52629"}),
            json!({"ClientIP": "2a09:bac5:113:105::1a:a7"}),
        ],
        &[
            json!({"ClientIP": "10.1.2.3"}),
            json!({"ClientIP": "2a09:bac1:820:8::1a:9c"}),
            json!({"ClientIP": "not an address"}),
            json!({"ClientIP": 104}),
        ],
    );
}

#[test]
fn exists_and_null() {
    check(
        "  sel:\n    Parameters.ForwardTo|exists: true\n  condition: sel\n",
        &[json!({"Parameters": [{"Name": "ForwardTo", "Value": ""}]})],
        &[
            json!({"Parameters": [{"Name": "Other", "Value": "x"}]}),
            json!({}),
        ],
    );
    check(
        "  sel:\n    ClientIP|exists: false\n  condition: sel\n",
        &[json!({})],
        &[json!({"ClientIP": null}), json!({"ClientIP": "1.2.3.4"})],
    );
    check(
        "  sel:\n    ClientIP: null\n  condition: sel\n",
        &[json!({}), json!({"ClientIP": null})],
        &[json!({"ClientIP": ""}), json!({"ClientIP": "1.2.3.4"})],
    );
    check(
        "  sel:\n    ClientIP: ''\n  condition: sel\n",
        &[json!({"ClientIP": ""})],
        &[json!({}), json!({"ClientIP": "x"})],
    );
}

#[test]
fn numbers_and_booleans_compare_as_text_and_by_value() {
    check(
        "  sel:\n    LogonType: 2\n  condition: sel\n",
        &[json!({"LogonType": 2}), json!({"LogonType": "2"})],
        &[json!({"LogonType": 20}), json!({"LogonType": "Delegate"})],
    );
    check(
        "  sel:\n    ExternalAccess: false\n  condition: sel\n",
        &[
            json!({"ExternalAccess": false}),
            json!({"ExternalAccess": "False"}),
        ],
        &[json!({"ExternalAccess": true})],
    );
    check(
        "  sel:\n    ItemCount|gt: 10\n  condition: sel\n",
        &[json!({"ItemCount": 11}), json!({"ItemCount": "10.5"})],
        &[
            json!({"ItemCount": 10}),
            json!({"ItemCount": "many"}),
            json!({}),
        ],
    );
    check(
        "  sel:\n    ItemCount|gte: 10\n  condition: sel\n",
        &[json!({"ItemCount": 10})],
        &[json!({"ItemCount": 9.99})],
    );
    check(
        "  sel:\n    ItemCount|lt: 0.5\n  condition: sel\n",
        &[json!({"ItemCount": 0})],
        &[json!({"ItemCount": 0.5})],
    );
    check(
        "  sel:\n    ItemCount|lte: -1\n  condition: sel\n",
        &[json!({"ItemCount": -1})],
        &[json!({"ItemCount": 0})],
    );
}

#[test]
fn base64_forms() {
    // "http://" in base64; base64offset finds it at any byte offset inside a longer text.
    check(
        "  sel:\n    Data|base64: 'http://'\n  condition: sel\n",
        &[json!({"Data": "aHR0cDovLw=="})],
        &[json!({"Data": "http://"})],
    );
    check(
        "  sel:\n    Data|base64offset|contains: 'foobar'\n  condition: sel\n",
        &[
            json!({"Data": "Zm9vYmFy"}),     // "foobar"
            json!({"Data": "eGZvb2Jhcg=="}), // "xfoobar"
            json!({"Data": "eHhmb29iYXI="}), // "xxfoobar"
        ],
        &[json!({"Data": "Zm9vYmF6"})], // "foobaz"
    );
    check(
        "  sel:\n    Data|wide|base64offset|contains: 'ab'\n  condition: sel\n",
        &[json!({"Data": "YQBiAA=="})], // "ab" as UTF-16LE
        &[json!({"Data": "YWI="})],
    );
}

#[test]
fn windash_accepts_each_dash() {
    check(
        "  sel:\n    CommandLine|windash|contains: ' -enc '\n  condition: sel\n",
        &[
            json!({"CommandLine": "powershell -enc AAA"}),
            json!({"CommandLine": "powershell /enc AAA"}),
            json!({"CommandLine": "powershell \u{2013}enc AAA"}),
        ],
        &[json!({"CommandLine": "powershell enc AAA"})],
    );
}

#[test]
fn keywords_match_any_value_anywhere() {
    check(
        "  keywords:\n    - evil.example\n    - 'mimi*katz'\n  condition: keywords\n",
        &[
            json!({"Parameters": [{"Name": "ForwardTo", "Value": "eve@EVIL.example"}]}),
            json!({"Deep": {"List": ["x", "mimi and katz"]}}),
        ],
        &[
            json!({"evil.example": "key names are not searched"}),
            json!({"n": 1}),
        ],
    );
    check(
        "  kw: '42'\n  condition: kw\n",
        &[json!({"a": [42]})],
        &[json!({"a": 41})],
    );
}

#[test]
fn conditions() {
    let d = "  a:\n    A: 1\n  b:\n    B: 1\n  filter_x:\n    X: 1\n  filter_y:\n    Y: 1\n  _private:\n    P: 1\n";
    let with = |cond: &str| rule(&format!("{d}  condition: {cond}\n"));
    let ev =
        |keys: &[&str]| Value::Object(keys.iter().map(|k| (k.to_string(), json!(1))).collect());
    type Keys = &'static [&'static [&'static str]];
    let cases: &[(&str, Keys, Keys)] = &[
        ("a and b", &[&["A", "B"]], &[&["A"], &["B"]]),
        ("a or b", &[&["A"], &["B"]], &[&["X"]]),
        ("a and not b", &[&["A"]], &[&["A", "B"]]),
        ("not (a or b)", &[&["X"]], &[&["A"], &["B"]]),
        (
            "a and (b or filter_x)",
            &[&["A", "X"]],
            &[&["A"], &["B", "X"]],
        ),
        ("NOT a AND b", &[&["B"]], &[&["A", "B"]]),
        (
            "a and not 1 of filter_*",
            &[&["A"]],
            &[&["A", "X"], &["A", "Y"]],
        ),
        ("all of filter_*", &[&["X", "Y"]], &[&["X"]]),
        ("1 of them", &[&["A"], &["Y"]], &[&["P"], &[]]),
        ("all of them", &[&["A", "B", "X", "Y"]], &[&["A", "B", "X"]]),
        ("2 of them", &[&["A", "Y"]], &[&["A", "P"]]),
        ("1 of _priv*", &[&["P"]], &[&["A"]]),
    ];
    for (cond, firing, quiet) in cases {
        let r = with(cond);
        for keys in *firing {
            assert!(fires(&r, &ev(keys)), "{cond} on {keys:?}");
        }
        for keys in *quiet {
            assert!(!fires(&r, &ev(keys)), "{cond} quiet on {keys:?}");
        }
    }
}

#[test]
fn ual_field_mapping() {
    let record = json!({
        "Operation": "UpdateInboxRules",
        "OperationProperties": [
            {"Name": "RuleName", "Value": "."},
            {"Name": "RuleActions", "Value": "[{\"ActionType\":\"ForwardToRecipientsAction\",\"Recipients\":[\"eve@evil.example\"]}]"}
        ],
        "Item": "{\"Subject\": \"Invoice 42\", \"ParentFolder\": {\"Path\": \"\\\\Inbox\"}}",
        "ModifiedProperties": [{"Name": "Role.DisplayName", "NewValue": "Global Administrator", "OldValue": ""}]
    });
    let fire = |det: &str| fires(&rule(det), &record);
    assert!(fire(
        "  s:\n    OperationProperties|contains: ForwardToRecipients\n  condition: s\n"
    ));
    assert!(fire(
        "  s:\n    OperationProperties.Value|contains: Recipients\n  condition: s\n"
    ));
    assert!(fire(
        "  s:\n    OperationProperties.Name: RuleActions\n  condition: s\n"
    ));
    assert!(fire(
        "  s:\n    OperationProperties.RuleName: '.'\n  condition: s\n"
    ));
    assert!(fire("  s:\n    OperationProperties.RuleActions.ActionType: ForwardToRecipientsAction\n  condition: s\n"));
    assert!(fire(
        "  s:\n    Item.Subject|startswith: invoice\n  condition: s\n"
    ));
    assert!(fire(
        "  s:\n    Item.ParentFolder.Path: '\\Inbox'\n  condition: s\n"
    ));
    assert!(fire(
        "  s:\n    ModifiedProperties.Role.DisplayName: global administrator\n  condition: s\n"
    ));
    assert!(fire(
        "  s:\n    ModifiedProperties.Role.DisplayName.OldValue: ''\n  condition: s\n"
    ));
    assert!(!fire(
        "  s:\n    ModifiedProperties.Role.DisplayName.OldValue: global*\n  condition: s\n"
    ));
    assert!(fire(
        "  s:\n    operationproperties.rulename: '.'\n  condition: s\n"
    ));
    assert!(!fire(
        "  s:\n    Item.Missing|exists: true\n  condition: s\n"
    ));
    // Export wrappers: the CSV row or a Graph export around AuditData.
    let graph = json!({"auditData": {"Operation": "Set-Mailbox"}});
    assert!(fires(
        &rule("  s:\n    AuditData.Operation: Set-Mailbox\n  condition: s\n"),
        &graph
    ));
    let row = json!({"RecordType": "ExchangeAdmin"});
    let r = rule(
        "  s:\n    RecordType: ExchangeAdmin\n    Operation: UpdateInboxRules\n  condition: s\n",
    );
    assert!(r.matches(&Event::with_outer(&record, &row)));
    assert!(!r.matches(&Event::new(&record)));
    // A legacy Search-MailboxAuditLog row: a flat object of columns.
    let legacy =
        json!({"Operation": "HardDelete", "LogonType": "Delegate", "ClientIPAddress": "10.0.0.5"});
    let r = rule("  s:\n    Operation: harddelete\n    LogonType: delegate\n    ClientIPAddress|cidr: 10.0.0.0/8\n  condition: s\n");
    assert!(fires(&r, &legacy));
}

/// The kind and a telling part of the reason, for a rule text that does not load.
fn refused(text: &str) -> (NotLoadedKind, String) {
    let loaded = parse_rules(text, Path::new("r.yml"));
    assert!(loaded.rules.is_empty(), "{text}");
    let first = loaded.not_loaded.into_iter().next().expect("a reason");
    (first.kind, first.reason)
}

#[test]
fn rules_that_do_not_load_say_why() {
    use NotLoadedKind::*;
    let head = "title: t\nlogsource:\n  product: m365\n";
    let cases: &[(String, NotLoadedKind, &str)] = &[
        (format!("{head}detection:\n  s:\n    A|expand: '%domains%'\n  condition: s\n"), Unsupported, "placeholder %domains%"),
        (format!("{head}detection:\n  s:\n    A|fieldref: B\n  condition: s\n"), Unsupported, "fieldref"),
        (format!("{head}detection:\n  s:\n    A|frobnicate: B\n  condition: s\n"), Unsupported, "unknown modifier 'frobnicate'"),
        (format!("{head}detection:\n  s:\n    A|re: '(?<=x)y'\n  condition: s\n"), Unsupported, "regular expression"),
        (format!("{head}detection:\n  s:\n    A: 1\n  condition: s | count() > 5\n"), Unsupported, "aggregations"),
        (format!("{head}detection:\n  s:\n    A: 1\n  timeframe: 5m\n  condition: s\n"), Unsupported, "timeframe"),
        (format!("{head}detection:\n  s:\n    eventName: x\n  condition: s\n"), Unsupported, "field 'eventName'"),
        (format!("{head}detection:\n  s:\n    A: 1\n"), Invalid, "no 'condition'"),
        (format!("{head}detection:\n  s:\n    A: 1\n  condition: t\n"), Invalid, "'t' is not a search identifier"),
        (format!("{head}detection:\n  s:\n    A:\n      B: 1\n  condition: s\n"), Invalid, "line 6: the value of 'A' is a mapping"),
        (format!("{head}detection:\n  s:\n    A|exists: maybe\n  condition: s\n"), Invalid, "true or false"),
        (format!("{head}detection:\n  s:\n    A|cidr: 300.0.0.0/8\n  condition: s\n"), Invalid, "not a CIDR"),
        (format!("{head}detection:\n  s:\n    A|gt: many\n  condition: s\n"), Invalid, "not a number"),
        (format!("{head}detection:\n  s: []\n  condition: s\n"), Invalid, "empty list"),
        (format!("{head}level: severe\ndetection:\n  s:\n    A: 1\n  condition: s\n"), Invalid, "level \"severe\""),
        ("logsource:\n  product: m365\ndetection:\n  s:\n    A: 1\n  condition: s\n".into(), Invalid, "no 'title'"),
        (format!("{head}detection:\n  s:\n    A: 1\n    A: 2\n  condition: s\n"), Invalid, "key 'A' repeated"),
        (format!("{head}detection: [\n"), Invalid, "not valid YAML"),
        ("title: t\nlogsource:\n  product: windows\ndetection:\n  s:\n    A: 1\n  condition: s\n".into(), OtherLogsource, "product: windows"),
        ("title: t\nlogsource:\n  product: azure\n  service: signinlogs\ndetection: {}\n".into(), OtherLogsource, "azure"),
        ("title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n".into(), Correlation, "event_count"),
        ("title: t\naction: global\nlogsource:\n  product: m365\n---\ndetection:\n  s:\n    A: 1\n  condition: s\n".into(), Unsupported, "action: global"),
        ("a: &x 1\nb: *x\n".into(), Unsupported, "aliases"),
        ("".into(), Invalid, "no YAML document"),
    ];
    for (text, kind, needle) in cases {
        let (got_kind, reason) = refused(text);
        assert_eq!(got_kind, *kind, "{text}: {reason}");
        assert!(
            reason.contains(needle),
            "{text}: {reason:?} lacks {needle:?}"
        );
    }
}

#[test]
fn logsources_that_apply() {
    let with = |ls: &str| {
        let text =
            format!("title: t\nlogsource:\n{ls}detection:\n  s:\n    A: 1\n  condition: s\n");
        parse_rules(&text, Path::new("r.yml")).rules.len() == 1
    };
    assert!(with("  product: m365\n  service: audit\n"));
    assert!(with("  product: M365\n  service: exchange\n"));
    assert!(with("  product: m365\n  service: threat_management\n"));
    assert!(with("  product: azure\n  service: m365\n"));
    assert!(with("  category: ThreatManagement\n  service: m365\n"));
    assert!(!with("  product: azure\n  service: auditlogs\n"));
    assert!(!with("  product: okta\n  service: m365\n"));
    assert!(!with("  service: exchange\n"));
    assert!(!with("  category: process_creation\n"));
}

#[test]
fn multi_document_files_load_each_rule() {
    let text = "title: a\nid: x\nlogsource:\n  product: m365\ndetection:\n  s:\n    A: 1\n  condition: s\n---\n\
                title: c\ncorrelation:\n  type: temporal\n---\n\
                title: b\nlogsource:\n  product: m365\ndetection:\n  s:\n    B: 1\n  condition: s\n";
    let loaded = parse_rules(text, Path::new("multi.yml"));
    assert_eq!(
        loaded
            .rules
            .iter()
            .map(SigmaRule::title)
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(loaded.rules[1].line(), 14);
    assert_eq!(loaded.not_loaded.len(), 1);
    assert_eq!(loaded.not_loaded[0].kind, NotLoadedKind::Correlation);
    assert!(loaded.not_loaded[0]
        .reason
        .starts_with("document at line 10:"));
    assert!(parse_rule(text, Path::new("multi.yml")).is_err());
}

#[test]
fn rules_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SigmaRule>();
    assert_send_sync::<crate::triage::sigma::Loaded>();
}
