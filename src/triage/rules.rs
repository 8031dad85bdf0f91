//! The triage rules as data: the rules file format ([`RulesFile`], JSON), the built-in
//! table (`rules.json`, compiled into the binary), user files that add or replace rules
//! (`--rules FILE`), overrides from the command line (`--set ID.KEY=VALUE` and the named
//! threshold options), and the compiled [`Rule`] the evaluators run.
//!
//! A rule names one of three generic evaluators (`kind`), see [`super::eval`]:
//!
//! - `match`: every record that meets `when` is evidence; one finding per `group_by`
//!   group (and per escalated severity).
//! - `threshold`: per group, at least `threshold` records, messages (`count: items`) or
//!   distinct values of `distinct` (`count: distinct`) within a sliding `window`.
//! - `first_seen`: per group, a value of `field` first seen after a `baseline` period
//!   (from the group's first record, holding at least `min_baseline` records).
//!
//! `escalate` raises a finding's severity when its evidence meets further conditions,
//! adding a reason; `why` is the sentence a finding explains itself with, its
//! `{placeholders}` filled from the evidence ([`PLACEHOLDERS`]).

use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use serde::{Deserialize, Serialize};

use super::cond::{Cond, CondSpec, Key};

/// The built-in rules, in the rules file format.
pub const BUILTIN: &str = include_str!("rules.json");
/// Built-in rules on the enrichment fields: `new-country` and `new-asn` (with `--geoip`),
/// `flagged-network` (with `--ip-list`).
pub const BUILTIN_ENRICHED: &str = include_str!("rules_enriched.json");

/// The `format` member of a rules file.
pub const FORMAT_NAME: &str = "mbxaudit-rules";
/// The rules file version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// How bad a finding is; findings are listed worst first.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    #[default]
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    fn parse(s: &str) -> Result<Severity> {
        serde_json::from_value(serde_json::Value::String(s.trim().to_lowercase()))
            .map_err(|_| anyhow::anyhow!("'{s}' is not a severity (low, medium, high, critical)"))
    }
}

/// The evaluator a rule uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Match,
    Threshold,
    FirstSeen,
}

/// What a `threshold` rule counts in its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CountBy {
    /// Records.
    #[default]
    Records,
    /// Messages and folders touched (a group or MailItemsAccessed record counts its items).
    Items,
    /// Distinct values of the rule's `distinct` field.
    Distinct,
}

/// An `escalate` entry as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalateSpec {
    pub severity: Severity,
    pub when: Vec<CondSpec>,
    pub reason: String,
}

/// One rule as written in a rules file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub enabled: bool,
    #[serde(default)]
    pub when: Vec<CondSpec>,
    #[serde(default)]
    pub group_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<CountBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_baseline: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalate: Vec<EscalateSpec>,
    pub why: String,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A rules file: `{"format": "mbxaudit-rules", "version": 1, "rules": [...]}` (format
/// and version may be left out).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    pub rules: Vec<RuleSpec>,
}

impl RulesFile {
    pub fn parse(text: &str) -> Result<RulesFile> {
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        let file: RulesFile = serde_json::from_str(text)?;
        if let Some(f) = &file.format {
            ensure!(f == FORMAT_NAME, "format '{f}' is not '{FORMAT_NAME}'");
        }
        if let Some(v) = file.version {
            ensure!(
                v == FORMAT_VERSION,
                "rules version {v} (this mbxaudit reads version {FORMAT_VERSION})"
            );
        }
        Ok(file)
    }

    /// The file as pretty JSON with a final newline.
    pub fn to_json(&self) -> Result<String> {
        let mut s = serde_json::to_string_pretty(self).context("cannot write the rules")?;
        s.push('\n');
        Ok(s)
    }
}

/// A duration as rules write it: `90s`, `30m`, `1h`, `7d`, `2w` (one number, one unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub nanos: i64,
}

impl Span {
    pub fn parse(text: &str) -> Result<Span> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: i64 = num
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| bad_span(text))?;
        let secs: i64 = match unit.trim() {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            "w" => 604_800,
            _ => bail!("{}", bad_span(text)),
        };
        let nanos = n
            .checked_mul(secs)
            .and_then(|s| s.checked_mul(1_000_000_000))
            .with_context(|| bad_span(text))?;
        Ok(Span { nanos })
    }

    /// `1h`, `90m`, `7d`: the largest unit up to days that divides it.
    pub fn label(self) -> String {
        let secs = self.nanos / 1_000_000_000;
        for (unit, len) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
            if secs % len == 0 && secs >= len {
                return format!("{}{unit}", secs / len);
            }
        }
        format!("{secs}s")
    }
}

