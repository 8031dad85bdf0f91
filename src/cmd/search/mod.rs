//! `mbxaudit search`: the seed script's job, end to end, with its messages: the rules,
//! the script's running commentary ([`tell_steps`]), the rows in the chosen format, the
//! funnel, and the manifest (`--manifest`).

pub mod args;

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Result};

use super::scan::scan_config;
use crate::diag::sanitize;
use crate::exit::Status;
use crate::filter::Rule;
use crate::output::background::in_background;
use crate::output::rows::{self, Format, Layout, Options, Profile, TimeFormat};
use crate::output::{OutputFile, Target};
use crate::pipeline::{Keep, KeptRows, MailAccess, Outcome};
use crate::session::manifest::{self, HashingWriter};
use crate::session::{
    self, output_file, print_funnel, write_output, Announce, Messages, ScanConfig, Scanned,
};
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
        let mut scan = scan_config(args.input, args.expand_items, Keep::ALL)?;
        // What the output reads of each row (the enrichment columns only when enriched).
        let columns = args.columns.columns(scan.settings.enriches());
        scan.settings.keep = Keep::Rows {
            fields: args.format.fields(columns, args.time_format),
            newest_first: args.newest_first,
        };
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
        if target == Target::Stdout && args.format.is_binary() && std::io::stdout().is_terminal() {
            bail!(
                "--format {} is binary: give a file with -o FILE, or redirect standard output",
                value_name(args.format)
            );
        }
        if args.format.is_binary() && args.time_format == TimeFormat::Original {
            scan.warnings.push(format!(
                "--time-format original does not apply to --format {}: LastAccessed is \
                 written as a date-time (UTC)",
                value_name(args.format)
            ));
        }
        let manifest = args
            .manifest
            .map(|m| manifest::resolve_path(m, &target))
            .transpose()?;
        scan.hash_inputs = manifest.is_some();
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
    // The report and the manifest are staged before the scan, and committed together.
    let mut outputs: Vec<OutputFile> = output_file(&cfg.target, "-o").into_iter().collect();
    outputs.extend(cfg.manifest.as_ref().map(|path| OutputFile {
        path: path.clone(),
        force: cfg.force,
        option: "--manifest",
        create_dir: false,
    }));
    let Scanned {
        outcome,
        incomplete,
        outputs: mut staged,
        hashes,
    } = session::scan(&cfg.scan, "Searching", &outputs, &msg)?;
    tell_steps(&cfg.scan, &outcome, &msg);

    let sources: Vec<String> = outcome.files.iter().map(|f| f.origin.display()).collect();
    let layout = Layout {
        columns: cfg.profile.columns(cfg.scan.settings.enriches()),
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
    let mut notes = Vec::new();
    write_output(&mut staged, &cfg.target, announce, &msg, |out, file| {
        let mut out = match cfg.manifest {
            Some(_) => HashingWriter::new(out),
            None => HashingWriter::counting(out),
        };
        let opts = Options {
            layout,
            bom: file,
            excel_safe: !cfg.raw_cells,
            temp_dir: crate::output::temp_dir(&cfg.target),
        };
        let mut writer = cfg.format.writer(opts);
        neutralised = match &outcome.rows {
            // Written (and hashed) on a thread of their own while the next rows are
            // formatted.
            KeptRows::Rows(kept) => {
                in_background(&mut out, |out| rows::write_rows(&mut *writer, out, kept))?
            }
            KeptRows::Table(_) => rows::write_all(&mut *writer, &mut out, &[])?,
        };
        notes = writer.notes();
        written = Some(out.finish());
        Ok(())
    })?;
    msg.neutralised(neutralised);
    for note in notes {
        msg.error(&format!("warning: {note}"));
    }
    print_funnel(&outcome.totals, "rows written", &msg);
    if let (Some(path), Some(written)) = (&cfg.manifest, written) {
        let bytes = manifest_bytes(&cfg, started, &outcome, &hashes, written, &msg)?;
        msg.note(&format!(
            "Manifest (inputs and report with SHA-256): {}",
            sanitize(&path.display().to_string())
        ));
        staged
            .staged(path)?
            .write_with(|out| out.write_all(&bytes))?;
    }
    staged.commit()?;
    Ok(Status::from_incomplete(incomplete))
}

/// The run's manifest, once the report is written (its SHA-256 is that of the bytes
/// written).
fn manifest_bytes(
    cfg: &SearchConfig,
    started: String,
    outcome: &Outcome,
    hashes: &[manifest::InputHash],
    written: manifest::Written,
    msg: &Messages,
) -> Result<Vec<u8>> {
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
        date_order: settings.date_order.map(crate::datetime::DateOrder::label),
        encoding: settings.encoding.map(|e| e.name().to_string()),
        strict: cfg.scan.strict,
        rules: cfg.scan.scope.clone(),
        report_format: value_name(cfg.format),
        columns: value_name(cfg.profile),
        time_format: value_name(cfg.time_format),
        newest_first: cfg.newest_first,
        expand_items: settings.expand_items,
        raw_cells: cfg.raw_cells,
        geoip: settings.geoip.as_ref().map_or_else(Vec::new, |db| {
            db.describe().iter().map(manifest::GeoDb::of).collect()
        }),
        ip_list: settings.ip_list.as_ref().map(|l| l.name().to_string()),
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
    manifest::render(&run, &info, outcome, hashes, &report)
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
    let exact = t.duplicates.saturating_sub(t.other_shapes);
    if exact > 0 {
        msg.note(&format!(
            "Removed {exact} duplicate entries (the same event in several exports)."
        ));
    }
    if t.other_shapes > 0 {
        msg.note(&format!(
            "Merged {} entries with the same event in an export of other columns (every \
             column both hold agrees); the record with more columns was kept.",
            t.other_shapes
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
