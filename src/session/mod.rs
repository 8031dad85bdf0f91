//! The scan session every command runs: the inputs expanded and checked against the
//! outputs, the run's opening messages, the pipeline, what happened to each input, the
//! funnel, and the status the run ends with. `search`, `summary`, `triage` and `report`
//! differ only in what they make of the kept rows ([`crate::cmd`]).
//!
//! A session tells the user what it does on stderr ([`Messages`]): notes (silenced by
//! `--quiet`) and errors (never silenced), all through [`crate::diag::say`], which
//! ignores a closed stderr. [`manifest`] is the run's record for the case file.
//!
//! The outputs a command will write are checked against the inputs and **staged**
//! ([`stage_outputs`]: a temporary file beside each) before a byte of input is read, so
//! that a refused or unwritable output fails the run first; the command writes into the
//! staged files and commits them together at the end ([`crate::output::Outputs`]).

pub mod manifest;

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::diag::{sanitize, say, PRINT_LIMIT};
use crate::funnel::Counts;
use crate::input::{self, Origin};
use crate::output::{self, OutputFile, Outputs, Target};
use crate::pipeline::rows::spill::size_name;
use crate::pipeline::{self, FileOutcome, FileStatus, Outcome, Settings};
use crate::progress::Progress;

/// The inputs and the rules, ready to scan.
pub struct ScanConfig {
    pub inputs: Vec<PathBuf>,
    pub settings: Settings,
    pub strict: bool,
    pub quiet: bool,
    pub threads: Option<usize>,
    /// Warnings about the options themselves (e.g. a subject that is not a regex).
    pub warnings: Vec<String>,
    /// Notes about how the options were read (e.g. a date whose order the other bound
    /// proved).
    pub notes: Vec<String>,
    /// `--subject` as typed, for the messages.
    pub subject: Option<String>,
    /// True when --operation, --exclude-operation, --user or --ip is given.
    pub extra_filters: bool,
    /// The rules in force, one line each (`logon types: Owner, Admin, Delegate`), for
    /// summaries to record what they summarise.
    pub scope: Vec<String>,
    /// Hash every input for the manifest (`search --manifest`): files beside the scan,
    /// from their own maps; streams (standard input, pipes) as the scan reads them.
    pub hash_inputs: bool,
}

/// Messages for the user on stderr; `note` is silenced by --quiet, `error` never.
pub struct Messages {
    pub quiet: bool,
}

impl Messages {
    pub fn note(&self, text: &str) {
        if !self.quiet {
            say(text);
        }
    }
    pub fn error(&self, text: &str) {
        say(text);
    }
}

/// The inputs read and filtered, whether any of them could not be read whole, and the
/// outputs staged for the command to write.
pub struct Scanned {
    pub outcome: Outcome,
    pub incomplete: bool,
    /// The command's output files, staged before the scan; commit them when written.
    pub outputs: Outputs,
    /// Each input's SHA-256, with [`ScanConfig::hash_inputs`] (else empty).
    pub hashes: Vec<manifest::InputHash>,
}

/// Checks every output against the inputs ([`output::check_target`]: an input, standard
/// input, not a regular file, existing without `--force`), then stages each (creating
/// the directory of those that ask for it). Nothing is written but the staged temporary
/// files, which go when the returned [`Outputs`] is dropped uncommitted.
pub fn stage_outputs(outputs: &[OutputFile], origins: &[Origin]) -> Result<Outputs> {
    for out in outputs {
        output::check_target(out, origins)?;
    }
    let mut staged = Outputs::new();
    for out in outputs {
        if out.create_dir {
            if let Some(dir) = out.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                staged.create_dir(dir)?;
            }
        }
        staged.stage(&out.path, out.force)?;
    }
    Ok(staged)
}

