//! `mbxaudit report --html FILE`: one self-contained HTML page for a responder.
//!
//! The inputs are read as `triage` reads them, the findings are triage's
//! ([`crate::triage::evaluate`]), the tables and the activity are the summary's
//! ([`Summary`], [`crate::output::summary::tables`]): the page draws those models, it
//! computes nothing of its own (the `report` command, [`crate::cmd::report`], builds them). Its sections ([`page`]): overview, findings, activity
//! over time ([`chart`], inline SVG), the summary tables, the inputs and their funnel,
//! and the [`timeline`] of every row with a text filter (`report.js`, inline).
//!
//! Self-contained and offline: the CSS and the script are inline, charts are inline SVG,
//! and the page names no URL. Its Content-Security-Policy ([`csp`]) forbids loading
//! anything and lets only its own style and script (by hash) apply. Every value from the
//! input is escaped ([`escape`]). The same inputs give the same bytes, except the one
//! line that says when the page was generated.

pub mod chart;
pub mod csp;
pub mod escape;
pub mod gzip;
pub mod page;
pub mod timeline;

use std::io::{self, Write};

use crate::output::findings::Context;
use crate::pipeline::{Outcome, Table};
use crate::summary::{Bucket, Summary};
use crate::triage::{Evaluation, Rule};

/// The page's style sheet (inline).
pub const STYLE: &str = include_str!("report.css");
/// The page's script (inline): the timeline filter.
pub const SCRIPT: &str = include_str!("report.js");

/// Everything the page shows.
pub struct Page<'a> {
    pub title: &'a str,
    /// When the page was generated (the one line that changes between runs).
    pub generated: &'a str,
    pub outcome: &'a Outcome,
    /// The rows, as the triage's columns.
    pub rows: &'a Table,
    pub summary: &'a Summary,
    pub evaluation: &'a Evaluation,
    pub rules: &'a [Rule],
    pub scope: &'a [String],
    pub by: Option<Bucket>,
    pub top: usize,
}

/// Writes the page to `out`.
pub fn render(out: &mut dyn Write, p: &Page<'_>) -> io::Result<()> {
    let sources: Vec<String> = p.outcome.files.iter().map(|f| f.origin.display()).collect();
    let ctx = Context {
        rows: p.rows,
        sources: &sources,
        scope: p.scope,
        rules: p.rules,
    };
    let mut evidence = vec![false; p.rows.len()];
    for f in &p.evaluation.findings {
        for &r in &f.rows {
            if let Some(e) = evidence.get_mut(r as usize) {
                *e = true;
            }
        }
    }
    let marked = evidence.iter().filter(|e| **e).count();
    let by = page::bucket(p.summary, p.by);
    let policy = csp::policy(STYLE, SCRIPT);
    for part in [
        page::head(p.title, &policy, STYLE),
        page::banner(p.title, p.generated),
        page::overview(p.summary, p.evaluation, p.outcome),
        page::findings(p.evaluation, &ctx)?,
        page::activity(p.summary, by),
        page::summary_tables(p.summary, p.top),
        page::inputs(p.outcome, p.scope),
        page::timeline_tools(p.rows.len(), marked, timeline::PAGE),
    ] {
        out.write_all(part.as_bytes())?;
    }
    timeline::write(out, p.rows, &sources, &evidence)?;
    out.write_all(b"</section>\n</main>\n<script>")?;
    out.write_all(SCRIPT.as_bytes())?;
    out.write_all(b"</script>\n</body>\n</html>\n")
}
