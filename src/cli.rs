//! The command line, as clap sees it: raw flags and their help, nothing compiled yet
//! (that is [`crate::config`]'s job).
//!
//! `search` and `summary` read the same inputs through the same rules, so they share one
//! [`InputArgs`] (flattened into both); only their output options differ.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::datetime::{DateOrder, Zone};
use crate::report::{Format, Profile, TimeFormat};
use crate::summary::{Bucket, SummaryFormat};

#[derive(Parser, Debug)]
#[command(
    name = "mbxaudit",
    version,
    long_version = crate::build_info::long_version(),
    about = "Search exported Exchange / Microsoft 365 mailbox audit logs offline",
    long_about = "Search exported Exchange / Microsoft 365 mailbox audit logs offline.\n\n\
        mbxaudit does the job of Microsoft's Run-MailboxAuditLogSearcher.ps1 (around \
        Search-MailboxAuditLog) over files exported earlier, on a machine with no connection \
        to the tenant: it applies the script's rules and writes the script's report, merged \
        across many exports, sorted and de-duplicated. Inputs are opened read-only."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Filter exports and write the seed script's report (AuditLogResults*.csv).
    #[command(after_long_help = SEARCH_EXAMPLES)]
    Search(SearchArgs),
    /// Summarise exports: per operation, per logon type, top users, mailboxes, client IPs
    /// and apps, activity per day or hour.
    #[command(after_long_help = SUMMARY_EXAMPLES)]
    Summary(SummaryArgs),
    /// Evaluate the triage rules (mass deletion, non-owner access, inbox rules, forwarding,
    /// SendAs, Sync and throttling, new client IPs and apps, permission changes) and list
    /// the findings, worst first, with their evidence rows.
    #[command(after_long_help = crate::triage::args::EXAMPLES)]
    Triage(crate::triage::args::TriageArgs),
    /// Write one self-contained HTML report: inputs and funnel, findings, activity charts,
    /// tables and the filterable timeline.
    #[command(after_long_help = crate::html::args::EXAMPLES)]
    Report(crate::html::args::ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_long_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Print a manual page (roff), generated from these definitions.
    #[command(after_long_help = MAN_EXAMPLES)]
    Man(ManArgs),
}

const SEARCH_EXAMPLES: &str = "\
Examples (the seed script's, offline):
  # .\\Run-MailboxAuditLogSearcher.ps1 -Mailbox test1@contoso.com -StartDate 04/10/17 -EndDate 04/27/17
  mbxaudit search --mailbox test1@contoso.com --start-date 04/10/17 --end-date 04/27/17 exports/

  # ... -IncludeFolderBind
  mbxaudit search --include-folder-bind exports/

  # ... -Subject \"Good News\"
  mbxaudit search --subject \"Good News\" exports/

  # ... -ReturnObject (print instead of writing a file)
  mbxaudit search --stdout exports/

Beyond the script:
  mbxaudit search --operation HardDelete,SoftDelete --ip 203.0.113.0/24 --tz Europe/Berlin a.csv b.csv
  mbxaudit search --format table --stdout --newest-first exports/
  mbxaudit search --format jsonl --columns full -o events.jsonl exports/
  mbxaudit search --format timesketch --raw-cells -o timeline.csv exports/
  mbxaudit search --manifest auto exports/    # + AuditLogResults<time>.csv.manifest.json

Exit status: 0 success; 1 finished, but some rows or files could not be read (all reported);
2 fatal error (nothing written).";

const SUMMARY_EXAMPLES: &str = "\
Examples:
  mbxaudit summary exports/
  mbxaudit summary --mailbox test1@contoso.com --by hour --top 5 exports/
  mbxaudit summary --format csv -o summary/ exports/      # one CSV per table
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

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  mbxaudit completions bash > ~/.local/share/bash-completion/completions/mbxaudit
  mbxaudit completions zsh > ~/.zfunc/_mbxaudit
  mbxaudit completions fish > ~/.config/fish/completions/mbxaudit.fish
  mbxaudit completions powershell >> $PROFILE";

