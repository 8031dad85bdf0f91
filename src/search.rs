//! `mbxaudit search`: the seed script's job, end to end, with its messages.
//!
//! [`scan`] (inputs → rules → merged rows, with the per-file messages) is shared with
//! `summary`; [`run`] adds the script's commentary and writes the report in the chosen
//! format.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Result};

use crate::config::{ScanConfig, SearchConfig};
use crate::diag::{sanitize, PRINT_LIMIT};
use crate::filter::Rule;
use crate::funnel::Counts;
use crate::input::{self, Origin};
use crate::manifest;
use crate::pipeline::{self, FileStatus, Outcome};
use crate::progress::Progress;
use crate::report::{self, csv::CsvOptions, json::Shape, Format, Layout, Target};

/// How a finished run went, for the exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every input read, every row accounted for.
    Clean,
    /// Finished, but some rows or files could not be read (all reported).
    Incomplete,
}

/// Messages for the user on stderr; `note` is silenced by --quiet, `error` never.
pub(crate) struct Messages {
    pub quiet: bool,
}

impl Messages {
    pub fn note(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }
    pub fn error(&self, text: &str) {
        eprintln!("{text}");
    }
}

/// The inputs read and filtered, and whether any of them could not be read whole.
pub(crate) struct Scanned {
    pub outcome: Outcome,
    pub incomplete: bool,
}

/// Reads the inputs through the rules, telling on stderr what it does (the `verb`:
/// "Searching", "Summarising"); shared by `search` and `summary`. `outputs` are the
/// files the command will write: each is refused if it exists (without `force`) or is
/// one of the inputs, before anything is read.
pub(crate) fn scan(
    cfg: &ScanConfig,
    verb: &str,
    outputs: &[&Path],
    force: bool,
    msg: &Messages,
) -> Result<Scanned> {
    for w in &cfg.warnings {
        msg.note(&format!("warning: {w}"));
    }
    let origins = input::expand(&cfg.inputs)?;
    if origins.is_empty() {
        bail!("no input files found in {}", describe_inputs(&cfg.inputs));
    }
    let inputs: Vec<&Path> = origins.iter().filter_map(Origin::path).collect();
    for path in outputs {
        report::check_target(path, force, &inputs)?;
    }

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
    let outcome = pipeline::run_hashing(&origins, settings, &progress, cfg.hash_streams);
    progress.finish();
    let outcome = outcome?;

    let incomplete = report_files(&outcome, msg);
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
    })
}

/// Prints the funnel; `kept` names the last line's rows ("rows written").
pub(crate) fn print_funnel(totals: &Counts, kept: &str, msg: &Messages) {
    msg.note("Funnel (every row read is accounted for):");
    for line in totals.lines_kept_as(kept) {
        msg.note(&line);
    }
}

pub fn run(cfg: SearchConfig) -> Result<Status> {
    let started = manifest::now();
    let msg = Messages {
        quiet: cfg.scan.quiet,
    };
    let mut outputs: Vec<&Path> = match &cfg.target {
        Target::File { path, .. } => vec![path.as_path()],
        Target::Stdout => Vec::new(),
    };
    outputs.extend(cfg.manifest.as_deref());
    let force = cfg.force;
    let (scanned, hashes) = match &cfg.manifest {
        None => (
            scan(&cfg.scan, "Searching", &outputs, force, &msg)?,
            Vec::new(),
        ),
        Some(_) => {
            // The inputs are hashed while the scan reads them: the same pages, read from
            // disk once. The outputs are checked first, so that a refused output fails
            // before any hashing.
            let origins = input::expand(&cfg.scan.inputs)?;
            let inputs: Vec<&Path> = origins.iter().filter_map(Origin::path).collect();
            for path in &outputs {
                report::check_target(path, force, &inputs)?;
            }
            let (scanned, hashes) = rayon::join(
                || scan(&cfg.scan, "Searching", &outputs, force, &msg),
                || manifest::hash_inputs(&origins),
            );
            (scanned?, hashes)
        }
    };
    let Scanned {
        mut outcome,
        incomplete,
    } = scanned;
    report_steps(&cfg.scan, &outcome, &msg);
    if cfg.newest_first {
        outcome.rows.reverse();
    }

    let sources: Vec<String> = outcome.files.iter().map(|f| f.origin.display()).collect();
    let layout = Layout {
        columns: cfg.profile.columns(),
        time: cfg.time_format,
        sources: &sources,
    };
    let rows = &outcome.rows;
    let mut neutralised = 0;
    let mut write = |out: &mut dyn Write, bom: bool| -> std::io::Result<()> {
        let excel_safe = !cfg.raw_cells;
        match cfg.format {
            Format::Csv => {
                let opts = CsvOptions {
                    layout,
                    bom,
                    excel_safe,
                };
                neutralised = report::csv::write(out, rows, opts)?;
            }
            Format::Jsonl => report::json::write(out, rows, layout, Shape::Lines)?,
            Format::Json => report::json::write(out, rows, layout, Shape::Array)?,
            Format::Table => report::table::write(out, rows, layout)?,
            Format::Timesketch => {
                neutralised = report::timesketch::write(out, rows, layout, excel_safe)?;
            }
        }
        Ok(())
    };
    // The report is hashed as it is written, for the manifest.
    let mut written = None;
    let mut write_hashed = |out: &mut dyn Write, bom: bool| -> std::io::Result<()> {
        let mut out = manifest::HashingWriter::new(out);
        write(&mut out, bom)?;
        written = Some(out.finish());
        Ok(())
    };
    match &cfg.target {
        Target::Stdout => {
            msg.note("Writing results to standard output.");
            report::write_stdout(|out: &mut dyn Write| write_hashed(out, false))?;
        }
        Target::File { path, force } => {
            msg.note(&format!(
                "Posting results to file: {}",
                sanitize(&path.display().to_string())
            ));
            report::write_atomic(path, *force, |out| write_hashed(out, true))?;
        }
    }
    if neutralised > 0 {
        msg.note(&format!(
            "{neutralised} cell{} starting with = + - @ tab or CR prefixed with ' so that Excel \
             shows them as text instead of running them (--raw-cells writes them untouched).",
            if neutralised == 1 { "" } else { "s" }
        ));
    }
    print_funnel(&outcome.totals, "rows written", &msg);
    if let (Some(path), Some(written)) = (&cfg.manifest, written) {
        write_manifest(&cfg, path, started, &outcome, &hashes, written, &msg)?;
    }
    Ok(if incomplete {
        Status::Incomplete
    } else {
        Status::Clean
    })
}

