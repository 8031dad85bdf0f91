//! `mbxaudit search`: the seed script's job, end to end, with its messages: the rules,
//! the script's running commentary ([`tell_steps`]), the rows in the chosen format, the
//! funnel, and the manifest (`--manifest`).

pub mod args;

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::scan::scan_config;
use crate::diag::sanitize;
use crate::exit::Status;
use crate::filter::Rule;
use crate::input::{self, Origin};
use crate::output::rows::{self, Format, Layout, Options, Profile, TimeFormat};
use crate::output::{self, Target};
use crate::pipeline::{Keep, KeptRows, MailAccess, Outcome};
use crate::session::manifest::{self, HashingWriter};
use crate::session::{self, print_funnel, write_output, Announce, Messages, ScanConfig, Scanned};
use args::SearchArgs;

/// A search, ready to run.
pub struct SearchConfig {
    pub scan: ScanConfig,
    pub target: Target,
    pub format: Format,
    pub profile: Profile,
    pub newest_first: bool,
    pub time_format: TimeFormat,
    /// `--raw-cells`: write formula-like cells untouched.
    pub raw_cells: bool,
    /// `--manifest`: where to write the run's manifest (`auto` resolved).
    pub manifest: Option<PathBuf>,
    /// `--force`: replace the manifest too (the report's is in [`Target::File`]).
    pub force: bool,
}

impl SearchConfig {
    pub fn from_args(args: SearchArgs) -> Result<SearchConfig> {
        let keep = Keep::Rows {
            fields: args.format.fields(args.columns.columns(), args.time_format),
            newest_first: args.newest_first,
        };
        let mut scan = scan_config(args.input, args.expand_items, keep)?;
        let target = if args.stdout || (args.output.is_none() && args.format == Format::Table) {
            Target::Stdout
        } else {
            let path = args.output.unwrap_or_else(|| {
                let stamp = chrono::Local::now().format("%y%m%d_%H%M%S");
                PathBuf::from(format!(
                    "AuditLogResults{stamp}.{}",
                    args.format.extension()
                ))
            });
            Target::File {
                path,
                force: args.force,
            }
        };
        let manifest = args
            .manifest
            .map(|m| manifest::resolve_path(m, &target))
            .transpose()?;
        scan.hash_streams = manifest.is_some();
        Ok(SearchConfig {
            scan,
            manifest,
            force: args.force,
            target,
            format: args.format,
            profile: args.columns,
            newest_first: args.newest_first,
            time_format: args.time_format,
            raw_cells: args.raw_cells,
        })
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
            session::scan(&cfg.scan, "Searching", &outputs, force, &msg)?,
            Vec::new(),
        ),
        Some(_) => {
            // The inputs are hashed while the scan reads them: the same pages, read from
            // disk once. The outputs are checked first, so that a refused output fails
            // before any hashing.
            let origins = input::expand(&cfg.scan.inputs)?.origins;
            let inputs: Vec<&Path> = origins.iter().filter_map(Origin::path).collect();
            for path in &outputs {
                output::check_target(path, force, &inputs)?;
            }
            let (scanned, hashes) = rayon::join(
                || session::scan(&cfg.scan, "Searching", &outputs, force, &msg),
                || manifest::hash_inputs(&origins),
            );
            (scanned?, hashes)
        }
    };
    let Scanned {
        outcome,
        incomplete,
    } = scanned;
    tell_steps(&cfg.scan, &outcome, &msg);

    let sources: Vec<String> = outcome.files.iter().map(|f| f.origin.display()).collect();
    let layout = Layout {
        columns: cfg.profile.columns(),
        time: cfg.time_format,
        sources: &sources,
    };
    let mut neutralised = 0;
    // The rows are hashed as they are written, for the manifest.
    let mut written = None;
    let announce = Announce {
        file: "Posting results to file: ",
        stdout: Some("Writing results to standard output."),
    };
    write_output(&cfg.target, announce, &msg, |out, file| {
        let mut out = match cfg.manifest {
            Some(_) => HashingWriter::new(out),
            None => HashingWriter::counting(out),
        };
        let opts = Options {
            layout,
            bom: file,
            excel_safe: !cfg.raw_cells,
        };
        let writer = &mut *cfg.format.writer(opts);
        neutralised = match &outcome.rows {
            KeptRows::Rows(kept) => rows::write_rows(writer, &mut out, kept)?,
            KeptRows::Table(_) => rows::write_all(writer, &mut out, &[])?,
        };
        written = Some(out.finish());
        Ok(())
    })?;
    msg.neutralised(neutralised);
    print_funnel(&outcome.totals, "rows written", &msg);
    if let (Some(path), Some(written)) = (&cfg.manifest, written) {
        write_manifest(&cfg, path, started, &outcome, &hashes, written, &msg)?;
    }
    Ok(Status::from_incomplete(incomplete))
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
        date_order: settings.date_order.map(session::order_label),
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
        lines: outcome.lines(),
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
    output::write_atomic(path, cfg.force, |out| out.write_all(&bytes))
}

/// A clap value's name as typed on the command line (`csv`, `full`, `iso`...).
fn value_name(v: impl clap::ValueEnum) -> String {
    v.to_possible_value()
        .map_or_else(String::new, |p| p.get_name().to_string())
}

/// The seed script's running commentary, with our numbers.
fn tell_steps(cfg: &ScanConfig, outcome: &Outcome, msg: &Messages) {
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
    let expanded = outcome.lines();
    if cfg.settings.expand_items && expanded != t.written() {
        msg.note(&format!(
            "{expanded} report rows: one per message (--expand-items)."
        ));
    }
    let mut access = MailAccess::default();
    for f in &outcome.files {
        access.add(f.mail_access);
    }
    let MailAccess { bind, sync } = access;
    if bind + sync > 0 {
        msg.note(&format!(
            "MailItemsAccessed in the report: {bind} Bind (messages opened), {sync} Sync \
             (folders synchronised: every message in them may have been downloaded)."
        ));
    }
}