/// Reads the inputs through the rules, telling on stderr what it does (the `verb`:
/// "Searching", "Summarising", "Triaging", "Reporting on"). `outputs` are the files the
/// command will write: checked and staged ([`stage_outputs`]) before anything is read.
pub fn scan(
    cfg: &ScanConfig,
    verb: &str,
    outputs: &[OutputFile],
    msg: &Messages,
) -> Result<Scanned> {
    for w in &cfg.warnings {
        msg.note(&format!("warning: {w}"));
    }
    for n in &cfg.notes {
        msg.note(n);
    }
    let input::Expanded {
        origins,
        passed_over,
    } = input::expand(&cfg.inputs)?;
    if origins.is_empty() {
        let passed: Vec<String> = passed_over
            .iter()
            .map(|(p, why)| format!("\n  {}: {why}", sanitize(&p.display().to_string())))
            .collect();
        bail!(
            "no input files found in {}{}",
            describe_inputs(&cfg.inputs),
            if passed.is_empty() {
                String::new()
            } else {
                format!("; passed over:{}", passed.concat())
            }
        );
    }
    let staged = stage_outputs(outputs, &origins)?;

    let settings = &cfg.settings;
    msg.note(&format!(
        "Times without an offset are read as {} (--tz).",
        settings.zone
    ));
    let window = settings.filter.window;
    if window.start.is_some() || window.end.is_some() {
        let from = window.start.map_or("the beginning".into(), |t| t.to_iso());
        let to = window.end.map_or("the end".into(), |t| t.to_iso());
        msg.note(&format!(
            "Date window (UTC): from {from} up to (not including) {to}."
        ));
    }
    msg.note(&format!(
        "{verb} mailbox audit logs in {} input{}...",
        origins.len(),
        if origins.len() == 1 { "" } else { "s" }
    ));

    let total: u64 = origins
        .iter()
        .filter_map(|o| o.path().and_then(|p| std::fs::metadata(p).ok()))
        .map(|m| m.len())
        .sum();
    let progress = Progress::new(total, !cfg.quiet);
    // With a manifest, the files are hashed while the scan reads them: the same pages,
    // read from disk once.
    let (outcome, hashes) = if cfg.hash_inputs {
        rayon::join(
            || pipeline::run_hashing(&origins, settings, &progress, true),
            || manifest::hash_inputs(&origins),
        )
    } else {
        (pipeline::run(&origins, settings, &progress), Ok(Vec::new()))
    };
    progress.finish();
    let mut outcome = outcome?;
    let hashes = hashes?;
    // What the walk passed over is named with the inputs, and in the manifest.
    for (path, why) in passed_over {
        outcome
            .files
            .push(FileOutcome::passed_over(Origin::Walked(path), why));
    }

    let incomplete = tell_inputs(&outcome, msg);
    if let Some(s) = outcome.spilled() {
        msg.note(&format!(
            "The rows kept outgrew --memory-limit ({}): {} of them went, sorted, to {} run{} \
             in a temporary file in {} (removed when the run ends), merged as they are written.",
            size_name(s.limit),
            size_name(s.bytes),
            s.runs,
            if s.runs == 1 { "" } else { "s" },
            sanitize(&s.dir.display().to_string())
        ));
    }
    if let Some(limit) = outcome.shapes_skipped {
        msg.error(&format!(
            "warning: events exported in files of different column sets were not compared \
             (only exact duplicates were removed): comparing them needed more than {} of \
             memory, half of --memory-limit. Raise --memory-limit, or give exports of one \
             column set.",
            size_name(limit as u64)
        ));
    }
    if cfg.strict && outcome.totals.malformed > 0 {
        bail!(
            "--strict: {} malformed row{} (see above); no report written",
            outcome.totals.malformed,
            if outcome.totals.malformed == 1 {
                ""
            } else {
                "s"
            }
        );
    }
    Ok(Scanned {
        outcome,
        incomplete,
        outputs: staged,
        hashes,
    })
}

/// Prints the funnel; `kept` names the last line's rows ("rows written").
pub fn print_funnel(totals: &Counts, kept: &str, msg: &Messages) {
    msg.note("Funnel (every row read is accounted for):");
    for line in totals.lines_kept_as(kept) {
        msg.note(&line);
    }
}

