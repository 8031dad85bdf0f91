//! One Sigma rule file's text → [`SigmaRule`]s (or the reasons they are not loaded).
//!
//! A rule is kept with everything the Detection Rule License asks us to carry into the
//! output (`author`, a link via `references`, the file path) and what a responder reads
//! (`title`, `level`, `description`, `falsepositives`, `tags`). Which rules apply is
//! decided by the logsource alone ([`applies`]); a rule whose fields belong to another
//! log pipeline is refused by name ([`FOREIGN_FIELDS`]).

use std::path::{Path, PathBuf};

use super::detection::Detection;
use super::event::Event;
use super::yaml::{self, Kind, Node};
use super::{Loaded, NotLoaded, NotLoadedKind, RuleError};

/// Sigma's `level`, lowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    /// The Sigma spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }

    fn parse(text: &str) -> Option<Level> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "informational" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }
}

/// The `logsource:` of a rule, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Logsource {
    pub product: Option<String>,
    pub service: Option<String>,
    pub category: Option<String>,
}

/// A loaded, compiled Sigma rule. `Send + Sync`: match it from many threads.
#[derive(Debug)]
pub struct SigmaRule {
    pub(super) id: Option<String>,
    pub(super) title: String,
    pub(super) level: Option<Level>,
    pub(super) status: Option<String>,
    pub(super) description: Option<String>,
    pub(super) author: Option<String>,
    pub(super) date: Option<String>,
    pub(super) modified: Option<String>,
    pub(super) references: Vec<String>,
    pub(super) tags: Vec<String>,
    pub(super) falsepositives: Vec<String>,
    pub(super) logsource: Logsource,
    pub(super) path: PathBuf,
    pub(super) line: usize,
    pub(super) detection: Detection,
    /// Canonical text of `logsource` and `detection`: equal for the same rule logic.
    pub(super) logic: String,
}

impl SigmaRule {
    /// Whether the event meets the rule's condition.
    pub fn matches(&self, event: &Event<'_>) -> bool {
        self.detection.matches(event)
    }
    /// `id` (a UUID in SigmaHQ rules), if the rule has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    pub fn title(&self) -> &str {
        &self.title
    }
    /// `level`; `None` when the rule gives none.
    pub fn level(&self) -> Option<Level> {
        self.level
    }
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// `author`, as written (the Detection Rule License requires it in the output).
    pub fn author(&self) -> Option<&str> {
        self.author.as_deref()
    }
    pub fn date(&self) -> Option<&str> {
        self.date.as_deref()
    }
    pub fn modified(&self) -> Option<&str> {
        self.modified.as_deref()
    }
    pub fn references(&self) -> &[String] {
        &self.references
    }
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
    pub fn falsepositives(&self) -> &[String] {
        &self.falsepositives
    }
    pub fn logsource(&self) -> &Logsource {
        &self.logsource
    }
    /// The file the rule was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The line its document starts on (1 unless the file holds several).
    pub fn line(&self) -> usize {
        self.line
    }
    /// The search identifiers, in rule order.
    pub fn search_identifiers(&self) -> &[String] {
        self.detection.names()
    }
    /// The field names the detection tests (without modifiers), in rule order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.detection.fields()
    }
}

/// Fields of other log pipelines' Microsoft 365 taxonomies (CloudTrail-like names) that
/// Unified Audit Log records do not have: a rule testing them could never fire.
pub const FOREIGN_FIELDS: [&str; 3] = ["eventSource", "eventName", "eventData"];

/// Whether a logsource is one mbxaudit's records answer: `product: m365` (any service),
/// `product: azure` with `service: m365`, or no product with `service: m365`.
pub fn applies(ls: &Logsource) -> bool {
    let is = |v: &Option<String>, want: &str| {
        v.as_deref()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case(want))
    };
    is(&ls.product, "m365")
        || (is(&ls.service, "m365") && (ls.product.is_none() || is(&ls.product, "azure")))
}

