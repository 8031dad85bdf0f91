//! `mbxaudit triage`: what looks like compromise, first.
//!
//! The inputs go through the session's scan ([`crate::session::scan`]) with `search`'s
//! options, except that admin records are read by default and FolderBind records are
//! kept ([`scan_config`]). The kept rows are then judged by the triage rules
//! ([`crate::triage`]), and the findings written as text, JSON or CSV
//! ([`crate::output::findings`]). `report` shows the same findings in its HTML page.
//!
//! Finding something is not an error: the exit status is 0 with or without findings, 1
//! when some input could not be read whole, as for `search`.

pub mod args;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use super::args::InputArgs;
use crate::diag::sanitize;
use crate::exit::Status;
use crate::output::findings as output;
use crate::output::{self as out_target, Target};
use crate::pipeline::{Keep, Table};
use crate::session::{self, print_funnel, write_output, Announce, Messages, ScanConfig, Scanned};
use crate::triage::{evaluate, rules, Rule, RuleSources};
use crate::who::Key;
use args::{RuleArgs, TriageArgs, TriageFormat};

/// A triage, ready to run.
pub struct TriageConfig {
    pub scan: ScanConfig,
    pub sources: RuleSources,
    pub rules: Vec<Rule>,
    pub format: TriageFormat,
    pub output: Option<PathBuf>,
    pub force: bool,
    pub raw_cells: bool,
    /// Places listed per finding in text output (`usize::MAX`: all).
    pub evidence: usize,
    pub list_rules: bool,
}

/// The scan `triage` and `report` run: `search`'s, with FolderBind records kept (the
/// non-owner access rule counts them) and the messages of group records counted
/// (deletions and accesses are counted per message); of each row, the values `rules` and
/// the findings read are kept, as columns.
pub fn scan_config(mut input: InputArgs, rules: &[Rule], also: &[Key]) -> Result<ScanConfig> {
    input.filters.include_folder_bind = true;
    let mut keys = crate::triage::keys(rules);
    keys.extend(
        also.iter()
            .filter(|k| !keys.contains(k))
            .copied()
            .collect::<Vec<_>>(),
    );
    super::scan::scan_config(input, true, Keep::Columns(keys))
}

/// Where the rules come from, from the rule options.
pub fn rule_sources(a: &RuleArgs) -> RuleSources {
    RuleSources {
        no_builtin: a.no_builtin_rules,
        files: a.rules_files.clone(),
        sets: a.sets(),
        disable: a.disable.clone(),
    }
}

impl TriageConfig {
    pub fn from_args(args: TriageArgs) -> Result<TriageConfig> {
        let sources = rule_sources(&args.rules);
        let rules = rules::load(&sources)?;
        Ok(TriageConfig {
            scan: scan_config(args.input, &rules, &[])?,
            sources,
            rules,
            format: args.format,
            output: args.output,
            force: args.force,
            raw_cells: args.raw_cells,
            evidence: if args.evidence == 0 {
                usize::MAX
            } else {
                args.evidence
            },
            list_rules: args.list_rules,
        })
    }
}

pub fn run(cfg: TriageConfig) -> Result<Status> {
    if cfg.list_rules {
        let text = match cfg.format {
            TriageFormat::Json => rules::RulesFile {
                format: Some(rules::FORMAT_NAME.into()),
                version: Some(rules::FORMAT_VERSION),
                rules: rules::specs(&cfg.sources)?,
            }
            .to_json()?,
            _ => output::rule_list(&cfg.rules),
        };
        out_target::write_stdout(|out| out.write_all(text.as_bytes()))?;
        return Ok(Status::Clean);
    }
    let msg = Messages {
        quiet: cfg.scan.quiet,
    };
    let outputs: Vec<&Path> = cfg.output.iter().map(PathBuf::as_path).collect();
    let Scanned {
        outcome,
        incomplete,
    } = session::scan(&cfg.scan, "Triaging", &outputs, cfg.force, &msg)?;
    let empty = Table::empty();
    let table = outcome.table().unwrap_or(&empty);
    let ev = evaluate(&cfg.rules, table);
    let sources: Vec<String> = outcome.files.iter().map(|f| f.origin.display()).collect();
    let ctx = output::Context {
        rows: table,
        sources: &sources,
        scope: &cfg.scan.scope,
        rules: &cfg.rules,
    };
    let to_terminal = cfg.output.is_none() && cfg.format == TriageFormat::Text;
    if !to_terminal {
        msg.note(&format!(
            "Triage: {} from {} records, {} rules.",
            output::headline(&ev.findings),
            table.len(),
            cfg.rules.len()
        ));
        for n in &ev.notes {
            msg.note(&format!("note: {}", sanitize(n)));
        }
    }
    let mut neutralised = 0;
    let mut write = |out: &mut dyn std::io::Write, file: bool| -> std::io::Result<()> {
        match cfg.format {
            TriageFormat::Text => out.write_all(output::text(&ev, &ctx, cfg.evidence).as_bytes()),
            TriageFormat::Json => out.write_all(&output::json(&ev, &ctx)?),
            TriageFormat::Csv => {
                neutralised = output::csv(out, &ev, &ctx, file, !cfg.raw_cells)?;
                Ok(())
            }
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
        file: "Writing the findings to ",
        stdout: None,
    };
    write_output(&target, announce, &msg, &mut write).context("cannot write the findings")?;
    msg.neutralised(neutralised);
    print_funnel(&outcome.totals, "rows triaged", &msg);
    Ok(Status::from_incomplete(incomplete))
}
