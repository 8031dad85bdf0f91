//! A rule's `detection:` compiled: its search identifiers ([`Search`]) and condition.
//!
//! A search identifier is one of
//!
//! - a mapping: every `field|modifiers: values` item must hold (AND);
//! - a list of mappings: any of them must hold (OR);
//! - a list of plain values (or one value): keywords, any of which must occur in some
//!   string, number or boolean anywhere in the event (case-insensitive, `*`/`?` honoured).
//!
//! Items of a mapping are tested cheapest first: fields compared as JSON text
//! (`Parameters|contains`) after the plain ones (`Operation`), so most events fail on
//! `Operation` before any array is serialised.

use regex::{Regex, RegexBuilder};

use super::condition::{self, Cond};
use super::event::Event;
use super::value::{wildcards, FieldTest};
use super::yaml::{Kind, Node};
use super::RuleError;

/// The detection of a rule, compiled.
#[derive(Debug)]
pub struct Detection {
    names: Vec<String>,
    searches: Vec<Search>,
    condition: Cond,
}

#[derive(Debug)]
enum Search {
    AllOf(Vec<FieldTest>),
    AnyOf(Vec<Vec<FieldTest>>),
    Keywords(Regex),
}

impl Detection {
    /// Compiles the `detection:` node.
    pub fn compile(node: &Node) -> Result<Detection, RuleError> {
        let Some(entries) = node.as_map() else {
            return Err(RuleError::invalid(format!(
                "line {}: 'detection' is not a mapping",
                node.line
            )));
        };
        let mut conditions = Vec::new();
        for entry in entries {
            match entry.key.as_str() {
                "condition" => conditions = condition_texts(&entry.value)?,
                "timeframe" => {
                    return Err(RuleError::unsupported(
                        "'timeframe' (a time window for aggregations) is not supported".into(),
                    ))
                }
                _ => {}
            }
        }
        if conditions.is_empty() {
            let nested = entries
                .iter()
                .find(|e| e.key == "detection")
                .map(|e| {
                    format!(
                        "; it holds a nested 'detection:' (line {}): move its content up one level",
                        e.key_line
                    )
                })
                .unwrap_or_default();
            return Err(RuleError::invalid(format!(
                "'detection' has no 'condition'{nested}"
            )));
        }
        let mut names = Vec::new();
        let mut searches = Vec::new();
        for entry in entries {
            if entry.key != "condition" {
                names.push(entry.key.clone());
                searches.push(Search::compile(&entry.key, &entry.value)?);
            }
        }
        let mut parsed = conditions
            .iter()
            .map(|c| condition::parse(c, &names))
            .collect::<Result<Vec<_>, _>>()?;
        let condition = if parsed.len() == 1 {
            parsed.remove(0)
        } else {
            Cond::Or(parsed)
        };
        Ok(Detection {
            names,
            searches,
            condition,
        })
    }

    /// Whether the event meets the condition.
    pub fn matches(&self, event: &Event<'_>) -> bool {
        self.condition
            .eval(&|i| self.searches.get(i).is_some_and(|s| s.matches(event)))
    }

    /// The search identifiers, in rule order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The field names the detection tests (without modifiers), in rule order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.searches.iter().flat_map(|s| {
            let tests: Vec<&FieldTest> = match s {
                Search::AllOf(t) => t.iter().collect(),
                Search::AnyOf(maps) => maps.iter().flatten().collect(),
                Search::Keywords(_) => Vec::new(),
            };
            tests.into_iter().map(|t| t.field.as_str())
        })
    }
}

/// `condition:` is one text or a list of texts (any of which may hold).
fn condition_texts(node: &Node) -> Result<Vec<String>, RuleError> {
    let bad = || RuleError::invalid(format!("line {}: 'condition' must be text", node.line));
    match &node.kind {
        Kind::Scalar(_) => Ok(vec![node.as_text().ok_or_else(bad)?]),
        Kind::Seq(items) if !items.is_empty() => {
            items.iter().map(|n| n.as_text().ok_or_else(bad)).collect()
        }
        _ => Err(bad()),
    }
}

impl Search {
    fn compile(name: &str, node: &Node) -> Result<Search, RuleError> {
        match &node.kind {
            Kind::Map(_) => Ok(Search::AllOf(field_tests(name, node)?)),
            Kind::Seq(items) if items.is_empty() => Err(RuleError::invalid(format!(
                "line {}: search identifier '{name}' is an empty list",
                node.line
            ))),
            Kind::Seq(items) if items.iter().all(|n| n.as_map().is_some()) => Ok(Search::AnyOf(
                items
                    .iter()
                    .map(|n| field_tests(name, n))
                    .collect::<Result<_, _>>()?,
            )),
            Kind::Seq(items) if items.iter().all(|n| n.as_text().is_some()) => {
                keywords(name, items.iter().filter_map(Node::as_text).collect())
            }
            Kind::Seq(_) => Err(RuleError::invalid(format!(
                "line {}: search identifier '{name}' mixes mappings and plain values",
                node.line
            ))),
            Kind::Scalar(_) => match node.as_text() {
                Some(text) => keywords(name, vec![text]),
                None => Err(RuleError::invalid(format!(
                    "line {}: search identifier '{name}' is empty",
                    node.line
                ))),
            },
        }
    }

    fn matches(&self, event: &Event<'_>) -> bool {
        match self {
            Search::AllOf(tests) => tests.iter().all(|t| t.matches(event)),
            Search::AnyOf(maps) => maps
                .iter()
                .any(|tests| tests.iter().all(|t| t.matches(event))),
            Search::Keywords(re) => {
                event.visit_all(&mut |leaf| leaf.with_text(|s| re.is_match(s)).unwrap_or(false))
            }
        }
    }
}

fn field_tests(name: &str, node: &Node) -> Result<Vec<FieldTest>, RuleError> {
    let entries = node.as_map().unwrap_or_default();
    if entries.is_empty() {
        return Err(RuleError::invalid(format!(
            "line {}: search identifier '{name}' is an empty mapping",
            node.line
        )));
    }
    let mut tests = entries
        .iter()
        .map(|e| FieldTest::compile(&e.key, &e.value).map_err(|err| err.at_line(e.key_line)))
        .collect::<Result<Vec<_>, _>>()?;
    // Stable: rule order within each class.
    tests.sort_by_key(|t| t.costly);
    Ok(tests)
}

fn keywords(name: &str, words: Vec<String>) -> Result<Search, RuleError> {
    let pattern = words
        .iter()
        .map(|w| format!("(?:{})", wildcards(w)))
        .collect::<Vec<_>>()
        .join("|");
    RegexBuilder::new(&format!("(?is:{pattern})"))
        .build()
        .map(Search::Keywords)
        .map_err(|e| RuleError::unsupported(format!("keywords '{name}': {e}")))
}