/// Parses every document of one file's text. Never fails: what cannot be loaded is in
/// [`Loaded::not_loaded`] with the reason.
pub fn parse_rules(text: &str, path: &Path) -> Loaded {
    let mut loaded = Loaded::default();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let docs = match yaml::parse_documents(text) {
        Ok(docs) => docs,
        Err(e) => {
            let (id, title) = scan_id_title(text);
            loaded.not_loaded.push(NotLoaded {
                path: path.to_path_buf(),
                id,
                title,
                kind: if e.unsupported {
                    NotLoadedKind::Unsupported
                } else {
                    NotLoadedKind::Invalid
                },
                reason: format!("not valid YAML: {e}"),
            });
            return loaded;
        }
    };
    let docs: Vec<Node> = docs
        .into_iter()
        .filter(|d| !matches!(d.kind, Kind::Scalar(yaml::Scalar::Null)))
        .collect();
    if let Some(action) = docs.iter().find_map(|d| d.get("action")) {
        let (id, title) = docs
            .iter()
            .map(|d| (text_of(d, "id"), text_of(d, "title")))
            .find(|(i, t)| i.is_some() || t.is_some())
            .unwrap_or_default();
        loaded.not_loaded.push(NotLoaded {
            path: path.to_path_buf(),
            id,
            title,
            kind: NotLoadedKind::Unsupported,
            reason: format!(
                "line {}: a multi-document rule collection (action: {}) is not supported; \
                 write each rule as its own document",
                action.line,
                action.as_text().unwrap_or_default()
            ),
        });
        return loaded;
    }
    if docs.is_empty() {
        loaded.not_loaded.push(NotLoaded {
            path: path.to_path_buf(),
            id: None,
            title: None,
            kind: NotLoadedKind::Invalid,
            reason: "the file holds no YAML document".into(),
        });
    }
    for doc in &docs {
        match rule_from(doc, path) {
            Ok(rule) => loaded.rules.push(rule),
            Err(e) => loaded.not_loaded.push(NotLoaded {
                path: path.to_path_buf(),
                id: text_of(doc, "id"),
                title: text_of(doc, "title"),
                kind: e.kind,
                reason: if docs.len() > 1 {
                    format!("document at line {}: {}", doc.line, e.reason)
                } else {
                    e.reason
                },
            }),
        }
    }
    loaded
}

/// Parses a text that must hold exactly one rule that loads.
pub fn parse_rule(text: &str, path: &Path) -> Result<SigmaRule, NotLoaded> {
    let mut loaded = parse_rules(text, path);
    if let Some(first) = loaded.not_loaded.into_iter().next() {
        return Err(first);
    }
    match (loaded.rules.pop(), loaded.rules.is_empty()) {
        (Some(rule), true) => Ok(rule),
        (first, _) => Err(NotLoaded {
            path: path.to_path_buf(),
            id: first.as_ref().and_then(|r| r.id.clone()),
            title: first.map(|r| r.title),
            kind: NotLoadedKind::Invalid,
            reason: "expected one rule, the text holds several documents".into(),
        }),
    }
}

