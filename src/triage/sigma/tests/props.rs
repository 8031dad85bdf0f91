//! Arbitrary input never panics: YAML-ish text into the loader, arbitrary JSON into
//! `matches`; and deep nesting is bounded everywhere.

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::triage::sigma::{load, parse_rules, Event, Loaded};

/// The corpus plus rules that exercise every field and value form.
fn rules() -> &'static Loaded {
    static RULES: OnceLock<Loaded> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut loaded = load(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sigma")])
            .expect("testdata/sigma is readable");
        let extra = "title: forms\nlogsource:\n  product: m365\ndetection:\n\
            \x20 a:\n    Item.Subject|contains: x\n    Parameters.Name|re|i: '^f'\n\
            \x20 b:\n    - ClientIP|cidr: 10.0.0.0/8\n    - Count|gt: 3\n    - Data|base64offset|contains: ab\n\
            \x20 c:\n    - x*y\n    - '?'\n\
            \x20 d:\n    Parameters|contains|all: [a, b]\n    Missing: null\n    Deep.A.B.C|exists: true\n\
            \x20 condition: 1 of them or (a and not b) or all of them\n";
        let forms = parse_rules(extra, Path::new("forms.yml"));
        assert_eq!(forms.not_loaded, []);
        loaded.rules.extend(forms.rules);
        loaded
    })
}

fn run_all(value: &Value) {
    let event = Event::new(value);
    let outer = json!({"RecordType": "ExchangeAdmin", "AuditData": value});
    let wrapped = Event::with_outer(value, &outer);
    for rule in &rules().rules {
        let _ = rule.matches(&event);
        let _ = rule.matches(&wrapped);
    }
}

const KEYS: &[&str] = &[
    "Operation",
    "operation",
    "Parameters",
    "OperationProperties",
    "ExtendedProperties",
    "ModifiedProperties",
    "Name",
    "Value",
    "NewValue",
    "OldValue",
    "Item",
    "Subject",
    "UserAgent",
    "ClientIP",
    "Count",
    "Data",
    "Deep",
    "A",
    "B",
    "C",
    "Workload",
    "ResultStatus",
    "ForwardTo",
    "RecordType",
    "",
];

const STRINGS: &[&str] = &[
    "New-InboxRule",
    "Set-Mailbox",
    "UserLoginFailed",
    "ForwardTo",
    "True",
    "False",
    "{\"Subject\": \"x\"}",
    "[{\"Name\":\"A\",\"Value\":\"1\"}]",
    "{",
    "[",
    "{\"A\":\"{\\\"B\\\":1}\"}",
    "10.1.2.3:443",
    "[::1]:80",
    "WindowsPowerShell",
    "YWI=",
    "",
    " ",
    "\u{212a}",
    "é",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(STRINGS).prop_map(|s| Value::String(s.to_string())),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

const MODS: &[&str] = &[
    "|contains",
    "|startswith",
    "|endswith",
    "|all",
    "|re",
    "|i",
    "|m",
    "|s",
    "|cased",
    "|cidr",
    "|exists",
    "|lt",
    "|gte",
    "|base64",
    "|base64offset",
    "|wide",
    "|windash",
    "|expand",
    "|fieldref",
    "|bogus",
    "|",
];

const VALUES: &[&str] = &[
    "x",
    "'*'",
    "'?'",
    "'a\\*b'",
    "'\\'",
    "1",
    "-2.5",
    "true",
    "null",
    "''",
    "'%p%'",
    "10.0.0.0/8",
    "'::/0'",
    "'(a|b'",
    "'^[a-z]+$'",
    "'(?i)x'",
    "' -enc '",
    "New-InboxRule",
];

const CONDITIONS: &[&str] = &[
    "sel",
    "kw",
    "sel and kw",
    "sel or not kw",
    "1 of them",
    "all of them",
    "2 of them",
    "not (sel and kw)",
    "1 of s*",
    "all of k*",
    "sel and",
    "nothing",
    "sel | count() > 1",
];

const YAML_BITS: &[&str] = &[
    "title: t\n",
    "id: x\n",
    "level: high\n",
    "logsource:\n",
    "  product: m365\n",
    "  service: m365\n",
    "detection:\n",
    "  sel:\n",
    "  sel_2:\n",
    "  keywords:\n",
    "    Operation",
    "|contains",
    "|all",
    "|re",
    "|i",
    "|cidr",
    "|exists",
    "|base64offset",
    "|windash",
    "|gt",
    "|expand",
    ": ",
    "x",
    "'*?\\'",
    "%p%",
    "1",
    "true",
    "null",
    "~",
    "\n",
    "    - ",
    "  - ",
    "  condition: ",
    "sel",
    " and ",
    " or ",
    " not ",
    "(",
    ")",
    "1 of ",
    "all of ",
    "them",
    "sel_*",
    " | count() > 1",
    "---\n",
    "action: global\n",
    "correlation:\n",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a",
    "\"",
    "'",
    "\t",
    "#c\n",
    "10.0.0.0/8",
    "  timeframe: 1m\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_text_never_panics_the_loader(text in ".{0,300}") {
        let _ = parse_rules(&text, Path::new("p.yml"));
    }

    #[test]
    fn yaml_like_text_never_panics_the_loader(
        bits in prop::collection::vec(prop::sample::select(YAML_BITS), 0..60)
    ) {
        let text: String = bits.concat();
        let loaded = parse_rules(&text, Path::new("p.yml"));
        // Whatever loads must also evaluate.
        for rule in &loaded.rules {
            let _ = rule.matches(&Event::new(&json!({"Operation": "x"})));
        }
    }

    #[test]
    fn generated_rules_load_or_say_why_and_evaluate(
        field in prop::sample::select(KEYS),
        path in prop::sample::select(&["", ".Name", ".Value", ".A.B", ".ForwardTo"][..]),
        mods in prop::collection::vec(prop::sample::select(MODS), 0..4),
        values in prop::collection::vec(prop::sample::select(VALUES), 1..4),
        cond in prop::sample::select(CONDITIONS),
        value in arb_json(),
    ) {
        let list: String = values.iter().map(|v| format!("\n      - {v}")).collect();
        let text = format!(
            "title: g\nlogsource:\n  product: m365\ndetection:\n  sel:\n    {field}{path}{}:{list}\n  \
             kw:\n    - {}\n  condition: {cond}\n",
            mods.concat(),
            values[0],
        );
        let loaded = parse_rules(&text, Path::new("g.yml"));
        prop_assert_eq!(loaded.rules.len() + loaded.not_loaded.len(), 1);
        for rule in &loaded.rules {
            let _ = rule.matches(&Event::new(&value));
        }
    }

    #[test]
    fn arbitrary_json_never_panics_matching(value in arb_json()) {
        run_all(&value);
    }

    #[test]
    fn arbitrary_json_text_never_panics_matching(text in "[\\[\\]{}\",:a-zA-Z0-9 .\\\\]{0,80}") {
        if let Ok(value) = serde_json::from_str::<Value>(&text) {
            run_all(&value);
        }
    }
}