pub fn describe_inputs(inputs: &[std::path::PathBuf]) -> String {
    inputs
        .iter()
        .map(|p| format!("'{}'", sanitize(&p.display().to_string())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints what happened to each file; returns true if anything could not be read.
pub fn tell_inputs(outcome: &Outcome, msg: &Messages) -> bool {
    let mut incomplete = false;
    let mut printed_bad = 0usize;
    let mut printed_warn = 0usize;
    for f in &outcome.files {
        let name = sanitize(&f.origin.display());
        match &f.status {
            FileStatus::Read {
                format,
                encoding,
                date_order,
            } => {
                let dates = match date_order {
                    Some((o, how)) => format!(", dates {} ({how})", o.label()),
                    None => String::new(),
                };
                msg.note(&format!(
                    "read {name}: {format}, {encoding}, {} row{}{dates}",
                    f.counts.read,
                    if f.counts.read == 1 { "" } else { "s" }
                ));
            }
            FileStatus::Skipped(why) => msg.note(&format!("skipped {name}: {}", sanitize(why))),
            FileStatus::Rejected(why) => {
                incomplete = true;
                msg.error(&format!("error: {name}: {}", sanitize(why)));
            }
        }
        for w in &f.warnings {
            msg.note(&format!("warning: {name}: {}", sanitize(w)));
        }
        for d in &f.malformed.first {
            if printed_bad < PRINT_LIMIT {
                msg.error(&format!("{name}:{}: {}", d.line, sanitize(&d.message)));
                printed_bad += 1;
            }
        }
        for d in &f.row_warnings.first {
            if printed_warn < PRINT_LIMIT {
                msg.note(&format!(
                    "warning: {name}:{}: {}",
                    d.line,
                    sanitize(&d.message)
                ));
                printed_warn += 1;
            }
        }
        incomplete |= f.malformed.total > 0;
    }
    let bad_total: u64 = outcome.files.iter().map(|f| f.malformed.total).sum();
    if bad_total > printed_bad as u64 {
        msg.error(&format!(
            "... and {} more malformed rows (all counted below)",
            bad_total - printed_bad as u64
        ));
    }
    let warn_total: u64 = outcome.files.iter().map(|f| f.row_warnings.total).sum();
    if warn_total > printed_warn as u64 {
        msg.note(&format!(
            "... and {} more row warnings",
            warn_total - printed_warn as u64
        ));
    }
    incomplete
}

impl Messages {
    /// Says how many cells were prefixed for Excel, if any.
    pub fn neutralised(&self, n: u64) {
        if n > 0 {
            self.note(&format!(
                "{n} cell{} starting with = + - @ tab or CR prefixed with ' so that Excel \
                 shows them as text instead of running them (--raw-cells writes them untouched).",
                if n == 1 { "" } else { "s" }
            ));
        }
    }
}

/// How a command announces where its output goes: before the file's name
/// ("Posting results to file: "), and for standard output, if at all.
pub struct Announce<'a> {
    pub file: &'a str,
    pub stdout: Option<&'a str>,
}

/// Writes one output to `target`: a file, into its staged temporary file in `outputs`
/// (renamed into place when they are committed), or standard output, after telling the
/// user where. `write` is told whether it writes a file (files get a byte-order mark
/// where the format has one; standard output does not). The writer is `Send`, so
/// that it can be handed to libraries that write from several threads (XLSX, Parquet).
pub fn write_output(
    outputs: &mut Outputs,
    target: &Target,
    announce: Announce<'_>,
    msg: &Messages,
    write: impl FnOnce(&mut (dyn Write + Send), bool) -> std::io::Result<()>,
) -> Result<()> {
    match target {
        Target::Stdout => {
            if let Some(note) = announce.stdout {
                msg.note(note);
            }
            output::write_stdout(|out| write(out, false))
        }
        Target::File { path, .. } => {
            msg.note(&format!(
                "{}{}",
                announce.file,
                sanitize(&path.display().to_string())
            ));
            outputs.staged(path)?.write_with(|out| write(out, true))
        }
    }
}

/// The output file `target` names, if it is a file; `option` is the option that named
/// it (`-o`), for messages.
pub fn output_file(target: &Target, option: &'static str) -> Option<OutputFile> {
    match target {
        Target::File { path, force } => Some(OutputFile {
            path: path.clone(),
            force: *force,
            option,
            create_dir: false,
        }),
        Target::Stdout => None,
    }
}
