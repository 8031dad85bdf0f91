//! `mbxaudit report --html FILE`: one self-contained HTML page for a responder. The
//! inputs are read as `triage` reads them; the page ([`crate::output::html`]) draws the
//! findings, the summary and the timeline of the kept rows.

pub mod args;

use std::path::PathBuf;

use anyhow::{Context as _, Result};

use crate::diag::sanitize;
use crate::exit::Status;
use crate::output::findings::headline;
use crate::output::{html, OutputFile};
use crate::session::{self, print_funnel, Messages, ScanConfig, Scanned};
use crate::summary::{Bucket, Summary};
use crate::triage::Rule;
use args::ReportArgs;

/// A report, ready to run.
pub struct ReportConfig {
    pub scan: ScanConfig,
    pub rules: Vec<Rule>,
    /// What loading `--sigma` rules found: `(is a warning, text)`.
    pub sigma_messages: Vec<(bool, String)>,
    pub sigma_unusable: usize,
    pub html: PathBuf,
    pub force: bool,
    pub by: Option<Bucket>,
    /// Rows of the top tables (`usize::MAX`: all).
    pub top: usize,
    pub title: String,
}

impl ReportConfig {
    pub fn from_args(args: ReportArgs) -> Result<ReportConfig> {
        let mut scan = super::triage::scan_config(args.input)?;
        let set = super::triage::load_rules(&args.rules, &mut scan)?;
        Ok(ReportConfig {
            scan,
            rules: set.rules,
            sigma_messages: set.sigma_messages,
            sigma_unusable: set.sigma_unusable,
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
    super::triage::tell_sigma(&cfg.sigma_messages, &msg);
    let page_file = OutputFile {
        path: cfg.html.clone(),
        force: cfg.force,
        option: "--html",
        create_dir: false,
    };
    let Scanned {
        outcome,
        incomplete,
        outputs: mut staged,
        ..
    } = session::scan(&cfg.scan, "Reporting on", &[page_file], &msg)?;
    let evaluation = crate::triage::evaluate(&cfg.rules, &outcome.rows);
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
    let page = html::Page {
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
    staged
        .staged(&cfg.html)?
        .write_with(|out| html::render(out, &page))
        .context("cannot write the HTML report")?;
    staged.commit()?;
    print_funnel(&outcome.totals, "rows in the timeline", &msg);
    Ok(Status::from_incomplete(
        incomplete || (cfg.scan.strict && cfg.sigma_unusable > 0),
    ))
}
