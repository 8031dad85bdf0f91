//! The command line of `mbxaudit report`: raw flags and their help. Inputs, filters and
//! rules are those of `triage` (admin records read by default); the outputs are an HTML
//! page (`--html`), an Excel workbook (`--xlsx`), or both (at least one).

use std::path::PathBuf;

use clap::Args;

use crate::cmd::args::InputArgs;
use crate::cmd::triage::args::RuleArgs;
use crate::summary::Bucket;

pub const EXAMPLES: &str = "\
Examples:
  mbxaudit report --html report.html exports/
  mbxaudit report --html eve.html --mailbox test1@contoso.com --start-date 2024-03-01 exports/
  mbxaudit report --html report.html --by hour --mass-delete 20 exports/
  mbxaudit report --xlsx report.xlsx exports/                  # the same as a workbook
  mbxaudit report --html report.html --xlsx report.xlsx exports/

The page is one self-contained file: inline CSS, inline SVG charts and a small inline script
(the timeline's text filter); no fonts, styles, scripts or images are loaded from anywhere,
and its Content-Security-Policy forbids any network access. It opens on an air-gapped
machine in any current browser. Every value from the exports is HTML-escaped.

Sections: the inputs and their funnel, the findings of `mbxaudit triage`, activity over time
per operation, operations, logon types, client IPs, users, mailboxes and client apps, and
the timeline of every row kept (filter it by any text; rows that are evidence of a finding
are marked).

The workbook (--xlsx) has the sheets Overview, Findings, Evidence, the summary tables,
Inputs and Timeline: headers frozen, autofilters set, times as date-times (UTC), counts as
numbers, text never run as a formula. The same inputs give the same bytes (its creation
time is fixed to 1980-01-01).

Exit status: 0 success (with or without findings); 1 finished, but some rows or files could
not be read (all reported); 2 fatal error (nothing written).";

#[derive(Args, Debug)]
#[command(
    mut_arg("record_types", |a| a.default_value("admin")),
    mut_arg("include_folder_bind", |a| a.hide(true)),
    group(clap::ArgGroup::new("outputs").args(["html", "xlsx"]).required(true).multiple(true)),
)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub rules: RuleArgs,

    /// Write the HTML report to FILE (atomically).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub html: Option<PathBuf>,

    /// Write the report as an Excel workbook to FILE (atomically): Overview, Findings,
    /// Evidence, the summary tables, Inputs and Timeline.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub xlsx: Option<PathBuf>,

    /// Replace the output files if they exist.
    #[arg(long, help_heading = "Output")]
    pub force: bool,

    /// Activity buckets: day or hour (UTC) [default: hour when the records span at most 14
    /// days, else day].
    #[arg(long, value_enum, value_name = "BUCKET", help_heading = "Output")]
    pub by: Option<Bucket>,

    /// Rows of the users, mailboxes, client IPs and client apps tables; 0 shows all.
    #[arg(long, value_name = "N", default_value_t = 50, help_heading = "Output")]
    pub top: usize,

    /// The report's title [default: Mailbox audit report].
    #[arg(long, value_name = "TEXT", help_heading = "Output")]
    pub title: Option<String>,
}
