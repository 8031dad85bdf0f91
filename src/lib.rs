//! mbxaudit: offline search of exported Exchange / Microsoft 365 mailbox audit logs.
//!
//! Data flows one way: [`cli`] → [`config`] → [`input`] (open, decode, detect, read) →
//! [`record::AuditRecord`] → [`filter`] → [`pipeline`] (merge, dedup, sort) → [`report`]
//! (`search`: the rows) or [`summary`] (`summary`: counts, tables, mergeable JSON).

pub mod cli;
pub mod cli_docs;
pub mod config;
pub mod datetime;
pub mod diag;
pub mod filter;
pub mod funnel;
pub mod html;
pub mod input;
pub mod manifest;
pub mod pipeline;
pub mod progress;
pub mod record;
pub mod report;
pub mod search;
pub mod sigma;
pub mod summary;
pub mod triage;

use std::process::ExitCode;

use anyhow::Result;

use cli::{Cli, Command};

/// Exit status: success.
pub const EXIT_OK: u8 = 0;
/// Exit status: finished, but some rows or files could not be read (all reported).
pub const EXIT_INCOMPLETE: u8 = 1;
/// Exit status: fatal error, nothing written.
pub const EXIT_FATAL: u8 = 2;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let status = match cli.command {
        Command::Search(args) => {
            let cfg = config::SearchConfig::from_args(args)?;
            in_pool(cfg.scan.threads, || search::run(cfg))?
        }
        Command::Summary(args) => {
            let cfg = config::SummaryConfig::from_args(args)?;
            in_pool(cfg.threads(), || summary::run(cfg))?
        }
        Command::Triage(args) => {
            let cfg = triage::TriageConfig::from_args(args)?;
            in_pool(cfg.scan.threads, || triage::run(cfg))?
        }
        Command::Report(args) => {
            let cfg = html::ReportConfig::from_args(args)?;
            in_pool(cfg.scan.threads, || html::run(cfg))?
        }
        Command::Completions(args) => {
            let script = cli_docs::completions(args.shell);
            report::write_stdout(|out| out.write_all(&script))?;
            search::Status::Clean
        }
        Command::Man(args) => {
            let page = cli_docs::man(args.subcommand.as_deref())?;
            report::write_stdout(|out| out.write_all(&page))?;
            search::Status::Clean
        }
    };
    Ok(ExitCode::from(match status {
        search::Status::Clean => EXIT_OK,
        search::Status::Incomplete => EXIT_INCOMPLETE,
    }))
}

/// Runs `job` in its own rayon pool of `threads` workers (default: one per core), so the
/// library can be called repeatedly in one process with different thread counts.
fn in_pool<T: Send>(threads: Option<usize>, job: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        pool = pool.num_threads(n);
    }
    let pool = pool
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start worker threads: {e}"))?;
    pool.install(job)
}

/// True when the error is a closed stdout (`mbxaudit ... | head`): not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
