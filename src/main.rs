//! The `mbxaudit` binary: parse the command line, run, map the result to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Ctrl+C, SIGTERM, SIGHUP: remove a half-written report's temporary file, exit 130.
    // Without the handler the run still stops, only leaving that file behind.
    let _ = ctrlc::set_handler(|| mbxaudit::report::exit_interrupted());
    let cli = mbxaudit::cli::Cli::parse();
    match mbxaudit::run(cli) {
        Ok(code) => code,
        Err(err) if mbxaudit::is_broken_pipe(&err) => ExitCode::from(mbxaudit::EXIT_OK),
        Err(err) => {
            eprintln!("error: {}", mbxaudit::diag::sanitize(&format!("{err:#}")));
            ExitCode::from(mbxaudit::EXIT_FATAL)
        }
    }
}
