//! `mbxaudit report --html FILE --xlsx FILE`: one self-contained HTML page for a
//! responder, and/or the same as an Excel workbook. The inputs are read as `triage` reads
//! them; the page ([`crate::output::html`]) and the workbook
//! ([`crate::output::workbook`]) draw the findings, the summary and the timeline of the
//! kept rows. Both are staged before the inputs are read and committed together.

pub mod args;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use crate::diag::sanitize;
use crate::exit::Status;
use crate::output::findings::{headline, Context};
use crate::output::{self, html, workbook, OutputFile, Outputs, Target};
use crate::pipeline::{Outcome, Table};
use crate::session::{self, print_funnel, Messages, ScanConfig, Scanned};
use crate::summary::{Bucket, Summary};
use crate::triage::{Evaluation, Rule};
use args::ReportArgs;

/// A report, ready to run.
pub struct ReportConfig {
    pub scan: ScanConfig,
    pub rules: Vec<Rule>,
    /// What loading `--sigma` rules found: `(is a warning, text)`.
    pub sigma_messages: Vec<(bool, String)>,
    pub sigma_unusable: usize,
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
        let mut scan = super::triage::scan_config(args.input)?;
        let set = super::triage::load_rules(&args.rules, &mut scan)?;
        // The page's timeline, and the workbook's evidence and timeline sheets.
        let mut also = html::timeline::KEYS.to_vec();
        if args.xlsx.is_some() {
            also.extend(workbook::row_keys());
        }
        scan.settings.keep = super::triage::keep_for(&set.rules, &also);
        Ok(ReportConfig {
            scan,
            rules: set.rules,
            sigma_messages: set.sigma_messages,
            sigma_unusable: set.sigma_unusable,
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
    super::triage::tell_sigma(&cfg.sigma_messages, &msg);
    let files: Vec<OutputFile> = [(&cfg.html, "--html"), (&cfg.xlsx, "--xlsx")]
        .into_iter()
        .filter_map(|(path, option)| {
            path.as_ref().map(|p| OutputFile {
                path: p.clone(),
                force: cfg.force,
                option,
                create_dir: false,
            })
        })
        .collect();
    let Scanned {
        outcome,
        incomplete,
        outputs: mut staged,
        ..
    } = session::scan(&cfg.scan, "Reporting on", &files, &msg)?;
    let empty = Table::empty();
    let table = outcome.table().unwrap_or(&empty);
    let evaluation = crate::triage::evaluate(&cfg.rules, table);
    let mut summary = Summary::build(&outcome, &cfg.scan.scope);
    if let Some(geo) = &cfg.scan.settings.geoip {
        summary.locate(geo);
    }
    msg.note(&format!(
        "Triage: {} from {} records, {} rules.",
        headline(&evaluation.findings),
        table.len(),
        cfg.rules.len()
    ));
    for n in &evaluation.notes {
        msg.note(&format!("note: {}", sanitize(n)));
    }
    let drawn = Drawn {
        outcome: &outcome,
        table,
        summary: &summary,
        evaluation: &evaluation,
    };
    if let Some(path) = &cfg.html {
        write_html(&cfg, path, &drawn, &mut staged, &msg)?;
    }
    if let Some(path) = &cfg.xlsx {
        write_xlsx(&cfg, path, &drawn, &mut staged, &msg)?;
    }
    staged.commit()?;
    print_funnel(&outcome.totals, "rows in the timeline", &msg);
    Ok(Status::from_incomplete(
        incomplete || (cfg.scan.strict && cfg.sigma_unusable > 0),
    ))
}

/// What the page and the workbook draw.
struct Drawn<'a> {
    outcome: &'a Outcome,
    /// The rows, as columns.
    table: &'a Table,
    summary: &'a Summary,
    evaluation: &'a Evaluation,
}

fn write_html(
    cfg: &ReportConfig,
    path: &Path,
    d: &Drawn<'_>,
    staged: &mut Outputs,
    msg: &Messages,
) -> Result<()> {
    let generated = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let page = html::Page {
        title: &cfg.title,
        generated: &generated,
        outcome: d.outcome,
        rows: d.table,
        summary: d.summary,
        evaluation: d.evaluation,
        rules: &cfg.rules,
        scope: &cfg.scan.scope,
        by: cfg.by,
        top: cfg.top,
    };
    msg.note(&format!(
        "Writing the HTML report to {}",
        sanitize(&path.display().to_string())
    ));
    staged
        .staged(path)?
        .write_with(|out| html::render(out, &page))
        .context("cannot write the HTML report")
}

fn write_xlsx(
    cfg: &ReportConfig,
    path: &Path,
    d: &Drawn<'_>,
    staged: &mut Outputs,
    msg: &Messages,
) -> Result<()> {
    let sources: Vec<String> = d.outcome.files.iter().map(|f| f.origin.display()).collect();
    let report = workbook::Report {
        title: &cfg.title,
        outcome: d.outcome,
        summary: d.summary,
        evaluation: d.evaluation,
        ctx: Context {
            rows: d.table,
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
    staged
        .staged(path)?
        .write_with(|out| {
            notes = workbook::report(out, &report, output::temp_dir(&target))?;
            Ok(())
        })
        .context("cannot write the workbook")?;
    for note in notes {
        msg.error(&format!("warning: {note}"));
    }
    Ok(())
}
