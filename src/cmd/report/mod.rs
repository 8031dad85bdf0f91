//! `mbxaudit report --html FILE`: one self-contained HTML page for a responder. The
//! inputs are read as `triage` reads them; the page ([`crate::output::html`]) draws the
//! findings, the summary and the timeline of the kept rows.

pub mod args;

use std::path::PathBuf;

use anyhow::{Context as _, Result};

use crate::diag::sanitize;
use crate::exit::Status;
use crate::output::findings::headline;
use crate::output::{self, html};
use crate::pipeline::Table;
use crate::session::{self, print_funnel, Messages, ScanConfig, Scanned};
use crate::summary::{Bucket, Summary};
use crate::triage::Rule;
use args::ReportArgs;

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
        let rules = crate::triage::rules::load(&super::triage::rule_sources(&args.rules))?;
        Ok(ReportConfig {
            scan: super::triage::scan_config(args.input, &rules, &html::timeline::KEYS)?,
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

pub fn run(cfg: ReportConfig) -> Result<Status> {
    let msg = Messages {
        quiet: cfg.scan.quiet,
    };
    let Scanned {
        outcome,
        incomplete,
    } = session::scan(
        &cfg.scan,
        "Reporting on",
        &[cfg.html.as_path()],
        cfg.force,
        &msg,
    )?;
    let empty = Table::empty();
    let table = outcome.table().unwrap_or(&empty);
    let evaluation = crate::triage::evaluate(&cfg.rules, table);
    let summary = Summary::build(&outcome, &cfg.scan.scope);
    msg.note(&format!(
        "Triage: {} from {} records, {} rules.",
        headline(&evaluation.findings),
        table.len(),
        cfg.rules.len()
    ));
    for n in &evaluation.notes {
        msg.note(&format!("note: {}", sanitize(n)));
    }
    let generated = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let page = html::Page {
        title: &cfg.title,
        generated: &generated,
        outcome: &outcome,
        rows: table,
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
    output::write_atomic(&cfg.html, cfg.force, |out| html::render(out, &page))
        .context("cannot write the HTML report")?;
    print_funnel(&outcome.totals, "rows in the timeline", &msg);
    Ok(Status::from_incomplete(incomplete))
}
