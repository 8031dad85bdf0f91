//! The commands, one module each, on top of everything else: each owns its clap
//! arguments (`args.rs`), turns them into its configuration, and runs. [`args`] and
//! [`scan`] are the options every scanning command shares and how they are checked;
//! [`cli`] gathers them into the one command line; [`docs`] prints completions and
//! manual pages from it.
//!
//! To add a subcommand: a module here with its `args.rs` (clap) and a `run` that takes a
//! [`crate::session`], a variant of [`cli::Command`], and its arm in [`run`].

pub mod args;
pub mod cli;
pub mod docs;
pub mod report;
pub mod scan;
pub mod search;
pub mod summary;
pub mod triage;

use anyhow::Result;

use cli::{Cli, Command};

use crate::exit::Status;
use crate::output;

/// Runs a parsed command line, each scanning command in a worker pool of its `-j`.
pub fn run(cli: Cli) -> Result<Status> {
    match cli.command {
        Command::Search(args) => {
            let cfg = search::SearchConfig::from_args(args)?;
            in_pool(cfg.scan.threads, || search::run(cfg))
        }
        Command::Summary(args) => {
            let cfg = summary::SummaryConfig::from_args(args)?;
            in_pool(cfg.threads(), || summary::run(cfg))
        }
        Command::Triage(args) => {
            let cfg = triage::TriageConfig::from_args(args)?;
            in_pool(cfg.scan.threads, || triage::run(cfg))
        }
        Command::Report(args) => {
            let cfg = report::ReportConfig::from_args(args)?;
            in_pool(cfg.scan.threads, || report::run(cfg))
        }
        Command::Completions(args) => {
            let script = docs::completions(args.shell);
            output::write_stdout(|out| out.write_all(&script))?;
            Ok(Status::Clean)
        }
        Command::Man(args) => {
            let page = docs::man(args.subcommand.as_deref())?;
            output::write_stdout(|out| out.write_all(&page))?;
            Ok(Status::Clean)
        }
    }
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
