//! The crate's error type.

use std::io;
use std::path::PathBuf;

use crate::wire::IpvsCmd;
use crate::InvalidRequest;

/// Everything that can go wrong talking to IPVS.
///
/// Kernel errors are mapped per command: the same errno means different things for different
/// requests (`ENOENT` on a destination request means "no such destination", on a service
/// write "scheduler or persistence engine not found"). [`Error::errno`] gives the raw errno
/// of any kernel error, for callers that print their own messages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A service with this key already exists (`EEXIST` on add service).
    #[error("service already exists")]
    ServiceExists,
    /// No service with this key (`ESRCH`).
    #[error("no such service")]
    NoSuchService,
    /// The destination already exists in this service (`EEXIST` on add destination).
    #[error("destination already exists")]
    DestinationExists,
    /// No such destination in this service (`ENOENT` on a destination request).
    #[error("no such destination")]
    NoSuchDestination,
    /// The kernel has no scheduler by this name, or no persistence engine by the name given
    /// (`ENOENT` on add or edit service, after the kernel tried to load the module).
    #[error("{}", scheduler_not_found(.scheduler, .pe.as_deref()))]
    SchedulerNotFound {
        /// The scheduler requested.
        scheduler: String,
        /// The persistence engine requested, if any: it may be the missing one.
        pe: Option<String>,
    },
    /// A sync daemon of this role is already running (`EEXIST` on start daemon).
    #[error("a sync daemon in this state is already running")]
    DaemonRunning,
    /// No sync daemon of this role is running (`ESRCH` on stop daemon).
    #[error("no sync daemon in this state is running")]
    NoSuchDaemon,
    /// The caller lacks CAP_NET_ADMIN (`EPERM`).
    #[error("permission denied: IPVS needs CAP_NET_ADMIN (run as root)")]
    PermissionDenied,
    /// The kernel has no IPVS generic-netlink family.
    #[error(
        "IPVS is not available: the ip_vs kernel module is not loaded \
         (load it with `modprobe ip_vs` or ipvs_rs::load_module())"
    )]
    NotAvailable,
    /// The kernel rejected an argument (`EINVAL`), with its extended-ack text when it gave one
    /// and the likely causes for the command (see [`Error::hint`]).
    #[error("{command} failed: invalid argument{}{}",
        .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default(),
        einval_hint(*.command).map(|h| format!(" ({h})")).unwrap_or_default())]
    InvalidArgument {
        /// The command that failed.
        command: IpvsCmd,
        /// The kernel's explanation, if any.
        message: Option<String>,
    },
    /// The library refused the request before sending it: it breaks one of ipvsadm's or the
    /// kernel's rules (see [`Violation`](crate::Violation)). Nothing was sent.
    #[error("{0}")]
    Invalid(Box<InvalidRequest>),
    /// Not sent because another request of the same [`Batch`](crate::Batch) is invalid: a batch
    /// with an invalid request sends nothing.
    #[error("not sent: request {index} of the batch is invalid")]
    NotSent {
        /// The position of the first invalid request in the batch.
        index: usize,
    },
    /// A dump is already running on this handle (`EBUSY`): finish or drop the dump first.
    #[error("a dump is already in progress on this handle")]
    Busy,
    /// The kernel did not answer in time: whether the request was applied is unknown.
    #[error("timed out waiting for the kernel: the state of the request is unknown")]
    Timeout,
    /// Any other kernel error.
    #[error("{command} failed: {} (errno {errno}){}", strerror(*errno),
        .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Kernel {
        /// The command that failed.
        command: IpvsCmd,
        /// The positive errno.
        errno: i32,
        /// The kernel's extended-ack text, if any.
        message: Option<String>,
    },
    /// A network namespace could not be entered.
    #[error("cannot enter network namespace {path}: {source}")]
    Netns {
        /// The namespace file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// An IPVS setting (`net.ipv4.vs.*`) could not be read or written.
    #[error("cannot {action} {sysctl}: {source}{}", sysctl_hint(action, source))]
    Sysctl {
        /// The setting.
        sysctl: crate::Sysctl,
        /// `read` or `write`.
        action: &'static str,
        /// Why.
        source: io::Error,
    },
    /// `modprobe ip_vs` failed.
    #[error("cannot load the ip_vs module: {0}")]
    ModuleLoad(String),
    /// A socket error.
    #[error("netlink socket error: {0}")]
    Io(#[from] io::Error),
    /// The kernel sent something this library cannot decode.
    #[error("cannot decode the kernel's reply: {0}")]
    Decode(String),
}

/// The C library's text for an errno, without Rust's "(os error N)" suffix.
fn strerror(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error ") {
        Some(end) => text[..end].to_owned(),
        None => text,
    }
}

