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

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};

use super::args::InputArgs;
use crate::diag::sanitize;
use crate::exit::Status;
use crate::output::findings as output;
use crate::output::{self as out_target, workbook, Target};
use crate::pipeline::{Keep, Table};
use crate::session::{
    self, output_file, print_funnel, write_output, Announce, Messages, ScanConfig, Scanned,
};
use crate::triage::{evaluate, from_sigma, rules, Rule, RuleSources};
use crate::who::Key;
use args::{RuleArgs, TriageArgs, TriageFormat};

/// A triage, ready to run.
pub struct TriageConfig {
    pub scan: ScanConfig,
    pub sources: RuleSources,
    pub rules: Vec<Rule>,
    /// What loading `--sigma` rules found: `(is a warning, text)`.
    pub sigma_messages: Vec<(bool, String)>,
    /// Sigma rules that could not be read or are unsupported.
    pub sigma_unusable: usize,
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
/// (deletions and accesses are counted per message). What is kept of each row is set
/// once the rules are known ([`keep_for`]).
pub fn scan_config(mut input: InputArgs) -> Result<ScanConfig> {
    input.filters.include_folder_bind = true;
    super::scan::scan_config(input, true, Keep::Columns(Vec::new()))
}

/// What the pipeline keeps of each row for `rules`: the values they and the findings
/// read, and `also`, as columns.
pub fn keep_for(rules: &[Rule], also: &[Key]) -> Keep {
    let mut keys = crate::triage::keys(rules);
    for k in also {
        if !keys.contains(k) {
            keys.push(*k);
        }
    }
    Keep::Columns(keys)
}

/// The rules a triage runs, and what loading the Sigma ones found.
pub struct RuleSet {
    pub sources: RuleSources,
    pub rules: Vec<Rule>,
    pub sigma_messages: Vec<(bool, String)>,
    pub sigma_unusable: usize,
}

/// Loads the rules the options name (built-in, `--rules`, `--sigma`, with `--set` and
/// `--disable` applied); a Sigma rule set's matcher is installed in `scan`, so rows are
/// matched as they are read.
pub fn load_rules(a: &RuleArgs, scan: &mut ScanConfig) -> Result<RuleSet> {
    if a.no_builtin_rules && a.rules_files.is_empty() && a.sigma.is_empty() {
        bail!("--no-builtin-rules needs rules to run: give --rules FILE or --sigma PATH");
    }
    let mut sources = RuleSources {
        no_builtin: a.no_builtin_rules,
        files: a.rules_files.clone(),
        sets: a.sets(),
        disable: a.disable.clone(),
        geoip: scan.settings.geoip.is_some(),
        ip_list: scan.settings.ip_list.is_some(),
    };
    let mut sigma_messages = Vec::new();
    let mut sigma_unusable = 0;
    let mut sigma_rules = Vec::new();
    if !a.sigma.is_empty() {
        let sigma = from_sigma::load(&a.sigma, &a.disable)?;
        // --disable of a Sigma rule's id is done: the rules of ours need not know it.
        sources.disable.retain(|d| !sigma.ids.contains(d.trim()));
        scan.settings.tagger = Some(sigma.tagger.clone());
        sigma_messages = sigma.messages;
        sigma_unusable = sigma.unusable;
        sigma_rules = sigma.rules;
    }
    let mut rules = rules::load(&sources)?;
    for r in &sigma_rules {
        if rules.iter().any(|own| own.id == r.id) {
            bail!(
                "Sigma rule '{}' ({}) has the id of another rule; rename one of them",
                r.id,
                r.sigma.as_ref().map_or("", |s| s.path.as_str())
            );
        }
    }
    rules.extend(sigma_rules);
    Ok(RuleSet {
        sources,
        rules,
        sigma_messages,
        sigma_unusable,
    })
}

/// Prints what loading the Sigma rules found.
pub fn tell_sigma(messages: &[(bool, String)], msg: &Messages) {
    for (warning, text) in messages {
        let text = crate::diag::sanitize(text);
        if *warning {
            msg.note(&format!("warning: {text}"));
        } else {
            msg.note(&text);
        }
    }
}

impl TriageConfig {
    pub fn from_args(args: TriageArgs) -> Result<TriageConfig> {
        if args.format == TriageFormat::Xlsx && args.output.is_none() && !args.list_rules {
            bail!("--format xlsx writes a workbook: give a file with -o FILE");
        }
        let mut scan = scan_config(args.input)?;
        let RuleSet {
            sources,
            rules,
            sigma_messages,
            sigma_unusable,
        } = load_rules(&args.rules, &mut scan)?;
        // The workbook's evidence sheet shows the script's columns of each row.
        let also = match args.format {
            TriageFormat::Xlsx => workbook::row_keys(),
            _ => Vec::new(),
        };
        scan.settings.keep = keep_for(&rules, &also);
        Ok(TriageConfig {
            scan,
            sources,
            rules,
            sigma_messages,
            sigma_unusable,
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
    tell_sigma(&cfg.sigma_messages, &msg);
    let target = match &cfg.output {
        None => Target::Stdout,
        Some(path) => Target::File {
            path: path.clone(),
            force: cfg.force,
        },
    };
    let outputs: Vec<_> = output_file(&target, "-o").into_iter().collect();
    let Scanned {
        outcome,
        incomplete,
        outputs: mut staged,
        ..
    } = session::scan(&cfg.scan, "Triaging", &outputs, &msg)?;
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
    let temp_dir = out_target::temp_dir(&target);
    let mut neutralised = 0;
    let mut notes = Vec::new();
    let mut write = |out: &mut (dyn std::io::Write + Send), file: bool| -> std::io::Result<()> {
        match cfg.format {
            TriageFormat::Text => out.write_all(output::text(&ev, &ctx, cfg.evidence).as_bytes()),
            TriageFormat::Json => out.write_all(&output::json(&ev, &ctx)?),
            TriageFormat::Csv => {
                neutralised = output::csv(out, &ev, &ctx, file, !cfg.raw_cells)?;
                Ok(())
            }
            TriageFormat::Xlsx => {
                notes = workbook::findings(out, &ev, &ctx, temp_dir)?;
                Ok(())
            }
        }
    };
    let announce = Announce {
        file: "Writing the findings to ",
        stdout: None,
    };
    write_output(&mut staged, &target, announce, &msg, &mut write)
        .context("cannot write the findings")?;
    staged.commit()?;
    msg.neutralised(neutralised);
    for note in notes {
        msg.error(&format!("warning: {note}"));
    }
    print_funnel(&outcome.totals, "rows triaged", &msg);
    // Thousands of findings and the columns of a whole export are freed on a thread of
    // their own while this one finishes (the process ends next), not one by one here.
    let _ = std::thread::Builder::new().spawn(move || drop((ev, outcome)));
    if cfg.scan.strict && cfg.sigma_unusable > 0 {
        msg.error(&format!(
            "--strict: {} Sigma rule{} could not be used (see above)",
            cfg.sigma_unusable,
            if cfg.sigma_unusable == 1 { "" } else { "s" }
        ));
    }
    Ok(Status::from_incomplete(
        incomplete || (cfg.scan.strict && cfg.sigma_unusable > 0),
    ))
}
