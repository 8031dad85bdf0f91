//! Triage: what looks like compromise, first.
//!
//! The kept rows are judged by [`rules`] — data, not code: a built-in table
//! (`rules.json`) that `--rules FILE` extends and `--set` tunes — each run by one of three
//! generic [`eval`]uators (match, threshold, first seen) on [`cond`]itions over the rows.
//! The findings are written by [`crate::output::findings`] (text, JSON, CSV) and shown in
//! the `report` page ([`crate::output::html`]).
//!
//! To add a rule: an entry in `rules.json` (or a rules file) using an existing kind; a new
//! kind of rule is an evaluator in [`eval`] and a variant of [`rules::Eval`].

pub mod cond;
pub mod eval;
pub mod from_sigma;
pub mod rules;
pub mod sigma;

pub use eval::{evaluate, evaluate_rows, keys, Evaluation, Finding};
pub use rules::{Rule, RuleSources, Severity};