/// Why the kernel says `EINVAL` to a well-formed request of `command`, most likely first.
fn einval_hint(command: IpvsCmd) -> Option<&'static str> {
    Some(match command {
        IpvsCmd::NewDest | IpvsCmd::SetDest => {
            "likely causes: the real server's address is not unicast in this namespace's routing \
             table (is `lo` up? a fresh namespace has it down), or it is local with a forwarding \
             method other than masquerading; a real server of another family than the service \
             that is not a tunnel, or any mixed-family real server while a sync daemon runs; a GUE \
             tunnel without a port"
        }
        IpvsCmd::NewDaemon => {
            "likely causes: a mixed-family real server exists (sync daemons refuse them), or the \
             multicast interface has no address of the group's family"
        }
        IpvsCmd::NewService | IpvsCmd::SetService => {
            "likely causes: an IPv6 netmask outside 1 to 128, a scheduler or persistence engine \
             name longer than the kernel holds"
        }
        _ => return None,
    })
}

fn scheduler_not_found(scheduler: &str, pe: Option<&str>) -> String {
    match pe {
        Some(pe) => format!(
            "scheduler '{scheduler}' or persistence engine '{pe}' not found \
             (no ip_vs_{scheduler} or ip_vs_pe_{pe} module)"
        ),
        None => format!("scheduler '{scheduler}' not found (no ip_vs_{scheduler} module)"),
    }
}

impl Error {
    /// The request the library refused and why, for [`Error::Invalid`].
    pub fn invalid(&self) -> Option<&InvalidRequest> {
        match self {
            Error::Invalid(invalid) => Some(invalid),
            _ => None,
        }
    }