/// Writes the run's manifest (atomically, like the report) once the report is in place.
fn write_manifest(
    cfg: &SearchConfig,
    path: &Path,
    started: String,
    outcome: &Outcome,
    hashes: &[manifest::InputHash],
    written: manifest::Written,
    msg: &Messages,
) -> Result<()> {
    for name in manifest::changed_inputs(outcome, hashes) {
        msg.error(&format!(
            "warning: {}: changed while it was read (its size differs between the hash and \
             the scan); the manifest says so",
            sanitize(&name)
        ));
    }
    let settings = &cfg.scan.settings;
    let info = manifest::SettingsInfo {
        time_zone: settings.zone.to_string(),
        date_order: settings.date_order.map(order_label),
        encoding: settings.encoding.map(|e| e.name().to_string()),
        strict: cfg.scan.strict,
        rules: cfg.scan.scope.clone(),
        report_format: value_name(cfg.format),
        columns: value_name(cfg.profile),
        time_format: value_name(cfg.time_format),
        newest_first: cfg.newest_first,
        expand_items: settings.expand_items,
        raw_cells: cfg.raw_cells,
    };
    let report_path = match &cfg.target {
        Target::File { path, .. } => Some(path.as_path()),
        Target::Stdout => None,
    };
    let report = manifest::ReportInfo {
        path: report_path,
        written,
        lines: report::lines(&outcome.rows).count() as u64,
    };
    let run = manifest::RunInfo {
        started,
        finished: manifest::now(),
        threads: rayon::current_num_threads(),
    };
    let bytes = manifest::render(&run, &info, outcome, hashes, &report)?;
    msg.note(&format!(
        "Manifest (inputs and report with SHA-256): {}",
        sanitize(&path.display().to_string())
    ));
    report::write_atomic(path, cfg.force, |out| out.write_all(&bytes))
}

/// A clap value's name as typed on the command line (`csv`, `full`, `iso`...).
fn value_name(v: impl clap::ValueEnum) -> String {
    v.to_possible_value()
        .map_or_else(String::new, |p| p.get_name().to_string())
}

fn describe_inputs(inputs: &[std::path::PathBuf]) -> String {
    inputs
        .iter()
        .map(|p| format!("'{}'", sanitize(&p.display().to_string())))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Prints what happened to each file; returns true if anything could not be read.
pub(crate) fn report_files(outcome: &Outcome, msg: &Messages) -> bool {
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
                    Some((o, how)) => format!(", dates {} ({how})", order_label(*o)),
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

fn order_label(o: crate::datetime::DateOrder) -> &'static str {
    match o {
        crate::datetime::DateOrder::Mdy => "month/day/year",
        crate::datetime::DateOrder::Dmy => "day/month/year",
    }
}

/// The seed script's running commentary, with our numbers.
fn report_steps(cfg: &ScanConfig, outcome: &Outcome, msg: &Messages) {
    let t = &outcome.totals;
    let filter = &cfg.settings.filter;
    let logon = match &filter.logon_types {
        Some(types) => format!("logon types {}", types.join(", ")),
        None => "all logon types".into(),
    };
    msg.note(&format!(
        "{} Total entries Found (in the date window, {logon}{})",
        t.left_after(Rule::Mailbox),
        if filter.mailboxes.is_empty() {
            ""
        } else {
            ", selected mailboxes"
        }
    ));
    if !filter.include_folder_bind {
        msg.note("Removing FolderBind operations.");
        msg.note(&format!(
            "Filtered to {} Entries",
            t.left_after(Rule::FolderBind)
        ));
    }
    if cfg.extra_filters {
        msg.note("Applying --operation / --exclude-operation / --user / --ip.");
        msg.note(&format!(
            "Filtered to {} Entries",
            t.left_after(Rule::ClientIp)
        ));
    }
    if let Some(s) = &cfg.subject {
        msg.note(&format!("Searching for Subject: {}", sanitize(s)));
        msg.note(&format!(
            "Filtered to {} Entries",
            t.left_after(Rule::Subject)
        ));
    }
    if t.duplicates > 0 {
        msg.note(&format!(
            "Removed {} duplicate entries (the same event in several exports).",
            t.duplicates
        ));
    }
    msg.note(&format!("{} entries in the report.", t.written()));
    let expanded: usize = outcome.rows.iter().map(|r| r.items.len().max(1)).sum();
    if cfg.settings.expand_items && expanded as u64 != t.written() {
        msg.note(&format!(
            "{expanded} report rows: one per message (--expand-items)."
        ));
    }
    let [bind, sync] = outcome.files.iter().fold([0, 0], |a, f| {
        [a[0] + f.mail_access[0], a[1] + f.mail_access[1]]
    });
    if bind + sync > 0 {
        msg.note(&format!(
            "MailItemsAccessed in the report: {bind} Bind (messages opened), {sync} Sync \
             (folders synchronised: every message in them may have been downloaded)."
        ));
    }
}
