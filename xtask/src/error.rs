//! The one error type of xtask.

use std::io;
use std::process::ExitStatus;
use std::time::Duration;

/// Everything that can stop an xtask command, with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line could not be understood.
    #[error("{0}\n\n{usage}", usage = crate::USAGE)]
    Usage(String),
    /// A host program could not be started at all.
    #[error("cannot run `{program}`: {source} (is it installed and in PATH?)")]
    Spawn {
        /// The program that failed to start.
        program: String,
        /// Why it failed.
        source: io::Error,
    },
    /// A host program ran and failed.
    #[error("`{command}` failed ({status}){details}")]
    Command {
        /// The command line, for the person to re-run by hand.
        command: String,
        /// How it ended.
        status: ExitStatus,
        /// What it printed on stderr, if anything, prefixed by a newline.
        details: String,
    },
    /// A file or directory operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the path.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The Debian archive did not offer a kernel for the requested series.
    #[error("no Debian kernel package for {series}: {reason}")]
    Kernel {
        /// The kernel series asked for, such as `6.12`.
        series: String,
        /// What went wrong while looking for it.
        reason: String,
    },
    /// A path cannot be handed to the guest.
    #[error("path {0:?} cannot be passed to the VM: it must be absolute UTF-8 without whitespace")]
    GuestPath(String),
    /// QEMU did not start the guest.
    #[error("QEMU failed to start the VM: {reason}\nQEMU said:\n{log}")]
    QemuStart {
        /// What went wrong.
        reason: String,
        /// QEMU's own messages.
        log: String,
    },
    /// The guest did not finish in time.
    #[error(
        "the VM did not finish within {} s (guest hung or panicked; raise it with --timeout SECS)\n\
         last lines of the guest console:\n{console_tail}",
        timeout.as_secs()
    )]
    Timeout {
        /// The limit that was hit.
        timeout: Duration,
        /// The end of the guest's kernel console.
        console_tail: String,
    },
    /// QEMU stopped before the guest reported the command's exit status.
    #[error(
        "the VM stopped without reporting an exit status ({status}; a kernel panic or a failed guest \
         init)\nlast lines of the guest console:\n{console_tail}"
    )]
    NoStatus {
        /// How QEMU ended.
        status: ExitStatus,
        /// The end of the guest's kernel console.
        console_tail: String,
    },
    /// Cargo's or libtest's output could not be understood.
    #[error("cannot understand the output of {what}: {reason}")]
    Output {
        /// Which program's output.
        what: String,
        /// What was wrong with it.
        reason: String,
    },
    /// A check or a test failed; the details were already printed.
    #[error("{0}")]
    Failed(String),
}

impl Error {
    /// The process exit code for this error: 124 for a guest timeout, 125 for any other
    /// failure of the lane itself, 1 for failed checks, 2 for usage errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::Timeout { .. } => 124,
            Error::Failed(_) => 1,
            _ => 125,
        }
    }

    /// An [`Error::Io`] naming what was being done.
    pub fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }
}

/// Results of xtask operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;