    /// The likely causes of an `EINVAL` from the kernel, for the command that got it: the
    /// kernel does not say which check failed. `Display` includes it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::InvalidArgument { command, .. } => einval_hint(*command),
            _ => None,
        }
    }

    /// The positive errno behind a kernel error (a netlink reply, or a setting the kernel
    /// refused), `None` for errors that did not come from the kernel. For a request the
    /// library refused ([`Error::Invalid`]), the errno the kernel would have answered, `None`
    /// when it would have accepted the request.
    pub fn errno(&self) -> Option<i32> {
        Some(match self {
            Error::Invalid(invalid) => return invalid.violation.errno(),
            Error::ServiceExists | Error::DestinationExists | Error::DaemonRunning => libc::EEXIST,
            Error::NoSuchService | Error::NoSuchDaemon => libc::ESRCH,
            Error::NoSuchDestination | Error::SchedulerNotFound { .. } => libc::ENOENT,
            Error::PermissionDenied => libc::EPERM,
            Error::InvalidArgument { .. } => libc::EINVAL,
            Error::Busy => libc::EBUSY,
            Error::Kernel { errno, .. } => *errno,
            Error::Sysctl { source, .. } => return source.raw_os_error(),
            _ => return None,
        })
    }

    /// Maps the kernel's `errno` for `command` to a typed error.
    ///
    /// `scheduler` and `pe` name what an add or edit service asked for.
    pub(crate) fn from_kernel(
        command: IpvsCmd,
        errno: i32,
        message: Option<String>,
        names: Option<(&str, Option<&str>)>,
    ) -> Self {
        use IpvsCmd::*;
        match (errno, command) {
            (libc::EPERM, _) => Error::PermissionDenied,
            (libc::EINVAL, _) => Error::InvalidArgument { command, message },
            (libc::EBUSY, _) => Error::Busy,
            (libc::EEXIST, NewService) => Error::ServiceExists,
            (libc::EEXIST, NewDest) => Error::DestinationExists,
            (libc::EEXIST, NewDaemon) => Error::DaemonRunning,
            (libc::ESRCH, DelDaemon) => Error::NoSuchDaemon,
            (libc::ESRCH, _) => Error::NoSuchService,
            (libc::ENOENT, NewDest | SetDest | DelDest) => Error::NoSuchDestination,
            (libc::ENOENT, NewService | SetService) => {
                let (scheduler, pe) = names.unwrap_or_default();
                Error::SchedulerNotFound {
                    scheduler: scheduler.to_owned(),
                    pe: pe.map(str::to_owned),
                }
            }
            _ => Error::Kernel {
                command,
                errno,
                message,
            },
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What an error reading or writing an IPVS setting most likely means.
fn sysctl_hint(action: &str, source: &io::Error) -> &'static str {
    match source.kind() {
        io::ErrorKind::NotFound => " (this kernel has no such IPVS setting)",
        io::ErrorKind::InvalidInput => " (the kernel refused the value)",
        io::ErrorKind::PermissionDenied if action == "write" => {
            " (writing needs root in the user namespace that owns the network namespace)"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_errno_means_different_things_per_command() {
        let map = |cmd, errno| Error::from_kernel(cmd, errno, None, Some(("rr", None)));
        assert!(matches!(
            map(IpvsCmd::NewService, libc::EEXIST),
            Error::ServiceExists
        ));
        assert!(matches!(
            map(IpvsCmd::NewDest, libc::EEXIST),
            Error::DestinationExists
        ));
        assert!(matches!(
            map(IpvsCmd::NewDaemon, libc::EEXIST),
            Error::DaemonRunning
        ));
        assert!(matches!(
            map(IpvsCmd::DelDest, libc::ENOENT),
            Error::NoSuchDestination
        ));
        assert!(matches!(
            map(IpvsCmd::SetService, libc::ENOENT),
            Error::SchedulerNotFound { .. }
        ));
        assert!(matches!(
            map(IpvsCmd::NewDest, libc::ESRCH),
            Error::NoSuchService
        ));
        assert!(matches!(
            map(IpvsCmd::DelDaemon, libc::ESRCH),
            Error::NoSuchDaemon
        ));
        assert!(matches!(
            map(IpvsCmd::Zero, libc::EPERM),
            Error::PermissionDenied
        ));
        let other = map(IpvsCmd::NewDaemon, libc::ENODEV);
        assert!(matches!(
            other,
            Error::Kernel {
                errno: libc::ENODEV,
                ..
            }
        ));
        for errno in [
            libc::EEXIST,
            libc::ENOENT,
            libc::ESRCH,
            libc::EPERM,
            libc::EINVAL,
            libc::ENODEV,
        ] {
            for cmd in [
                IpvsCmd::NewService,
                IpvsCmd::SetDest,
                IpvsCmd::DelDaemon,
                IpvsCmd::Flush,
            ] {
                assert_eq!(map(cmd, errno).errno(), Some(errno), "{cmd:?} {errno}");
            }
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        let pe = Error::SchedulerNotFound {
            scheduler: "wlc".into(),
            pe: Some("sip".into()),
        };
        assert!(pe.to_string().contains("ip_vs_pe_sip"), "{pe}");
        let einval = Error::InvalidArgument {
            command: IpvsCmd::NewDest,
            message: Some("bad port".into()),
        };
        let text = einval.to_string();
        assert!(
            text.starts_with("add real server failed: invalid argument: bad port (likely causes: "),
            "{text}"
        );
        assert!(
            text.contains("`lo` up") && text.contains("sync daemon"),
            "{text}"
        );
        let erange = Error::from_kernel(IpvsCmd::NewDest, libc::ERANGE, None, None);
        assert_eq!(
            erange.to_string(),
            "add real server failed: Numerical result out of range (errno 34)"
        );
        assert_eq!(
            Error::from_kernel(IpvsCmd::Flush, libc::EINVAL, None, None).to_string(),
            "flush failed: invalid argument"
        );
        assert!(Error::Timeout.to_string().contains("unknown"));
    }
}
