//! `mbxaudit report --html FILE --xlsx FILE`: one self-contained HTML page for a
//! responder, and/or the same as an Excel workbook. The inputs are read as `triage` reads
//! them; the page ([`crate::output::html`]) and the workbook
//! ([`crate::output::workbook`]) draw the findings, the summary and the timeline of the
//! kept rows.

pub mod args;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use crate::diag::sanitize;
use crate::exit::Status;
use crate::output::findings::{headline, Context};
use crate::output::{self, html, workbook, Target};
use crate::pipeline::Outcome;
use crate::session::{self, print_funnel, Messages, ScanConfig, Scanned};
use crate::summary::{Bucket, Summary};
use crate::triage::{Evaluation, Rule};
use args::ReportArgs;

/// A report, ready to run.
pub struct ReportConfig {
    pub scan: ScanConfig,
    pub rules: Vec<Rule>,
    pub html: Option<PathBuf>,
    pub xlsx: Option<PathBuf>,
    pub force: bool,
    pub by: Option<Bucket>,
    /// Rows of the top tables (`usize::MAX`: all).
    pub top: usize,
    pub title: String,
}

impl ReportConfig {
    pub fn from_args(args: ReportArgs) -> Result<ReportConfig> {
        if let (Some(html), Some(xlsx)) = (&args.html, &args.xlsx) {
            if html == xlsx {
                bail!(
                    "--html and --xlsx name the same file '{}'; choose two names",
                    html.display()
                );
            }
        }
        let rules = crate::triage::rules::load(&super::triage::rule_sources(&args.rules))?;
        Ok(ReportConfig {
            scan: super::triage::scan_config(args.input)?,
            rules,
            html: args.html,
            xlsx: args.xlsx,
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
    let outputs: Vec<&Path> = cfg
        .html
        .iter()
        .chain(&cfg.xlsx)
        .map(PathBuf::as_path)
        .collect();
    let Scanned {
        outcome,
        incomplete,
    } = session::scan(&cfg.scan, "Reporting on", &outputs, cfg.force, &msg)?;
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
    if let Some(path) = &cfg.html {
        write_html(&cfg, path, &outcome, &summary, &evaluation, &msg)?;
    }
    if let Some(path) = &cfg.xlsx {
        write_xlsx(&cfg, path, &outcome, &summary, &evaluation, &msg)?;
    }
    print_funnel(&outcome.totals, "rows in the timeline", &msg);
    Ok(Status::from_incomplete(incomplete))
}

fn write_html(
    cfg: &ReportConfig,
    path: &Path,
    outcome: &Outcome,
    summary: &Summary,
    evaluation: &Evaluation,
    msg: &Messages,
) -> Result<()> {
    let generated = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let page = html::Page {
        title: &cfg.title,
        generated: &generated,
        outcome,
        summary,
        evaluation,
        rules: &cfg.rules,
        scope: &cfg.scan.scope,
        by: cfg.by,
        top: cfg.top,
    };
    msg.note(&format!(
        "Writing the HTML report to {}",
        sanitize(&path.display().to_string())
    ));
    output::write_atomic(path, cfg.force, |out| html::render(out, &page))
        .context("cannot write the HTML report")
}

fn write_xlsx(
    cfg: &ReportConfig,
    path: &Path,
    outcome: &Outcome,
    summary: &Summary,
    evaluation: &Evaluation,
    msg: &Messages,
) -> Result<()> {
    let sources: Vec<String> = outcome.files.iter().map(|f| f.origin.display()).collect();
    let report = workbook::Report {
        title: &cfg.title,
        outcome,
        summary,
        evaluation,
        ctx: Context {
            rows: &outcome.rows,
            sources: &sources,
            scope: &cfg.scan.scope,
            rules: &cfg.rules,
        },
        by: cfg.by,
        top: cfg.top,
    };
    msg.note(&format!(
        "Writing the workbook to {}",
        sanitize(&path.display().to_string())
    ));
    let target = Target::File {
        path: path.to_path_buf(),
        force: cfg.force,
    };
    let mut notes = Vec::new();
    output::write_atomic(path, cfg.force, |out| {
        notes = workbook::report(out, &report, output::temp_dir(&target))?;
        Ok(())
    })
    .context("cannot write the workbook")?;
    for note in notes {
        msg.error(&format!("warning: {note}"));
    }
    Ok(())
}
