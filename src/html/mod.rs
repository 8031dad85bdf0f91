//! `mbxaudit report --html FILE`: one self-contained HTML page for a responder.
//!
//! The inputs are read as `triage` reads them ([`crate::triage::scan_config`]), the
//! findings are triage's ([`crate::triage::evaluate`]), the tables and the activity are
//! the summary's ([`Summary`], [`crate::summary::tables`]): the page draws those models,
//! it computes nothing of its own. Its sections ([`page`]): overview, findings, activity
//! over time ([`chart`], inline SVG), the summary tables, the inputs and their funnel,
//! and the [`timeline`] of every row with a text filter (`report.js`, inline).
//!
//! Self-contained and offline: the CSS and the script are inline, charts are inline SVG,
//! and the page names no URL. Its Content-Security-Policy ([`csp`]) forbids loading
//! anything and lets only its own style and script (by hash) apply. Every value from the
//! input is escaped ([`escape`]). The same inputs give the same bytes, except the one
//! line that says when the page was generated.

pub mod args;
pub mod chart;
pub mod csp;
pub mod escape;
pub mod page;
pub mod timeline;

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{Context as _, Result};

use crate::config::ScanConfig;
use crate::diag::sanitize;
use crate::pipeline::Outcome;
use crate::report;
use crate::search::{self, print_funnel, Messages, Scanned, Status};
use crate::summary::{Bucket, Summary};
use crate::triage::output::{headline, Context};
use crate::triage::{self, Evaluation, Rule};
use args::ReportArgs;

/// The page's style sheet (inline).
pub const STYLE: &str = include_str!("report.css");
/// The page's script (inline): the timeline filter.
pub const SCRIPT: &str = include_str!("report.js");

/// A report, ready to run.
pub struct ReportConfig {
    pub scan: ScanConfig,
    pub rules: Vec<Rule>,
    pub html: PathBuf,
    pub force: bool,
    pub by: Option<Bucket>,
    /// Rows of the top tables (`usize::MAX`: all).
    pub top: usize,
    pub title: String,
}

impl ReportConfig {
    pub fn from_args(args: ReportArgs) -> Result<ReportConfig> {
        let rules = triage::rules::load(&triage::rule_sources(&args.rules))?;
        Ok(ReportConfig {
            scan: triage::scan_config(args.input)?,
            rules,
            html: args.html,
            force: args.force,
            by: args.by,
            top: if args.top == 0 { usize::MAX } else { args.top },
            title: args
                .title
                .unwrap_or_else(|| "Mailbox audit report".to_string()),
        })
    }
}

/// Everything the page shows.
pub struct Page<'a> {
    pub title: &'a str,
    /// When the page was generated (the one line that changes between runs).
    pub generated: &'a str,
    pub outcome: &'a Outcome,
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
        rows: &p.outcome.rows,
        sources: &sources,
        scope: p.scope,
        rules: p.rules,
    };
    let mut evidence = vec![false; p.outcome.rows.len()];
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
        page::findings(p.evaluation, &ctx),
        page::activity(p.summary, by),
        page::summary_tables(p.summary, p.top),
        page::inputs(p.outcome, p.scope),
        page::timeline_tools(p.outcome.rows.len(), marked, timeline::PAGE),
    ] {
        out.write_all(part.as_bytes())?;
    }
    timeline::write(out, &p.outcome.rows, &sources, &evidence)?;
    out.write_all(b"</section>\n</main>\n<script>")?;
    out.write_all(SCRIPT.as_bytes())?;
    out.write_all(b"</script>\n</body>\n</html>\n")
}

pub fn run(cfg: ReportConfig) -> Result<Status> {
    let msg = Messages {
        quiet: cfg.scan.quiet,
    };
    let Scanned {
        outcome,
        incomplete,
    } = search::scan(
        &cfg.scan,
        "Reporting on",
        &[cfg.html.as_path()],
        cfg.force,
        &msg,
    )?;
    let evaluation = triage::evaluate(&cfg.rules, &outcome.rows);
    let summary = Summary::build(&outcome, &cfg.scan.scope);
    msg.note(&format!(
        "Triage: {} from {} records, {} rules.",
        headline(&evaluation.findings),
        outcome.rows.len(),
        cfg.rules.len()
    ));
    for n in &evaluation.notes {
        msg.note(&format!("note: {}", sanitize(n)));
    }
    let generated = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let page = Page {
        title: &cfg.title,
        generated: &generated,
        outcome: &outcome,
        summary: &summary,
        evaluation: &evaluation,
        rules: &cfg.rules,
        scope: &cfg.scan.scope,
        by: cfg.by,
        top: cfg.top,
    };
    msg.note(&format!(
        "Writing the HTML report to {}",
        sanitize(&cfg.html.display().to_string())
    ));
    report::write_atomic(&cfg.html, cfg.force, |out| render(out, &page))
        .context("cannot write the HTML report")?;
    print_funnel(&outcome.totals, "rows in the timeline", &msg);
    Ok(if incomplete {
        Status::Incomplete
    } else {
        Status::Clean
    })
}
