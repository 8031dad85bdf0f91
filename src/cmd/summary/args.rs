//! The command line of `mbxaudit summary`: raw flags and their help, as clap sees them.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::cmd::args::InputArgs;
use crate::summary::Bucket;

pub const EXAMPLES: &str = "\
Examples:
  mbxaudit summary exports/
  mbxaudit summary --mailbox test1@contoso.com --by hour --top 5 exports/
  mbxaudit summary --format csv -o summary/ exports/      # one CSV per table
  mbxaudit summary --format xlsx -o summary.xlsx exports/ # one sheet per table
  mbxaudit summary --format json -o part1.json exports/2023/

Summaries of disjoint inputs (e.g. an archive summarised piecewise, on several machines)
combine exactly, distinct counts included:
  mbxaudit summary --format json -o a.json exports/a/
  mbxaudit summary --format json -o b.json exports/b/
  mbxaudit summary --merge a.json b.json

Merging adds the parts up: an event exported in both parts is counted twice (duplicates
are only removed within one run), so merge summaries of disjoint inputs.

Exit status: 0 success; 1 finished, but some rows or files could not be read (all reported);
2 fatal error (nothing written).";

/// `summary --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, ValueEnum)]
pub enum SummaryFormat {
    /// Aligned tables and a bar chart, for a terminal.
    #[default]
    Text,
    /// One CSV file per table, in the directory given with -o.
    Csv,
    /// One JSON document holding everything (mergeable with --merge).
    Json,
    /// An Excel workbook, one sheet per table (counts as numbers, times as date-times),
    /// in the file given with -o.
    Xlsx,
}

#[derive(Args, Debug)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// The inputs are JSON summaries (written by --format json): combine them into the
    /// summary of all their inputs, exactly (counts, first and last seen, distinct users,
    /// mailboxes and IPs). Events present in two parts are counted twice: merge
    /// summaries of disjoint inputs. The rules were applied when each part was made.
    #[arg(
        long,
        help_heading = "Summary",
        conflicts_with_all = [
            "start_date", "end_date", "subject", "subject_exact", "record_types",
            "include_folder_bind", "logon_types", "mailbox", "operation",
            "exclude_operation", "user", "ip", "tz", "date_order", "encoding", "strict",
            "geoip", "ip_list",
        ]
    )]
    pub merge: bool,

    /// Output: text (aligned tables and a bar chart, for a terminal), csv (one file per
    /// table, in the directory given with -o), json (one document with everything,
    /// mergeable with --merge) or xlsx (an Excel workbook, one sheet per table, in the
    /// file given with -o).
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        default_value_t,
        help_heading = "Summary"
    )]
    pub format: SummaryFormat,

    /// Where to write: a file (text, json, xlsx) or a directory (csv, created if
    /// missing) [default: standard output; csv needs a directory, xlsx a file].
    #[arg(short, long, value_name = "PATH", help_heading = "Summary")]
    pub output: Option<PathBuf>,

    /// How many users, mailboxes, client IPs and client apps the top tables show; 0 shows
    /// all. JSON always holds all.
    #[arg(long, value_name = "N", default_value_t = 10, help_heading = "Summary")]
    pub top: usize,

    /// Activity per day or per hour (UTC).
    #[arg(
        long,
        value_enum,
        value_name = "BUCKET",
        default_value_t,
        help_heading = "Summary"
    )]
    pub by: Bucket,

    /// Write CSV cells that start with = + - @ tab or CR untouched (by default they are
    /// prefixed with ' so that Excel shows them as text).
    #[arg(long, help_heading = "Summary")]
    pub raw_cells: bool,

    /// Replace output files that exist.
    #[arg(long, help_heading = "Summary")]
    pub force: bool,
}