fn bad_span(text: &str) -> String {
    format!("'{text}' is not a duration: use a positive number and s, m, h, d or w (30m, 1h, 7d)")
}

/// Placeholders a `why` may use, and which evaluators fill them.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("count", "records of evidence"),
    ("records", "'1 record' or 'N records' of evidence"),
    ("items", "messages and folders touched by the evidence"),
    ("first", "time of the first evidence record"),
    ("last", "time of the last evidence record"),
    ("when", "'at FIRST', or 'from FIRST to LAST'"),
    ("actor", "the user (or users) acting"),
    ("actors", "the distinct users"),
    ("mailbox", "the mailbox (or mailboxes)"),
    ("operations", "the distinct operations"),
    ("logon_types", "the distinct logon types"),
    ("client_ips", "the distinct client IPs"),
    ("client_apps", "the distinct client applications"),
    ("folders", "the distinct folders"),
    (
        "subjects",
        "the distinct subjects (admin cmdlets: their parameters)",
    ),
    ("reason", "'; ' and the escalation reasons, or nothing"),
    (
        "detail",
        "': ' and the distinct subjects, or nothing when there are none",
    ),
    ("threshold", "threshold: the rule's threshold"),
    ("window", "threshold: the rule's window"),
    ("peak", "threshold: the largest count within one window"),
    (
        "distinct_values",
        "threshold with count distinct: the values",
    ),
    ("value", "first_seen: the new value"),
    ("field", "first_seen: the field's name"),
    ("baseline", "first_seen: the baseline period"),
    ("baseline_records", "first_seen: records in the baseline"),
    (
        "baseline_values",
        "first_seen: distinct values in the baseline",
    ),
];

fn placeholder_ok(name: &str, kind: Kind) -> bool {
    let Some((_, doc)) = PLACEHOLDERS.iter().find(|(n, _)| *n == name) else {
        return false;
    };
    match doc.split_once(':') {
        Some(("threshold", _)) => kind == Kind::Threshold,
        Some(("first_seen", _)) => kind == Kind::FirstSeen,
        Some(("threshold with count distinct", _)) => kind == Kind::Threshold,
        _ => true,
    }
}

/// A `why` sentence, split into text and placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Slot(String),
}

/// Splits `{name}` placeholders out of `why`; every name must be one `kind` fills.
pub(crate) fn template(why: &str, kind: Kind) -> Result<Vec<Part>> {
    let mut parts = Vec::new();
    let mut rest = why;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}');
        let name = close.map(|c| &after[..c]);
        match name {
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') => {
                if !placeholder_ok(n, kind) {
                    bail!(
                        "'why' uses {{{n}}}, which a {} rule does not fill; use {}",
                        kind_name(kind),
                        PLACEHOLDERS
                            .iter()
                            .filter(|(p, _)| placeholder_ok(p, kind))
                            .map(|(p, _)| format!("{{{p}}}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    );
                }
                parts.push(Part::Text(rest[..open].to_string()));
                parts.push(Part::Slot(n.to_string()));
                rest = &after[n.len() + 1..];
            }
            _ => {
                parts.push(Part::Text(rest[..=open].to_string()));
                rest = after;
            }
        }
    }
    parts.push(Part::Text(rest.to_string()));
    parts.retain(|p| !matches!(p, Part::Text(t) if t.is_empty()));
    Ok(parts)
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Match => "match",
        Kind::Threshold => "threshold",
        Kind::FirstSeen => "first_seen",
    }
}

/// A compiled escalation.
#[derive(Clone, Debug)]
pub struct Escalation {
    pub severity: Severity,
    pub when: Vec<Cond>,
    pub reason: String,
}

/// What a compiled rule's evaluator needs.
#[derive(Clone, Debug)]
pub enum Eval {
    Match,
    Threshold {
        threshold: u64,
        window: Span,
        count: CountBy,
        distinct: Option<Key>,
    },
    FirstSeen {
        field: Key,
        baseline: Span,
        min_baseline: u64,
    },
}

/// A rule ready to run.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub description: String,
    pub when: Vec<Cond>,
    pub group_by: Vec<Key>,
    pub escalate: Vec<Escalation>,
    pub eval: Eval,
    pub why: Vec<Part>,
    /// The spec it was compiled from (for `--list-rules`).
    pub spec: RuleSpec,
    /// A Sigma rule's origin and attribution (`--sigma`); `None` for rules of ours.
    pub sigma: Option<SigmaSource>,
}