#[test]
fn deep_nesting_is_bounded() {
    // YAML nesting and conditions: refused with a reason, not a stack overflow.
    let deep_yaml = format!(
        "title: t\ndetection: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let loaded = parse_rules(&deep_yaml, Path::new("deep.yml"));
    assert!(
        loaded.not_loaded[0].reason.contains("recursion limit"),
        "the parser's own bound on flow nesting: {:?}",
        loaded.not_loaded
    );
    let deep_block: String = (0..200).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
    let loaded = parse_rules(&deep_block, Path::new("deep.yml"));
    assert!(
        loaded.not_loaded[0]
            .reason
            .contains("nested more than 32 levels"),
        "{:?}",
        loaded.not_loaded
    );
    let deep_cond = format!(
        "title: t\nlogsource:\n  product: m365\ndetection:\n  s:\n    A: 1\n  condition: {}s{}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let loaded = parse_rules(&deep_cond, Path::new("deep.yml"));
    assert!(
        loaded.not_loaded[0].reason.contains("nested"),
        "{:?}",
        loaded.not_loaded
    );

    // Events: JSON nested in strings, each level re-serialised; and a deep tree walked by
    // keywords. Both stop at their bounds.
    let mut text = String::from("1");
    for _ in 0..12 {
        text = serde_json::to_string(&json!({ "A": text })).unwrap_or_default();
    }
    let nested = json!({ "A": text });
    let path = vec!["A"; 14].join(".");
    let rule = parse_rules(
        &format!("title: t\nlogsource:\n  product: m365\ndetection:\n  s:\n    {path}: 1\n  condition: s\n"),
        Path::new("deep.yml"),
    );
    assert!(
        !rule.rules[0].matches(&Event::new(&nested)),
        "descends at most 8 strings deep"
    );
    let mut tree = json!("needle");
    for _ in 0..1_000 {
        tree = json!([tree]);
    }
    run_all(&tree);
    let kw = parse_rules(
        "title: t\nlogsource:\n  product: m365\ndetection:\n  k:\n    - needle\n  condition: k\n",
        Path::new("kw.yml"),
    );
    assert!(
        !kw.rules[0].matches(&Event::new(&tree)),
        "the keyword walk stops at 128 levels"
    );
}