const MAN_EXAMPLES: &str = "\
Examples:
  mbxaudit man > mbxaudit.1
  mbxaudit man summary > mbxaudit-summary.1
  mbxaudit man | man -l -";

/// The inputs, the rules and how to read: the same for `search` and `summary`.
#[derive(Args, Debug)]
pub struct InputArgs {
    /// Export files or directories (walked recursively; files recognised by content).
    /// `-` reads standard input (streamed in bounded memory, as are pipes). With
    /// `summary --merge`: JSON summaries.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub filters: FilterArgs,

    #[command(flatten)]
    pub reading: ReadArgs,

    /// Print nothing on stderr but errors.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,

    /// Worker threads [default: one per core].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
}

/// The rules (the seed script's first).
#[derive(Args, Debug)]
pub struct FilterArgs {
    /// Keep events at or after this time: an ISO date or date-time (2017-04-10,
    /// 2017-04-10T08:00), or a date as the exports write it (04/10/17, 10.04.2017), read in
    /// --date-order. A two-digit year yy means 20yy.
    #[arg(long, value_name = "DATE", help_heading = "Filters")]
    pub start_date: Option<String>,

    /// Keep events up to this time. A date without a time includes that whole day.
    #[arg(long, value_name = "DATE", help_heading = "Filters")]
    pub end_date: Option<String>,

    /// Keep events whose subject matches PATTERN as a case-insensitive regular expression,
    /// or equals it (the script's `-match ... -or -eq`). A PATTERN that is not a valid
    /// regex is compared exactly.
    #[arg(long, value_name = "PATTERN", help_heading = "Filters")]
    pub subject: Option<String>,

    /// Compare --subject exactly (case-insensitive), never as a regex.
    #[arg(long, requires = "subject", help_heading = "Filters")]
    pub subject_exact: bool,

    /// Unified Audit Log records to keep: mailbox (Exchange mailbox records; legacy
    /// exports are all mailbox records), admin (also ExchangeAdmin cmdlets such as
    /// New-InboxRule, Set-Mailbox, with their parameters in the Subject column), or all.
    /// Records of other workloads are skipped and counted by workload.
    #[arg(
        long,
        value_enum,
        value_name = "FAMILY",
        default_value_t,
        help_heading = "Filters"
    )]
    pub record_types: crate::filter::RecordTypes,

    /// Keep FolderBind events (dropped by default, as the script does).
    #[arg(long, help_heading = "Filters")]
    pub include_folder_bind: bool,

    /// Logon types to keep, comma-separated, or `all`.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "Owner,Admin,Delegate",
        help_heading = "Filters"
    )]
    pub logon_types: Vec<String>,

    /// Keep events of this mailbox (MailboxOwnerUPN, MailboxResolvedOwnerName or
    /// MailboxGuid; case-insensitive). Repeat for several.
    #[arg(long, value_name = "MAILBOX", help_heading = "Filters")]
    pub mailbox: Vec<String>,

    /// Keep only these operations (comma-separated, case-insensitive).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub operation: Vec<String>,

    /// Drop these operations (comma-separated, case-insensitive).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub exclude_operation: Vec<String>,

    /// Keep events by this user (LogonUserDisplayName or LogonUserSid; case-insensitive).
    /// Repeat for several.
    #[arg(long, value_name = "USER", help_heading = "Filters")]
    pub user: Vec<String>,

    /// Keep events from this client IP (ClientIPAddress / ClientIP; ports ignored) or CIDR
    /// block (203.0.113.0/24). Comma-separated or repeated.
    #[arg(
        long,
        value_name = "IP",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub ip: Vec<String>,
}

/// How the exports are read.
#[derive(Args, Debug)]
pub struct ReadArgs {
    /// Time zone of times written without an offset (LastAccessed in Export-Csv is the
    /// exporting machine's local time): UTC, a fixed offset (+02:00) or an IANA name
    /// (Europe/Berlin, DST-aware).
    #[arg(long, value_name = "ZONE", default_value = "UTC", value_parser = Zone::parse, help_heading = "Reading")]
    pub tz: Zone,

