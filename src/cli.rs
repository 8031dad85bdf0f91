//! The command line, as clap sees it: raw flags and their help, nothing compiled yet
//! (that is [`crate::config`]'s job).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::datetime::{DateOrder, Zone};
use crate::report::TimeFormat;

#[derive(Parser, Debug)]
#[command(
    name = "mbxaudit",
    version,
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

Exit status: 0 success; 1 finished, but some rows or files could not be read (all reported);
2 fatal error (nothing written).";

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Export files or directories (walked recursively; files recognised by content).
    /// `-` reads standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

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

    /// Stop with an error (exit 2, no report) if any row is malformed.
    #[arg(long, help_heading = "Reading")]
    pub strict: bool,

    /// Report file [default: AuditLogResults<yyMMdd_HHmmss>.csv in the current directory].
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

    /// Write one row per message a record touched (MailItemsAccessed folder items, the
    /// affected items of group records) instead of one per record.
    #[arg(long, help_heading = "Output")]
    pub expand_items: bool,

    /// Write cells that start with = + - @ tab or CR untouched. By default they are
    /// prefixed with ' so that Excel shows them as text instead of running them as
    /// formulas (subjects are written by whoever sent the mail).
    #[arg(long, help_heading = "Output")]
    pub raw_cells: bool,

    /// Replace the output file if it exists.
    #[arg(long, help_heading = "Output")]
    pub force: bool,

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

    /// Print nothing on stderr but errors.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,

    /// Worker threads [default: one per core].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,
}