/// Where a Sigma rule came from, and who wrote it (the Detection Rule License asks that
/// the author be kept with what the rule finds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigmaSource {
    /// The rule file, as given.
    pub path: String,
    pub author: Option<String>,
    pub references: Vec<String>,
    /// The rule's `level` as written (informational maps to low).
    pub level: Option<String>,
}

fn need<T: Clone>(value: &Option<T>, name: &str, kind: Kind) -> Result<T> {
    value
        .clone()
        .with_context(|| format!("a {} rule needs '{name}'", kind_name(kind)))
}

fn refuse<T>(value: &Option<T>, name: &str, kind: Kind) -> Result<()> {
    ensure!(
        value.is_none(),
        "'{name}' means nothing to a {} rule",
        kind_name(kind)
    );
    Ok(())
}

impl Rule {
    pub fn compile(spec: &RuleSpec) -> Result<Rule> {
        let id = &spec.id;
        ensure!(
            !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "rule id '{id}': use letters, digits, '-' and '_'"
        );
        let compile = || -> Result<Rule> {
            let when = spec
                .when
                .iter()
                .map(Cond::compile)
                .collect::<Result<Vec<_>>>()
                .context("when")?;
            let group_by = spec
                .group_by
                .iter()
                .map(|k| Key::parse(k))
                .collect::<Result<Vec<_>>>()
                .context("group_by")?;
            let escalate = spec
                .escalate
                .iter()
                .map(|e| {
                    Ok(Escalation {
                        severity: e.severity,
                        when: e
                            .when
                            .iter()
                            .map(Cond::compile)
                            .collect::<Result<Vec<_>>>()?,
                        reason: e.reason.clone(),
                    })
                })
                .collect::<Result<Vec<_>>>()
                .context("escalate")?;
            let kind = spec.kind;
            let eval = match kind {
                Kind::Match => {
                    refuse(&spec.threshold, "threshold", kind)?;
                    refuse(&spec.window, "window", kind)?;
                    refuse(&spec.count, "count", kind)?;
                    refuse(&spec.distinct, "distinct", kind)?;
                    refuse(&spec.field, "field", kind)?;
                    refuse(&spec.baseline, "baseline", kind)?;
                    refuse(&spec.min_baseline, "min_baseline", kind)?;
                    Eval::Match
                }
                Kind::Threshold => {
                    refuse(&spec.field, "field", kind)?;
                    refuse(&spec.baseline, "baseline", kind)?;
                    refuse(&spec.min_baseline, "min_baseline", kind)?;
                    let threshold = need(&spec.threshold, "threshold", kind)?;
                    ensure!(threshold > 0, "threshold must be at least 1");
                    let window =
                        Span::parse(&need(&spec.window, "window", kind)?).context("window")?;
                    let count = spec.count.unwrap_or_default();
                    let distinct = match (&spec.distinct, count) {
                        (Some(d), CountBy::Distinct) => Some(Key::parse(d).context("distinct")?),
                        (None, CountBy::Distinct) => {
                            bail!("'count': 'distinct' needs a 'distinct' field")
                        }
                        (Some(_), _) => bail!("'distinct' needs 'count': 'distinct'"),
                        (None, _) => None,
                    };
                    Eval::Threshold {
                        threshold,
                        window,
                        count,
                        distinct,
                    }
                }
                Kind::FirstSeen => {
                    refuse(&spec.threshold, "threshold", kind)?;
                    refuse(&spec.window, "window", kind)?;
                    refuse(&spec.count, "count", kind)?;
                    refuse(&spec.distinct, "distinct", kind)?;
                    Eval::FirstSeen {
                        field: Key::parse(&need(&spec.field, "field", kind)?).context("field")?,
                        baseline: Span::parse(&need(&spec.baseline, "baseline", kind)?)
                            .context("baseline")?,
                        min_baseline: spec.min_baseline.unwrap_or(1),
                    }
                }
            };
            Ok(Rule {
                id: spec.id.clone(),
                title: spec.title.clone(),
                severity: spec.severity,
                description: spec.description.clone(),
                when,
                group_by,
                escalate,
                eval,
                why: template(&spec.why, kind).context("why")?,
                spec: spec.clone(),
                sigma: None,
            })
        };
        compile().with_context(|| format!("rule '{id}'"))
    }
}

