//! The whole command line, as clap sees it: the subcommands and their help. Each
//! subcommand's own flags are in its module (`search::args`, ...); the options they share
//! in [`super::args`].

use clap::{Args, Parser, Subcommand};

use super::{report, search, summary, triage};

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
    #[command(after_long_help = search::args::EXAMPLES)]
    Search(search::args::SearchArgs),
    /// Summarise exports: per operation, per logon type, top users, mailboxes, client IPs
    /// and apps, activity per day or hour.
    #[command(after_long_help = summary::args::EXAMPLES)]
    Summary(summary::args::SummaryArgs),
    /// Evaluate the triage rules (mass deletion, non-owner access, inbox rules, forwarding,
    /// SendAs, Sync and throttling, new client IPs and apps, permission changes, audit
    /// tampering, legacy protocols, impersonation roles, transport rules) and list the
    /// findings, worst first, with their evidence rows.
    #[command(after_long_help = triage::args::EXAMPLES)]
    Triage(triage::args::TriageArgs),
    /// Write one self-contained HTML report: inputs and funnel, findings, activity charts,
    /// tables and the filterable timeline.
    #[command(after_long_help = report::args::EXAMPLES)]
    Report(report::args::ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_long_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Print a manual page (roff), generated from these definitions.
    #[command(after_long_help = MAN_EXAMPLES)]
    Man(ManArgs),
}

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
