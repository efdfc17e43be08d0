//! The ways an ipvsadm-rs run stops, each with ipvsadm's exit status.

use std::io;

/// Everything that ends a run early.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An argument failed validation: ipvsadm prints the message and exits 2.
    #[error("{0}")]
    Invalid(String),
    /// The command line could not be understood at all: exit 255 with a pointer to `-h`.
    #[error("Try `{program} -h' or '{program} --help' for more information.")]
    TryHelp {
        /// The program name as invoked (`argv[0]`).
        program: String,
    },
    /// `-h` or `-v`: the text goes to stdout and the run ends with status 0, even inside `-R`.
    #[error("help requested")]
    Help {
        /// What to print.
        text: String,
    },
    /// A listing could not be produced: ipvsadm prints the reason and exits 1.
    #[error("{0}")]
    Listing(String),
    /// IPVS could not be reached even after loading the module: exit 2.
    #[error("Can't initialize ipvs: {reason}\nAre you sure that IP Virtual Server is built in the kernel or as module?")]
    Init {
        /// ipvsadm's wording of the failure.
        reason: String,
    },
    /// `--netns` named a namespace that cannot be entered.
    #[error("cannot enter network namespace `{name}': {reason}")]
    Netns {
        /// The namespace name or path given.
        name: String,
        /// Why it failed.
        reason: String,
    },
    /// `-R --check` found bad lines; nothing was applied.
    #[error("{count} bad line(s) in the restore input; nothing was applied")]
    CheckFailed {
        /// How many lines were bad.
        count: usize,
    },
    /// `-R --replace`: some changes failed (each was named); the others were applied.
    #[error("{count} change(s) failed; the rest of the table was replaced; run again to retry")]
    ReplaceFailed {
        /// How many changes failed.
        count: usize,
    },
    /// ipvsadm 1.31 dereferences a null pointer here (`-b` made only of commas); the program
    /// dies of SIGSEGV the same way, so that callers see the same status.
    #[error("ipvsadm 1.31 dies of SIGSEGV on scheduler flags made only of commas")]
    Crash,
    /// Reading input or writing output failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

impl Error {
    /// The process exit status ipvsadm uses for this kind of stop.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid(_)
            | Error::Init { .. }
            | Error::Netns { .. }
            | Error::CheckFailed { .. } => 2,
            Error::TryHelp { .. } => 255,
            Error::Help { .. } => 0,
            Error::Listing(_) | Error::Io(_) | Error::ReplaceFailed { .. } => 1,
            Error::Crash => 128 + libc::SIGSEGV,
        }
    }
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_ipvsadm() {
        assert_eq!(Error::Invalid("x".into()).exit_code(), 2);
        assert_eq!(
            Error::TryHelp {
                program: "ipvsadm".into()
            }
            .exit_code(),
            255
        );
        assert_eq!(Error::Listing("No such service".into()).exit_code(), 1);
        assert_eq!(
            Error::TryHelp {
                program: "ipvsadm".into()
            }
            .to_string(),
            "Try `ipvsadm -h' or 'ipvsadm --help' for more information."
        );
    }
}
