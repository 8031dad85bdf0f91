//! `mbxaudit summary`: the same inputs and rules as `search`, and instead of rows, what
//! happened, how much, by whom, from where and when.
//!
//! The scan is the session's ([`crate::session::scan`]); the kept rows become a
//! [`Summary`] ([`crate::summary`], which also explains why summaries merge exactly and
//! what that costs in size), drawn as tables on a terminal, as one CSV per table, or as
//! one JSON document — the mergeable form `summary --merge` reads
//! ([`crate::output::summary`]).

pub mod args;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};

use super::scan::scan_config;
use crate::diag::sanitize;
use crate::exit::Status;
use crate::input::{self, Origin};
use crate::output::summary::{csv, tables, text};
use crate::output::{self, workbook, OutputFile, Outputs, Target};
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
        if args.format == SummaryFormat::Xlsx && args.output.is_none() {
            bail!("--format xlsx writes a workbook: give a file with -o FILE");
        }
        let source = if args.merge {
            SummarySource::Merge {
                inputs: args.input.inputs,
                quiet: args.input.quiet,
            }
        } else {
            let keep = Keep::Counts(crate::summary::KEYS.to_vec());
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
    let (summary, status, mut staged) = match &cfg.source {
        SummarySource::Scan(scan) => {
            let outputs = output_files(&cfg, scan.settings.geoip.is_some());
            let Scanned {
                outcome,
                incomplete,
                outputs: staged,
                ..
            } = session::scan(scan, "Summarising", &outputs, &msg)?;
            let mut summary = Summary::build(&outcome, &scan.scope);
            if let Some(geo) = &scan.settings.geoip {
                summary.locate(geo);
            }
            msg.note(&format!("{} entries summarised.", summary.records));
            print_funnel(&outcome.totals, "rows summarised", &msg);
            (summary, Status::from_incomplete(incomplete), staged)
        }
        SummarySource::Merge { inputs, .. } => {
            // The parts are small and read first: whether the merged summary has the
            // --geoip tables decides which CSV files it writes. Nothing is written yet.
            let (summary, origins) = merge(inputs, &msg)?;
            let outputs = output_files(&cfg, summary.networks.is_some());
            let staged = session::stage_outputs(&outputs, &origins)?;
            (summary, Status::Clean, staged)
        }
    };
    write(&cfg, &summary, &mut staged, &msg)?;
    staged.commit()?;
    Ok(status)
}

/// The files this run will write (checked and staged before anything is read);
/// `networks`: the summary has the `--geoip` tables.
fn output_files(cfg: &SummaryConfig, networks: bool) -> Vec<OutputFile> {
    let Some(out) = &cfg.output else {
        return Vec::new();
    };
    let file = |path: PathBuf, create_dir: bool| OutputFile {
        path,
        force: cfg.force,
        option: "-o",
        create_dir,
    };
    match cfg.format {
        SummaryFormat::Text | SummaryFormat::Json | SummaryFormat::Xlsx => {
            vec![file(out.clone(), false)]
        }
        SummaryFormat::Csv => tables::file_names(cfg.by, networks)
            .into_iter()
            .map(|n| file(csv::path(out, n), true))
            .collect(),
    }
}

/// `--merge`: reads JSON summaries (files, `-`, or the `.json` files of a directory)
/// and adds them up; returns the sum and the parts read (for the outputs' checks).
fn merge(inputs: &[PathBuf], msg: &Messages) -> Result<(Summary, Vec<Origin>)> {
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
    let mut merged: Option<Summary> = None;
    for origin in &origins {
        let name = origin.display();
        let bytes = input::load(origin).with_context(|| format!("'{}'", sanitize(&name)))?;
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
                let warnings = all
                    .merge(part)
                    .with_context(|| format!("--merge '{}'", sanitize(&name)))?;
                for w in warnings {
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
    Ok((merged, origins))
}

fn write(
    cfg: &SummaryConfig,
    summary: &Summary,
    staged: &mut Outputs,
    msg: &Messages,
) -> Result<()> {
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
            let n = csv::write_all(staged, dir, &all, !cfg.raw_cells)?;
            msg.neutralised(n);
            return Ok(());
        }
        SummaryFormat::Xlsx => {
            let mut notes = Vec::new();
            let temp_dir = output::temp_dir(&target);
            write_output(staged, &target, announce, msg, |out, _| {
                notes = workbook::summary(out, summary, cfg.top, cfg.by, temp_dir)?;
                Ok(())
            })?;
            for note in notes {
                msg.error(&format!("warning: {note}"));
            }
            return Ok(());
        }
    };
    write_output(staged, &target, announce, msg, |out, _| {
        out.write_all(&bytes)
    })
}
