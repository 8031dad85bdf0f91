//! Sigma rules as triage rules (`triage --sigma PATH`, also `report`).
//!
//! The rules are matched while the inputs are read: [`SigmaTagger`] is the pipeline's
//! [`Tagger`], run on every kept record (its AuditData, or a legacy record's columns, as
//! one JSON object) on the scan's worker threads, and each row keeps the numbers of the
//! Sigma rules it matched. Each Sigma rule then becomes an ordinary `match` rule
//! ([`Rule`]) whose condition is "tagged with my number" ([`Cond::Tagged`]): its findings
//! are grouped like the built-in match rules' (per actor, mailbox and operation), listed,
//! written and shown exactly as theirs are, with the Sigma rule's id, title, level and
//! author ([`SigmaSource`]).
//!
//! Rules whose log source is not Microsoft 365 are counted; a rule that cannot be read or
//! uses something this engine does not support is named with its file and the reason
//! ([`SigmaLoad::messages`]), and the run goes on.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};

use super::cond::{Cond, Key};
use super::rules::{template, Eval, Kind, Rule, RuleSpec, Severity, SigmaSource};
use super::sigma::{self, Event, Level, NotLoadedKind, SigmaRule};
use crate::pipeline::Tagger;

/// Matches the loaded Sigma rules against a record.
pub struct SigmaTagger {
    rules: Vec<SigmaRule>,
}

impl Tagger for SigmaTagger {
    fn tags(&self, event: &[u8]) -> Vec<u32> {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(event) else {
            return Vec::new();
        };
        let event = Event::new(&value);
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.matches(&event))
            .filter_map(|(i, _)| u32::try_from(i).ok())
            .collect()
    }
}

/// Loaded Sigma rules, ready to run.
pub struct SigmaLoad {
    /// One triage rule per Sigma rule, in load order.
    pub rules: Vec<Rule>,
    /// For the pipeline: marks each kept row with the rules it matches.
    pub tagger: Arc<SigmaTagger>,
    /// What loading found worth telling, each `(is a warning, text)`: a summary line,
    /// every rule not loaded for a reason other than its log source, and remarks.
    pub messages: Vec<(bool, String)>,
    /// Rules that could not be read or are not supported (with `--strict`, the run's
    /// status is then "incomplete").
    pub unusable: usize,
    /// The id of every rule loaded, `--disable`d ones included.
    pub ids: HashSet<String>,
}

/// The why of every Sigma finding (the title is the finding's title already).
const WHY: &str =
    "Sigma rule matched: {operations} by {actor} on {mailbox}, {records} {when}{detail}";

/// Loads the Sigma rules under `paths` (files, or directories walked for `*.yml` and
/// `*.yaml`), leaving out those whose id is in `disable`.
pub fn load(paths: &[PathBuf], disable: &[String]) -> Result<SigmaLoad> {
    let loaded = sigma::load(paths).context("--sigma")?;
    let mut messages = Vec::new();
    let mut unusable = 0;
    let mut other_logsource = 0;
    for n in &loaded.not_loaded {
        match n.kind {
            NotLoadedKind::OtherLogsource => other_logsource += 1,
            kind => {
                if matches!(
                    kind,
                    NotLoadedKind::Invalid
                        | NotLoadedKind::Unsupported
                        | NotLoadedKind::Correlation
                ) {
                    unusable += 1;
                }
                let id =
                    n.id.as_deref()
                        .map(|i| format!(" ({i})"))
                        .unwrap_or_default();
                messages.push((
                    kind != NotLoadedKind::Duplicate,
                    format!(
                        "sigma: {}{id}: not loaded, {}: {}",
                        n.path.display(),
                        kind.as_str(),
                        n.reason
                    ),
                ));
            }
        }
    }
    for note in &loaded.notes {
        messages.push((
            false,
            format!("sigma: {}: {}", note.path.display(), note.message),
        ));
    }
    let mut kept = Vec::new();
    let mut rules = Vec::new();
    let mut ids = HashSet::new();
    for rule in loaded.rules {
        let id = rule_id(&rule);
        ids.insert(id.clone());
        if disable.iter().any(|d| d.trim() == id) {
            continue;
        }
        let number = u32::try_from(kept.len()).context("too many Sigma rules")?;
        rules.push(as_triage_rule(&rule, id, number)?);
        kept.push(rule);
    }
    messages.insert(
        0,
        (
            false,
            format!(
                "Sigma: {} rule{} loaded from {} file{}; {} for other log sources, {} not usable \
                 (named below).",
                rules.len(),
                if rules.len() == 1 { "" } else { "s" },
                loaded.files_read,
                if loaded.files_read == 1 { "" } else { "s" },
                other_logsource,
                unusable
            ),
        ),
    );
    Ok(SigmaLoad {
        rules,
        tagger: Arc::new(SigmaTagger { rules: kept }),
        messages,
        unusable,
        ids,
    })
}

/// The id a Sigma rule goes by: its own, else one made from its file name.
fn rule_id(rule: &SigmaRule) -> String {
    if let Some(id) = rule.id() {
        let id = id.trim();
        if !id.is_empty() {
            return id.to_string();
        }
    }
    let stem = rule
        .path()
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("sigma-{clean}")
}

fn severity(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Critical) => Severity::Critical,
        Some(Level::High) => Severity::High,
        Some(Level::Medium) | None => Severity::Medium,
        Some(Level::Low) | Some(Level::Informational) => Severity::Low,
    }
}

fn as_triage_rule(rule: &SigmaRule, id: String, number: u32) -> Result<Rule> {
    let severity = severity(rule.level());
    let source = SigmaSource {
        path: rule.path().display().to_string(),
        author: rule.author().map(str::to_string),
        references: rule.references().to_vec(),
        level: rule.level().map(|l| l.as_str().to_string()),
    };
    let mut description = rule.description().unwrap_or_default().trim().to_string();
    if !description.is_empty() {
        description.push(' ');
    }
    description.push_str(&format!(
        "(Sigma rule {}{}.)",
        source.path,
        source
            .author
            .as_deref()
            .map(|a| format!(", by {a}"))
            .unwrap_or_default()
    ));
    let title = rule.title().trim().to_string();
    if title.is_empty() {
        bail!("Sigma rule '{id}' has no title");
    }
    let spec = RuleSpec {
        id: id.clone(),
        title: title.clone(),
        severity,
        kind: Kind::Match,
        description: description.clone(),
        enabled: true,
        when: Vec::new(),
        group_by: vec!["actor".into(), "mailbox".into(), "operation".into()],
        count: None,
        distinct: None,
        threshold: None,
        window: None,
        field: None,
        baseline: None,
        min_baseline: None,
        escalate: Vec::new(),
        why: WHY.to_string(),
    };
    Ok(Rule {
        id,
        title,
        severity,
        description,
        when: vec![Cond::Tagged(number)],
        group_by: vec![Key::Actor, Key::Mailbox, Key::Operation],
        escalate: Vec::new(),
        eval: Eval::Match,
        why: template(WHY, Kind::Match)?,
        spec,
        sigma: Some(source),
    })
}