fn rule_from(doc: &Node, path: &Path) -> Result<SigmaRule, RuleError> {
    if doc.as_map().is_none() {
        return Err(RuleError::invalid(format!(
            "line {}: a rule must be a YAML mapping",
            doc.line
        )));
    }
    if let Some(c) = doc.get("correlation") {
        let kind = c.get("type").and_then(Node::as_text).unwrap_or_default();
        return Err(RuleError {
            kind: NotLoadedKind::Correlation,
            reason: format!(
                "correlation rule (type: {kind}): counting or ordering other rules' matches \
                 over time is not supported"
            ),
        });
    }
    if doc.get("filter").is_some() && doc.get("detection").is_none() {
        return Err(RuleError::unsupported(
            "a Sigma filter (global filter for other rules) is not supported".into(),
        ));
    }
    let title = text_of(doc, "title")
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| RuleError::invalid("no 'title'".into()))?;
    let logsource = match doc.get("logsource") {
        Some(node) if node.as_map().is_some() => Logsource {
            product: text_of(node, "product"),
            service: text_of(node, "service"),
            category: text_of(node, "category"),
        },
        Some(node) => {
            return Err(RuleError::invalid(format!(
                "line {}: 'logsource' is not a mapping",
                node.line
            )))
        }
        None => Logsource::default(),
    };
    if !applies(&logsource) {
        return Err(RuleError {
            kind: NotLoadedKind::OtherLogsource,
            reason: format!("logsource {} is not Microsoft 365", describe(&logsource)),
        });
    }
    let level = match doc.get("level") {
        None => None,
        Some(node) => match node.as_text().as_deref().and_then(Level::parse) {
            Some(level) => Some(level),
            None if node.as_scalar() == Some(&yaml::Scalar::Null) => None,
            None => {
                return Err(RuleError::invalid(format!(
                    "line {}: level {:?} is not informational, low, medium, high or critical",
                    node.line,
                    node.as_text().unwrap_or_default()
                )))
            }
        },
    };
    let (detection_line, detection_node) = doc
        .as_map()
        .and_then(|entries| entries.iter().find(|e| e.key == "detection"))
        .map(|e| (e.key_line, &e.value))
        .ok_or_else(|| RuleError::invalid("no 'detection'".into()))?;
    let detection = Detection::compile(detection_node).map_err(|e| e.at_line(detection_line))?;
    if let Some(field) = detection
        .fields()
        .find(|f| FOREIGN_FIELDS.iter().any(|x| x.eq_ignore_ascii_case(f)))
    {
        return Err(RuleError::unsupported(format!(
            "field '{field}' belongs to another log pipeline's field names; Unified Audit Log \
             records have no such field, so the rule could never fire"
        )));
    }
    let mut logic = String::new();
    if let Some(ls) = doc.get("logsource") {
        canonical(ls, &mut logic);
    }
    canonical(detection_node, &mut logic);
    Ok(SigmaRule {
        id: text_of(doc, "id"),
        title,
        level,
        status: text_of(doc, "status"),
        description: text_of(doc, "description"),
        author: text_or_list(doc, "author").map(|a| a.join(", ")),
        date: text_of(doc, "date"),
        modified: text_of(doc, "modified"),
        references: text_or_list(doc, "references").unwrap_or_default(),
        tags: text_or_list(doc, "tags").unwrap_or_default(),
        falsepositives: text_or_list(doc, "falsepositives").unwrap_or_default(),
        logsource,
        path: path.to_path_buf(),
        line: doc.line,
        detection,
        logic,
    })
}

fn describe(ls: &Logsource) -> String {
    let parts: Vec<String> = [
        ("product", &ls.product),
        ("service", &ls.service),
        ("category", &ls.category),
    ]
    .iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}: {v}")))
    .collect();
    if parts.is_empty() {
        "(none)".into()
    } else {
        format!("({})", parts.join(", "))
    }
}

fn text_of(node: &Node, key: &str) -> Option<String> {
    node.get(key).and_then(Node::as_text)
}

/// A text, or a list of texts; `None` when absent or null.
fn text_or_list(node: &Node, key: &str) -> Option<Vec<String>> {
    let value = node.get(key)?;
    match &value.kind {
        Kind::Scalar(_) => value.as_text().map(|t| vec![t]),
        Kind::Seq(items) => Some(items.iter().filter_map(Node::as_text).collect()),
        Kind::Map(_) => None,
    }
}

/// A canonical text of a node: map keys sorted, scalars typed, formatting ignored.
fn canonical(node: &Node, out: &mut String) {
    match &node.kind {
        Kind::Scalar(s) => out.push_str(&format!("{s:?}")),
        Kind::Seq(items) => {
            out.push('[');
            for item in items {
                canonical(item, out);
                out.push(',');
            }
            out.push(']');
        }
        Kind::Map(entries) => {
            let mut sorted: Vec<_> = entries.iter().collect();
            sorted.sort_by(|a, b| a.key.cmp(&b.key));
            out.push('{');
            for e in sorted {
                out.push_str(&format!("{:?}:", e.key));
                canonical(&e.value, out);
                out.push(',');
            }
            out.push('}');
        }
    }
}

/// `id:` and `title:` from the text of a file that is not valid YAML, best effort.
fn scan_id_title(text: &str) -> (Option<String>, Option<String>) {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let value = line.strip_prefix(name)?.strip_prefix(':')?.trim();
            let value = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
                .unwrap_or(value);
            (!value.is_empty()).then(|| value.to_string())
        })
    };
    (field("id"), field("title"))
}
