//! `mbxaudit summary`: the same inputs and rules as `search`, and instead of rows, what
//! happened, how much, by whom, from where and when.
//!
//! The pipeline is `search`'s ([`crate::search::scan`]); the kept rows become a
//! [`Summary`] ([`model`], which also explains why summaries merge exactly and what that
//! costs in size), drawn as [`tables`] on a terminal ([`text`]), as one CSV per table
//! ([`csv`]) or as one JSON document — the mergeable form `summary --merge` reads.

pub mod csv;
pub mod model;
pub mod tables;
pub mod text;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

pub use model::Summary;

use crate::config::{SummaryConfig, SummarySource};
use crate::diag::sanitize;
use crate::input::{self, Origin};
use crate::report;
use crate::search::{self, print_funnel, Messages, Scanned, Status};

/// `summary --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SummaryFormat {
    /// Aligned tables and a bar chart, for a terminal.
    #[default]
    Text,
    /// One CSV file per table, in the directory given with -o.
    Csv,
    /// One JSON document holding everything (mergeable with --merge).
    Json,
}

/// `summary --by`: the activity buckets (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Bucket {
    #[default]
    Day,
    Hour,
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
            } = search::scan(scan, "Summarising", &outputs, cfg.force, &msg)?;
            let summary = Summary::build(&outcome, &scan.scope);
            msg.note(&format!("{} entries summarised.", summary.records));
            print_funnel(&outcome.totals, "rows summarised", &msg);
            let status = if incomplete {
                Status::Incomplete
            } else {
                Status::Clean
            };
            (summary, status)
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
        report::check_target(out, force, &paths)?;
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
            if n > 0 {
                msg.note(&format!(
                    "{n} cell{} starting with = + - @ tab or CR prefixed with ' so that Excel \
                     shows them as text (--raw-cells writes them untouched).",
                    if n == 1 { "" } else { "s" }
                ));
            }
            return Ok(());
        }
    };
    match &cfg.output {
        None => report::write_stdout(|out| out.write_all(&bytes)),
        Some(path) => {
            msg.note(&format!(
                "Writing the summary to {}",
                sanitize(&path.display().to_string())
            ));
            report::write_atomic(path, cfg.force, |out| out.write_all(&bytes))
        }
    }
}
