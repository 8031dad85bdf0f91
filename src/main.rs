//! The `mbxaudit` binary: parse the command line, run, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser;

use mbxaudit::{cmd, diag, exit, output};

fn main() -> ExitCode {
    // Ctrl+C, SIGTERM, SIGHUP: remove a half-written output's temporary file, exit 130.
    // Without the handler the run still stops, only leaving that file behind.
    let _ = ctrlc::set_handler(|| output::atomic::exit_interrupted());
    let cli = cmd::cli::Cli::parse();
    match cmd::run(cli) {
        Ok(status) => status.code(),
        Err(err) if exit::is_broken_pipe(&err) => ExitCode::from(exit::OK),
        Err(err) => {
            // Through `say`: a closed stderr must not turn exit 2 into a panic.
            diag::say(&format!("error: {}", diag::sanitize(&format!("{err:#}"))));
            ExitCode::from(exit::FATAL)
        }
    }
}
