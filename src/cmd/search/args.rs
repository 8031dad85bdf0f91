//! The command line of `mbxaudit search`: raw flags and their help, as clap sees them.

use std::path::PathBuf;

use clap::Args;

use crate::cmd::args::InputArgs;
use crate::output::rows::{Format, Profile, TimeFormat};

pub const EXAMPLES: &str = "\
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
  mbxaudit search --format xlsx exports/       # AuditLogResults<time>.xlsx, for Excel
  mbxaudit search --format parquet --columns full -o shard01.parquet exports/   # for SQL
  mbxaudit search --manifest auto exports/    # + AuditLogResults<time>.csv.manifest.json

Exit status: 0 success; 1 finished, but some rows or files could not be read (all reported);
2 fatal error (nothing written).";

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
    /// names), table (aligned for a terminal), timesketch (Timesketch's CSV import), xlsx
    /// (an Excel workbook: header frozen, autofilter, LastAccessed a date-time in UTC,
    /// every other cell text, never a formula; past 1,048,575 rows the report continues
    /// on sheet 'Report (2)'...; a cell over 32,767 characters is cut and its row says so
    /// in column CellsCut) or parquet (for SQL engines: LastAccessed a UTC timestamp in
    /// microseconds, SourceLine an integer, the rest UTF-8 strings).
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
    /// running them as formulas (subjects are written by whoever sent the mail). JSON,
    /// table, xlsx (typed cells: text is never a formula) and parquet output are never
    /// changed.
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
    /// export's own text). xlsx and parquet always write a date-time (UTC).
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        default_value_t,
        help_heading = "Output"
    )]
    pub time_format: TimeFormat,
}
