//! How a run ends, and the exit status that says so: one place for every code.
//!
//! | status | meaning |
//! |---|---|
//! | 0 | every input read, every row accounted for (also: stdout closed early, `... \| head`) |
//! | 1 | finished, but some rows or files could not be read (all reported) |
//! | 2 | fatal error (bad option, unreadable input, output refused); nothing written |
//! | 130 | interrupted (SIGINT, SIGTERM, SIGHUP); no partial output left |

use std::process::ExitCode;

/// Exit status: success.
pub const OK: u8 = 0;
/// Exit status: finished, but some rows or files could not be read (all reported).
pub const INCOMPLETE: u8 = 1;
/// Exit status: fatal error, nothing written.
pub const FATAL: u8 = 2;
/// Exit status of an interrupted run (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

/// How a finished run went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every input read, every row accounted for.
    Clean,
    /// Finished, but some rows or files could not be read (all reported).
    Incomplete,
}

impl Status {
    /// [`Status::Incomplete`] when `incomplete`, else [`Status::Clean`].
    pub fn from_incomplete(incomplete: bool) -> Status {
        if incomplete {
            Status::Incomplete
        } else {
            Status::Clean
        }
    }

    pub fn code(self) -> ExitCode {
        ExitCode::from(match self {
            Status::Clean => OK,
            Status::Incomplete => INCOMPLETE,
        })
    }
}

/// True when the error is a closed stdout (`mbxaudit ... | head`): not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
