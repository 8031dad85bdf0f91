//! The command line of `mbxaudit triage`, and the rule options it shares with `report`
//! ([`RuleArgs`]): raw flags and their help, as clap sees them. The input and filter
//! options are [`crate::cmd::args::InputArgs`], flattened as in `search` and `summary`; only
//! the default of `--record-types` differs (admin, so that inbox-rule and permission
//! cmdlets are read).

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::cmd::args::InputArgs;
use crate::triage::rules::Setting;

pub const EXAMPLES: &str = "\
Examples:
  mbxaudit triage exports/
  mbxaudit triage --mailbox test1@contoso.com --start-date 2024-03-01 exports/
  mbxaudit triage --format json -o findings.json exports/
  mbxaudit triage --format csv -o findings.csv exports/        # Excel-safe cells
  mbxaudit triage --format xlsx -o findings.xlsx exports/      # Findings + Evidence sheets
  mbxaudit triage --mass-delete 20 --mass-delete-window 10m exports/
  mbxaudit triage --set new-client-ip.baseline=2d --disable new-client-app exports/
  mbxaudit triage --rules my-rules.json exports/
  mbxaudit triage --sigma sigma/rules/cloud/m365/ exports/     # Sigma rules too
  mbxaudit triage --sigma rules/ --no-builtin-rules --record-types all exports/
  mbxaudit triage --list-rules                               # the rules in force
  mbxaudit triage --list-rules --format json > my-rules.json # a rules file to edit

Triage reads admin records too (--record-types admin is its default: inbox-rule, forwarding
and permission cmdlets are among the strongest signs), and keeps FolderBind records (the
non-owner access rule counts them; --exclude-operation FolderBind drops them).

Exit status: 0 whether or not anything was found; 1 finished, but some rows or files could
not be read (all reported); 2 fatal error (nothing written).";

/// How findings are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, ValueEnum)]
pub enum TriageFormat {
    /// Worst first, for a terminal (evidence capped by --evidence).
    #[default]
    Text,
    /// One JSON document: the inputs, the rules run, every finding with all its evidence.
    Json,
    /// One row per finding (UTF-8 with BOM, Excel-safe cells).
    Csv,
    /// An Excel workbook: a Findings sheet (severity coloured) and an Evidence sheet (one
    /// row per evidence record), in the file given with -o.
    Xlsx,
}

/// Which rules run, and their thresholds: shared by `triage` and `report`.
#[derive(Args, Debug, Default)]
pub struct RuleArgs {
    /// A rules file (JSON, the format `triage --list-rules --format json` writes): its
    /// rules replace built-in rules of the same id and add the others. Repeat for several.
    #[arg(long = "rules", value_name = "FILE", help_heading = "Rules")]
    pub rules_files: Vec<PathBuf>,

    /// Sigma rules to run too: a rule file (.yml, .yaml) or a directory of them (walked).
    /// Rules for Microsoft 365 (`product: m365`, or `azure` with `service: m365`) apply;
    /// others are counted and left out; a rule that cannot be read or uses something
    /// unsupported is named with its reason. Repeat for several.
    #[arg(long = "sigma", value_name = "PATH", help_heading = "Rules")]
    pub sigma: Vec<PathBuf>,

    /// Run only the rules of the --rules files and --sigma paths.
    #[arg(long, help_heading = "Rules")]
    pub no_builtin_rules: bool,

