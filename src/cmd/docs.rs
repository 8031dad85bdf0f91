//! Shell completions and manual pages, generated from the clap definitions in
//! [`super::cli`], so they never drift from the real flags. Both are built in memory
//! (clap_complete panics on a write error); the caller writes them out.

use anyhow::{bail, Context, Result};
use clap::CommandFactory;

use super::cli::Cli;

/// `mbxaudit completions SHELL`: the completion script.
pub fn completions(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_string();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    script
}

/// `mbxaudit man [SUBCOMMAND]`: mbxaudit(1), or mbxaudit-SUBCOMMAND(1), in roff.
pub fn man(subcommand: Option<&str>) -> Result<Vec<u8>> {
    // The page names the version only: the build's commit, date and this machine's
    // instruction set belong to `--version`, not to an installed manual.
    let mut cmd = Cli::command().long_version(None::<&str>);
    cmd.build();
    let page = match subcommand {
        None => cmd,
        Some(name) => {
            let Some(sub) = cmd.find_subcommand(name) else {
                let names: Vec<&str> = cmd
                    .get_subcommands()
                    .map(|s| s.get_name())
                    .filter(|n| *n != "help")
                    .collect();
                bail!("no subcommand '{name}'; choose one of {}", names.join(", "));
            };
            let full = format!("mbxaudit-{}", sub.get_name());
            sub.clone().name(full)
        }
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut roff)
        .context("cannot render the manual page")?;
    Ok(roff)
}
