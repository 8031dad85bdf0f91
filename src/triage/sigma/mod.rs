//! Sigma rules for `triage --sigma PATH`: load rule files, compile them once, match them
//! against audit records.
//!
//! A compact engine of our own rather than a Sigma crate (docs/sigma.md says why): the
//! field mapping for Unified Audit Log records (Name/Value arrays addressed by name,
//! JSON re-serialised into strings, case-insensitive member names) is resolved in place on
//! the borrowed `serde_json::Value` ([`Event`]), without building a per-event map.
//!
//! - [`load`]: files and directories (`*.yml`, `*.yaml`, recursively) in sorted path
//!   order; every file that does not give a rule is named with its reason
//!   ([`NotLoaded`]), and loading goes on.
//! - [`parse_rules`] / [`parse_rule`]: one file's text.
//! - [`SigmaRule::matches`]: one rule against one [`Event`]; compiled once (lower-cased
//!   regexes built at load), `Send + Sync`, no allocation per event on the common path.
//!
//! This module is a low layer: it depends on crates only, never on the rest of mbxaudit.

mod condition;
mod detection;
mod event;
mod load;
mod rule;
mod value;
mod yaml;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use event::{Event, Leaf, Visited};
pub use load::load;
pub use rule::{applies, parse_rule, parse_rules, Level, Logsource, SigmaRule, FOREIGN_FIELDS};

/// The outcome of loading rule files.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The rules that apply, in load order (sorted paths, then document order).
    pub rules: Vec<SigmaRule>,
    /// Every rule or file that was not loaded, with the reason, in load order.
    pub not_loaded: Vec<NotLoaded>,
    /// Loaded rules worth a remark (an id shared with a different rule).
    pub notes: Vec<LoadNote>,
    /// How many rule files were read.
    pub files_read: usize,
}

/// A rule (or file) that was not loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotLoaded {
    pub path: PathBuf,
    pub id: Option<String>,
    pub title: Option<String>,
    pub kind: NotLoadedKind,
    /// Why, for a person: with the line where there is one.
    pub reason: String,
}

/// Why a rule was not loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NotLoadedKind {
    /// Its logsource is not Microsoft 365 (counted, not an error).
    OtherLogsource,
    /// Valid Sigma that uses something this engine does not do.
    Unsupported,
    /// Not valid YAML or not a valid Sigma rule.
    Invalid,
    /// A correlation rule (counts or orders other rules' matches).
    Correlation,
    /// The same id and logic as a rule loaded before it.
    Duplicate,
}

impl NotLoadedKind {
    /// A short lowercase name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            NotLoadedKind::OtherLogsource => "other-logsource",
            NotLoadedKind::Unsupported => "unsupported",
            NotLoadedKind::Invalid => "invalid",
            NotLoadedKind::Correlation => "correlation",
            NotLoadedKind::Duplicate => "duplicate",
        }
    }
}

/// A remark on a loaded rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadNote {
    pub path: PathBuf,
    pub id: Option<String>,
    pub message: String,
}

/// Why one rule cannot be compiled (turned into a [`NotLoaded`] with the file's path).
#[derive(Clone, Debug, PartialEq)]
struct RuleError {
    kind: NotLoadedKind,
    reason: String,
}

impl RuleError {
    fn invalid(reason: String) -> Self {
        RuleError {
            kind: NotLoadedKind::Invalid,
            reason,
        }
    }

    fn unsupported(reason: String) -> Self {
        RuleError {
            kind: NotLoadedKind::Unsupported,
            reason,
        }
    }

    /// Prefixes `line N: ` unless the reason already names a line.
    fn at_line(mut self, line: usize) -> Self {
        if !self.reason.starts_with("line ") {
            self.reason = format!("line {line}: {}", self.reason);
        }
        self
    }
}
