//! The command-line options every scanning command shares, as clap sees them: the
//! inputs, the rules ([`FilterArgs`]) and how to read ([`ReadArgs`]). Raw flags and their
//! help only; [`super::scan`] turns them into a [`crate::session::ScanConfig`].

use std::path::PathBuf;

use clap::Args;

use crate::datetime::{DateOrder, Zone};

/// The inputs, the rules and how to read: the same for every scanning command.
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

    #[command(flatten)]
    pub enrich: EnrichArgs,

    /// Print nothing on stderr but errors.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,

    /// Worker threads [default: one per core; at most 4 per core].
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    #[command(flatten)]
    pub memory: MemoryArgs,
}

/// How much memory the kept rows may take.
#[derive(Args, Debug)]
pub struct MemoryArgs {
    /// Memory the rows kept for the report may take (64M, 512MiB, 2G...): beyond it,
    /// `search` sorts them into runs in a temporary file and merges them (same report,
    /// bytes for bytes) [default: 1G].
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Memory")]
    pub memory_limit: Option<u64>,

    /// Directory for those temporary files [default: the system's temporary directory].
    /// They are unnamed, or removed as soon as created: nothing is left behind.
    #[arg(long, value_name = "DIR", help_heading = "Memory")]
    pub temp_dir: Option<PathBuf>,
}

/// A size in bytes: a number with an optional unit K, M, G, T (powers of 1024; `KiB`,
/// `MB`... and `B` accepted alike), e.g. `64M`, `1.5G`, `800000`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit = unit.trim().to_ascii_lowercase();
    let scale: u64 = match unit.trim_end_matches('b').trim_end_matches('i') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => {
            return Err(format!(
                "'{text}' is not a size: use a number with K, M, G or T (64M, 1.5G)"
            ))
        }
    };
    let value: f64 = number.parse().map_err(|_| {
        format!("'{text}' is not a size: use a number with K, M, G or T (64M, 1.5G)")
    })?;
    let bytes = value * scale as f64;
    if !(1.0..1.8e19).contains(&bytes) {
        return Err(format!("'{text}': the size must be at least 1 byte"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1.5g"), Ok(3 << 29));
        assert_eq!(parse_size("800000"), Ok(800_000));
        assert_eq!(parse_size(" 2 GB "), Ok(2 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("5X").is_err());
    }
}

/// The rules (the seed script's first).
#[derive(Args, Debug)]
pub struct FilterArgs {
    /// Keep events at or after this time: an ISO date or date-time (2017-04-10,
    /// 2017-04-10T08:00), a dotted date, day first (10.04.2017 is 10 April), or a date with
    /// slashes (04/27/17), read as the date it can only be; when both day/month readings
    /// are dates (04/10/17), --date-order or the other bound's order decides, else it is
    /// refused. A two-digit year yy means 20yy.
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

    /// Keep events from this client IP (ClientIPAddress / ClientIP; ports ignored), CIDR
    /// block (203.0.113.0/24) or host name with a dot (mail.contoso.com: the whole name,
    /// any case, any port). Anything else is refused. Comma-separated or repeated.
    #[arg(
        long,
        value_name = "IP",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub ip: Vec<String>,
}

/// Offline IP enrichment.
#[derive(Args, Debug)]
pub struct EnrichArgs {
    /// A MaxMind DB file (.mmdb) to look client addresses up in, offline: GeoLite2/GeoIP2
    /// Country or City (country), ASN (AS number and organisation), or IPinfo Lite.
    /// Adds ClientIPCountry, ClientIPASN and ClientIPASOrg (--columns full, JSON, the
    /// summary, triage's new-country and new-asn rules, the HTML report). Repeat for several;
    /// the first file given wins where two know the same address. Nothing is downloaded.
    #[arg(long, value_name = "FILE", help_heading = "Enrichment")]
    pub geoip: Vec<PathBuf>,

    /// A list of flagged networks and ASNs (CSV: a network such as 203.0.113.0/24, an
    /// address, or an ASN such as AS64500; then a label). Adds ClientIPFlag; triage raises
    /// matching rows in a flagged-network finding.
    #[arg(long, value_name = "FILE", help_heading = "Enrichment")]
    pub ip_list: Option<PathBuf>,
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

    /// Read inputs without a byte-order mark in this encoding instead of detecting it
    /// (UTF-16 zero bytes, else UTF-8), e.g. windows-1252 for `Export-Csv -Encoding
    /// Default` files. A file with a BOM is read as its BOM says (with a warning if that
    /// contradicts this).
    #[arg(long, value_name = "LABEL", help_heading = "Reading")]
    pub encoding: Option<String>,

    /// Stop with an error (exit 2, nothing written) if any row is malformed.
    #[arg(long, help_heading = "Reading")]
    pub strict: bool,
}