    /// Day/month order of culture-formatted dates (mdy: 4/10/2017 is April 10; dmy: 10
    /// April). By default each file's own dates decide; with no proof, mdy (with a warning).
    #[arg(long, value_name = "ORDER", help_heading = "Reading")]
    pub date_order: Option<DateOrder>,

    /// Read inputs in this encoding instead of detecting it (BOM, UTF-16 zero bytes, else
    /// UTF-8), e.g. windows-1252 for `Export-Csv -Encoding Default` files.
    #[arg(long, value_name = "LABEL", help_heading = "Reading")]
    pub encoding: Option<String>,

    /// Stop with an error (exit 2, nothing written) if any row is malformed.
    #[arg(long, help_heading = "Reading")]
    pub strict: bool,
}

#[derive(Args, Debug)]
pub struct SearchArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Report file [default: AuditLogResults<yyMMdd_HHmmss>.<ext> in the current
    /// directory, the extension following --format; --format table: standard output].
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Write the report to standard output instead of a file (the script's -ReturnObject).
    #[arg(
        long,
        alias = "return-object",
        conflicts_with = "output",
        help_heading = "Output"
    )]
    pub stdout: bool,

    /// Report format: csv (the script's), jsonl or json (one object per row, keys = column
    /// names), table (aligned for a terminal), timesketch (Timesketch's CSV import).
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        default_value_t,
        help_heading = "Output"
    )]
    pub format: Format,

    /// Columns: script (the seed script's 15) or full (every normalised field, then
    /// SourceFile and SourceLine: where each row was read).
    #[arg(
        long,
        value_enum,
        value_name = "PROFILE",
        default_value_t,
        help_heading = "Output"
    )]
    pub columns: Profile,

    /// Newest events first (the cmdlet's order); by default oldest first.
    #[arg(long, help_heading = "Output")]
    pub newest_first: bool,

    /// Write one row per message a record touched (MailItemsAccessed folder items, the
    /// affected items of group records) instead of one per record.
    #[arg(long, help_heading = "Output")]
    pub expand_items: bool,

    /// Write cells that start with = + - @ tab or CR untouched (csv, timesketch). By
    /// default they are prefixed with ' so that Excel shows them as text instead of
    /// running them as formulas (subjects are written by whoever sent the mail). JSON and
    /// table output are never changed.
    #[arg(long, help_heading = "Output")]
    pub raw_cells: bool,

    /// Replace the output file if it exists.
    #[arg(long, help_heading = "Output")]
    pub force: bool,

    /// Also write a manifest of the run (JSON): the tool version, the command line, start
    /// and end times, each input's size, SHA-256, format, encoding, date order, time zone
    /// and row funnel, and the report's SHA-256. `auto` writes it beside the report, as
    /// <report name>.manifest.json. The report itself holds no timestamp, so the same run
    /// gives the same report, byte for byte.
    #[arg(long, value_name = "FILE|auto", help_heading = "Output")]
    pub manifest: Option<PathBuf>,

    /// How LastAccessed is written: iso (UTC, 2017-04-10T15:22:11Z) or original (the
    /// export's own text).
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        default_value_t,
        help_heading = "Output"
    )]
    pub time_format: TimeFormat,
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
        ]
    )]
    pub merge: bool,

    /// Output: text (aligned tables and a bar chart, for a terminal), csv (one file per
    /// table, in the directory given with -o) or json (one document with everything,
    /// mergeable with --merge).
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        default_value_t,
        help_heading = "Summary"
    )]
    pub format: SummaryFormat,

    /// Where to write: a file (text, json) or a directory (csv, created if missing)
    /// [default: standard output; csv needs a directory].
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

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// A subcommand's own page (mbxaudit-search(1), ...) instead of mbxaudit(1).
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
}
