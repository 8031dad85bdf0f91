//! `mbxaudit summary`: the same inputs and rules as `search`, and instead of rows, what
//! happened, how much, by whom, from where and when.
//!
//! The scan is the session's ([`crate::session::scan`]); the kept rows become a
//! [`Summary`] ([`crate::summary`], which also explains why summaries merge exactly and
//! what that costs in size), drawn as tables on a terminal, as one CSV per table, or as
//! one JSON document — the mergeable form `summary --merge` reads
//! ([`crate::output::summary`]).

pub mod args;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::scan::scan_config;
use crate::diag::sanitize;
use crate::exit::Status;
use crate::input::{self, Origin};
use crate::output::summary::{csv, tables, text};
use crate::output::{self, Target};
use crate::pipeline::Keep;
use crate::session::{self, print_funnel, write_output, Announce, Messages, ScanConfig, Scanned};
use crate::summary::{Bucket, Summary};
use args::{SummaryArgs, SummaryFormat};

/// Where a summary comes from.
pub enum SummarySource {
    /// Read the exports through the rules.
    Scan(Box<ScanConfig>),
    /// `--merge`: combine JSON summaries.
    Merge { inputs: Vec<PathBuf>, quiet: bool },
}

/// A summary, ready to run.
pub struct SummaryConfig {
    pub source: SummarySource,
    pub format: SummaryFormat,
    /// `-o`: a file (text, json) or a directory (csv); `None` is standard output.
    pub output: Option<PathBuf>,
    pub force: bool,
    /// `--top`: rows of the top tables; `usize::MAX` for all.
    pub top: usize,
    pub by: Bucket,
    pub raw_cells: bool,
}

impl SummaryConfig {
    pub fn from_args(args: SummaryArgs) -> Result<SummaryConfig> {
        if args.format == SummaryFormat::Csv && args.output.is_none() {
            bail!("--format csv writes one file per table: give a directory with -o DIR");
        }
        let source = if args.merge {
            SummarySource::Merge {
                inputs: args.input.inputs,
                quiet: args.input.quiet,
            }
        } else {
            let keep = Keep::Columns(crate::summary::KEYS.to_vec());
            SummarySource::Scan(Box::new(scan_config(args.input, false, keep)?))
        };
        Ok(SummaryConfig {
            source,
            format: args.format,
            output: args.output,
            force: args.force,
            top: if args.top == 0 { usize::MAX } else { args.top },
            by: args.by,
            raw_cells: args.raw_cells,
        })
    }

    pub fn threads(&self) -> Option<usize> {
        match &self.source {
            SummarySource::Scan(scan) => scan.threads,
            SummarySource::Merge { .. } => None,
        }
    }
}

pub fn run(cfg: SummaryConfig) -> Result<Status> {
    let quiet = match &cfg.source {
        SummarySource::Scan(scan) => scan.quiet,
        SummarySource::Merge { quiet, .. } => *quiet,
    };
    let msg = Messages { quiet };
    let outputs = output_files(&cfg);
    let outputs: Vec<&Path> = outputs.iter().map(PathBuf::as_path).collect();
    let (summary, status) = match &cfg.source {
        SummarySource::Scan(scan) => {
            let Scanned {
                outcome,
                incomplete,
            } = session::scan(scan, "Summarising", &outputs, cfg.force, &msg)?;
            let summary = Summary::build(&outcome, &scan.scope);
            msg.note(&format!("{} entries summarised.", summary.records));
            print_funnel(&outcome.totals, "rows summarised", &msg);
            (summary, Status::from_incomplete(incomplete))
        }
        SummarySource::Merge { inputs, .. } => {
            (merge(inputs, &outputs, cfg.force, &msg)?, Status::Clean)
        }
    };
    write(&cfg, &summary, &msg)?;
    Ok(status)
}

/// The files this run will write (checked before anything is read).
fn output_files(cfg: &SummaryConfig) -> Vec<PathBuf> {
    let Some(out) = &cfg.output else {
        return Vec::new();
    };
    match cfg.format {
        SummaryFormat::Text | SummaryFormat::Json => vec![out.clone()],
        SummaryFormat::Csv => tables::file_names(cfg.by)
            .into_iter()
            .map(|n| csv::path(out, n))
            .collect(),
    }
}

/// `--merge`: reads JSON summaries (files, `-`, or the `.json` files of a directory)
/// and adds them up.
fn merge(inputs: &[PathBuf], outputs: &[&Path], force: bool, msg: &Messages) -> Result<Summary> {
    let origins: Vec<Origin> = input::expand(inputs)?
        .origins
        .into_iter()
        .filter(|o| match o {
            Origin::Walked(p) => p
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json")),
            _ => true,
        })
        .collect();
    if origins.is_empty() {
        bail!("--merge: no JSON summaries found");
    }
    let paths: Vec<&Path> = origins.iter().filter_map(Origin::path).collect();
    for out in outputs {
        output::check_target(out, force, &paths)?;
    }
    let mut merged: Option<Summary> = None;
    for origin in &origins {
        let name = origin.display();
        let bytes = input::load(origin)?;
        let part = Summary::from_json(&bytes).with_context(|| format!("'{name}'"))?;
        msg.note(&format!(
            "read {}: summary of {} record{} from {} input{}",
            sanitize(&name),
            part.records,
            if part.records == 1 { "" } else { "s" },
            part.inputs.len(),
            if part.inputs.len() == 1 { "" } else { "s" },
        ));
        match &mut merged {
            None => merged = Some(part),
            Some(all) => {
                for w in all.merge(part) {
                    msg.note(&format!("warning: {}", sanitize(&w)));
                }
            }
        }
    }
    let merged = merged.unwrap_or_else(Summary::empty);
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    msg.note(&format!(
        "Merged {}: {} from {}.",
        plural(origins.len() as u64, "summary", "summaries"),
        plural(merged.records, "entry", "entries"),
        plural(merged.inputs.len() as u64, "input", "inputs"),
    ));
    print_funnel(&merged.funnel.to_counts()?, "rows summarised", msg);
    Ok(merged)
}

fn write(cfg: &SummaryConfig, summary: &Summary, msg: &Messages) -> Result<()> {
    let bytes = match cfg.format {
        SummaryFormat::Text => text::render(summary, cfg.top, cfg.by).into_bytes(),
        SummaryFormat::Json => summary.to_json()?,
        SummaryFormat::Csv => {
            let Some(dir) = &cfg.output else {
                bail!("--format csv writes one file per table: give a directory with -o DIR");
            };
            let mut all = tables::tables(summary, cfg.top);
            all.push(tables::activity_table(&tables::activity(summary, cfg.by)));
            msg.note(&format!(
                "Writing {} tables to {}",
                all.len(),
                sanitize(&dir.display().to_string())
            ));
            let n = csv::write_all(dir, &all, cfg.force, !cfg.raw_cells)?;
            msg.neutralised(n);
            return Ok(());
        }
    };
    let target = match &cfg.output {
        None => Target::Stdout,
        Some(path) => Target::File {
            path: path.clone(),
            force: cfg.force,
        },
    };
    let announce = Announce {
        file: "Writing the summary to ",
        stdout: None,
    };
    write_output(&target, announce, msg, |out, _| out.write_all(&bytes))
}