    /// Do not run these rules (ids, comma-separated).
    #[arg(
        long,
        value_name = "IDS",
        value_delimiter = ',',
        help_heading = "Rules"
    )]
    pub disable: Vec<String>,

    /// Change a rule's setting: ID.KEY=VALUE with KEY threshold, window, baseline,
    /// min_baseline, severity or enabled (mass-deletion.threshold=100,
    /// new-client-ip.baseline=3d). Repeat for several.
    #[arg(long = "set", value_name = "ID.KEY=VALUE", help_heading = "Rules")]
    pub sets: Vec<String>,

    /// Mass deletion: messages deleted by one user in one mailbox within the window
    /// [default: 50] (= --set mass-deletion.threshold=N).
    #[arg(long, value_name = "N", help_heading = "Rules")]
    pub mass_delete: Option<u64>,

    /// Mass deletion's window [default: 1h] (30m, 1h, 1d).
    #[arg(long, value_name = "DURATION", help_heading = "Rules")]
    pub mass_delete_window: Option<String>,

    /// Non-owner access: folders and messages opened by one delegate or admin within the
    /// window [default: 25].
    #[arg(long, value_name = "N", help_heading = "Rules")]
    pub bind_count: Option<u64>,

    /// Non-owner access's window [default: 1h].
    #[arg(long, value_name = "DURATION", help_heading = "Rules")]
    pub bind_window: Option<String>,

    /// Several IPs: distinct client IPs on one mailbox within the window [default: 4].
    #[arg(long, value_name = "N", help_heading = "Rules")]
    pub ip_count: Option<u64>,

    /// Several IPs' window [default: 1h].
    #[arg(long, value_name = "DURATION", help_heading = "Rules")]
    pub ip_window: Option<String>,

    /// First-seen client IPs and applications: the baseline period at the start of each
    /// mailbox's records [default: 7d].
    #[arg(long, value_name = "DURATION", help_heading = "Rules")]
    pub baseline: Option<String>,
}

impl RuleArgs {
    /// The named threshold options as settings (each remembering the option as typed,
    /// for messages), then the `--set`s themselves.
    pub fn sets(&self) -> Vec<Setting> {
        let mut out = Vec::new();
        let mut add = |option: &str, id: &str, key: &str, value: Option<String>| {
            if let Some(v) = value {
                out.push(Setting {
                    set: format!("{id}.{key}={v}"),
                    typed: Some(format!("{option} {v}")),
                });
            }
        };
        let number = |n: Option<u64>| n.map(|n| n.to_string());
        add(
            "--mass-delete",
            "mass-deletion",
            "threshold",
            number(self.mass_delete),
        );
        add(
            "--mass-delete-window",
            "mass-deletion",
            "window",
            self.mass_delete_window.clone(),
        );
        add(
            "--bind-count",
            "non-owner-access",
            "threshold",
            number(self.bind_count),
        );
        add(
            "--bind-window",
            "non-owner-access",
            "window",
            self.bind_window.clone(),
        );
        add(
            "--ip-count",
            "many-client-ips",
            "threshold",
            number(self.ip_count),
        );
        add(
            "--ip-window",
            "many-client-ips",
            "window",
            self.ip_window.clone(),
        );
        add(
            "--baseline",
            "new-client-ip",
            "baseline",
            self.baseline.clone(),
        );
        add(
            "--baseline",
            "new-client-app",
            "baseline",
            self.baseline.clone(),
        );
        out.extend(self.sets.iter().map(|s| Setting::from(s.as_str())));
        out
    }
}

#[derive(Args, Debug)]
#[command(
    mut_arg("record_types", |a| a.default_value("admin")),
    mut_arg("inputs", |a| a.required(false).required_unless_present("list_rules")),
    mut_arg("include_folder_bind", |a| a.hide(true)),
)]
pub struct TriageArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub rules: RuleArgs,

    /// Output: text (worst first, for a terminal), json, csv (one row per finding), or
    /// xlsx (Findings and Evidence sheets; needs -o FILE).
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        default_value_t,
        help_heading = "Output"
    )]
    pub format: TriageFormat,

    /// Write the findings to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Replace the output file if it exists.
    #[arg(long, help_heading = "Output")]
    pub force: bool,

    /// Write CSV cells that start with = + - @ tab or CR untouched (by default they are
    /// prefixed with ' so that Excel shows them as text).
    #[arg(long, help_heading = "Output")]
    pub raw_cells: bool,

    /// Evidence rows (file:line) listed per finding in text output; 0 lists all. JSON and
    /// CSV list all.
    #[arg(long, value_name = "N", default_value_t = 10, help_heading = "Output")]
    pub evidence: usize,

    /// Print the rules in force (after --rules, --set, --disable) and exit; with
    /// --format json, as a rules file to copy and edit.
    #[arg(long, help_heading = "Rules")]
    pub list_rules: bool,
}