/// Where the rules come from and what the command line changes.
#[derive(Clone, Debug, Default)]
pub struct RuleSources {
    /// Leave the built-in table out (`--no-builtin-rules`).
    pub no_builtin: bool,
    /// `--rules FILE`, in order: a rule replaces an earlier one of the same id.
    pub files: Vec<std::path::PathBuf>,
    /// `--set ID.KEY=VALUE`, and the named options turned into the same form.
    pub sets: Vec<Setting>,
    /// `--disable ID`.
    pub disable: Vec<String>,
    /// `--geoip` is given: the built-in `new-country` and `new-asn` rules run.
    pub geoip: bool,
    /// `--ip-list` is given: the built-in `flagged-network` rule runs.
    pub ip_list: bool,
}

/// One `ID.KEY=VALUE` change to a rule, and the option the user typed for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// `ID.KEY=VALUE`.
    pub set: String,
    /// The option as typed (`--bind-window 0s`), for messages; `None` for `--set` itself.
    pub typed: Option<String>,
}

impl From<&str> for Setting {
    /// A `--set ID.KEY=VALUE`.
    fn from(set: &str) -> Setting {
        Setting {
            set: set.to_string(),
            typed: None,
        }
    }
}

/// The rule specs in force, before compilation: built-ins, then each file's rules
/// (replacing those of the same id, else appended), then `--set` and `--disable`.
pub fn specs(src: &RuleSources) -> Result<Vec<RuleSpec>> {
    let mut specs: Vec<RuleSpec> = Vec::new();
    if !src.no_builtin {
        specs = RulesFile::parse(BUILTIN)
            .context("the built-in rules")?
            .rules;
        let enriched = RulesFile::parse(BUILTIN_ENRICHED).context("the built-in rules")?;
        specs.extend(enriched.rules.into_iter().filter(|r| match r.id.as_str() {
            "flagged-network" => src.ip_list,
            _ => src.geoip,
        }));
    }
    for path in &src.files {
        let text = read_text(path)?;
        let file = RulesFile::parse(&text)
            .with_context(|| format!("'{}' is not a rules file", path.display()))?;
        for rule in file.rules {
            match specs.iter_mut().find(|s| s.id == rule.id) {
                Some(old) => *old = rule,
                None => specs.push(rule),
            }
        }
    }
    for s in &src.sets {
        apply_set(&mut specs, &s.set).with_context(|| match &s.typed {
            Some(typed) => typed.clone(),
            None => format!("--set {}", s.set),
        })?;
    }
    for id in &src.disable {
        let id = id.trim();
        let Some(spec) = specs.iter_mut().find(|s| s.id == id) else {
            bail!("--disable {id}: no rule '{id}' ({})", ids(&specs));
        };
        spec.enabled = false;
    }
    Ok(specs)
}

/// Compiles the enabled rules.
pub fn load(src: &RuleSources) -> Result<Vec<Rule>> {
    let specs = specs(src)?;
    let mut seen = std::collections::HashSet::new();
    for s in &specs {
        ensure!(
            seen.insert(s.id.as_str()),
            "rule '{}' is defined twice",
            s.id
        );
    }
    specs
        .iter()
        .filter(|s| s.enabled)
        .map(Rule::compile)
        .collect()
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read rules file '{}'", path.display()))?;
    String::from_utf8(bytes).with_context(|| format!("'{}' is not UTF-8", path.display()))
}

fn ids(specs: &[RuleSpec]) -> String {
    let ids: Vec<&str> = specs.iter().map(|s| s.id.as_str()).collect();
    format!("rules: {}", ids.join(", "))
}

/// `ID.KEY=VALUE`: threshold, window, baseline, min_baseline, severity, enabled.
fn apply_set(specs: &mut [RuleSpec], set: &str) -> Result<()> {
    let Some((target, value)) = set.split_once('=') else {
        bail!("write ID.KEY=VALUE, e.g. mass-deletion.threshold=100");
    };
    let Some((id, key)) = target.trim().rsplit_once('.') else {
        bail!("write ID.KEY=VALUE, e.g. mass-deletion.threshold=100");
    };
    let all = ids(specs);
    let Some(spec) = specs.iter_mut().find(|s| s.id == id) else {
        bail!("no rule '{id}' ({all})");
    };
    let value = value.trim();
    let number = || -> Result<u64> {
        value
            .parse()
            .with_context(|| format!("'{value}' is not a whole number"))
    };
    match key {
        "threshold" => spec.threshold = Some(number()?),
        "min_baseline" => spec.min_baseline = Some(number()?),
        "window" => {
            Span::parse(value)?;
            spec.window = Some(value.to_string());
        }
        "baseline" => {
            Span::parse(value)?;
            spec.baseline = Some(value.to_string());
        }
        "severity" => spec.severity = Severity::parse(value)?,
        "enabled" => {
            spec.enabled = match value {
                "true" => true,
                "false" => false,
                _ => bail!("'{value}' is not true or false"),
            }
        }
        _ => bail!(
            "no setting '{key}': use threshold, window, baseline, min_baseline, severity or enabled"
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_compile() {
        let rules = load(&RuleSources::default()).unwrap();
        assert!(rules.len() >= 10);
        let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
        for id in [
            "mass-deletion",
            "non-owner-access",
            "send-as-other",
            "inbox-rule",
            "mailbox-sync",
            "mail-access-throttled",
            "new-client-ip",
            "new-client-app",
            "many-client-ips",
            "permission-change",
        ] {
            assert!(ids.contains(&id), "{id}");
        }
    }

    #[test]
    fn builtin_rules_round_trip() {
        let file = RulesFile::parse(BUILTIN).unwrap();
        let again = RulesFile::parse(&file.to_json().unwrap()).unwrap();
        assert_eq!(file.rules, again.rules);
    }

    #[test]
    fn spans() {
        assert_eq!(Span::parse("1h").unwrap().nanos, 3_600_000_000_000);
        assert_eq!(Span::parse("90m").unwrap().label(), "90m");
        assert_eq!(Span::parse("120m").unwrap().label(), "2h");
        assert_eq!(Span::parse("2w").unwrap().label(), "14d");
        assert_eq!(Span::parse("45s").unwrap().label(), "45s");
        for bad in ["", "h", "0h", "1y", "-1h", "1.5h", "99999999999999w"] {
            assert!(Span::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn templates_check_their_placeholders() {
        let t = template("{count} in {window} {x {} {{count}}", Kind::Threshold).unwrap();
        assert_eq!(t[0], Part::Slot("count".into()));
        assert!(template("{peak}", Kind::Match).is_err());
        assert!(template("{nope}", Kind::Match).is_err());
        assert!(template("{value} after {baseline}", Kind::FirstSeen).is_ok());
    }

    #[test]
    fn sets_and_disables() {
        let src = RuleSources {
            sets: vec![
                "mass-deletion.threshold=7".into(),
                "mass-deletion.window=10m".into(),
                "new-client-ip.severity=HIGH".into(),
            ],
            disable: vec!["new-client-app".into()],
            ..RuleSources::default()
        };
        let specs = specs(&src).unwrap();
        let md = specs.iter().find(|s| s.id == "mass-deletion").unwrap();
        assert_eq!(md.threshold, Some(7));
        assert_eq!(md.window.as_deref(), Some("10m"));
        let ip = specs.iter().find(|s| s.id == "new-client-ip").unwrap();
        assert_eq!(ip.severity, Severity::High);
        assert!(
            !specs
                .iter()
                .find(|s| s.id == "new-client-app")
                .unwrap()
                .enabled
        );
        for bad in [
            "x.threshold=1",
            "mass-deletion.nope=1",
            "mass-deletion.threshold=a",
            "y",
        ] {
            let src = RuleSources {
                sets: vec![bad.into()],
                ..RuleSources::default()
            };
            assert!(specs_err(&src).contains("--set"), "{bad}");
        }
    }

    fn specs_err(src: &RuleSources) -> String {
        format!("{:#}", specs(src).unwrap_err())
    }

    #[test]
    fn compile_errors_name_the_rule() {
        let spec = |json: &str| -> RuleSpec { serde_json::from_str(json).unwrap() };
        let e = Rule::compile(&spec(
            r#"{"id":"x","title":"t","severity":"low","kind":"threshold","why":"w"}"#,
        ))
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("rule 'x': a threshold rule needs 'threshold'"),
            "{e:#}"
        );
        let e = Rule::compile(&spec(
            r#"{"id":"x","title":"t","severity":"low","kind":"match","window":"1h","why":"w"}"#,
        ))
        .unwrap_err();
        assert!(format!("{e:#}").contains("'window' means nothing"), "{e:#}");
        let e = Rule::compile(&spec(
            r#"{"id":"x","title":"t","severity":"low","kind":"match","group_by":["who"],"why":"w"}"#,
        ))
        .unwrap_err();
        assert!(format!("{e:#}").contains("unknown field 'who'"), "{e:#}");
    }
}
