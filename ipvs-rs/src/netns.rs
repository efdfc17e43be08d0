//! Network namespaces a [`Handle`](crate::Handle) can be opened in.

use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;

use crate::socket::{open_sockets, Sockets};
use crate::{Error, Result};

/// A network namespace: the calling thread's, as `ip netns` names it, by file, by a process
/// living in it, or by a file descriptor the caller holds.
///
/// rtsetup's namespaces convert to it (`ipvs_rs::Netns::from(&rtsetup_netns)`), so one type
/// names a namespace across the project's crates.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Netns {
    /// The namespace of the calling thread.
    Current,
    /// A namespace created by `ip netns add NAME` (`/run/netns/NAME`).
    Named(String),
    /// A namespace file, such as `/proc/1234/ns/net` or a bind mount of one.
    Path(PathBuf),
    /// The namespace of a process.
    Pid(u32),
    /// An open file descriptor of a namespace file (from `open("/proc/PID/ns/net")`, a pidfd's
    /// namespace, or one received over a socket). The caller keeps it open while a handle is
    /// being opened; the handle does not need it afterwards.
    Fd(RawFd),
}

impl Netns {
    /// The namespace file.
    pub fn path(&self) -> PathBuf {
        match self {
            Netns::Current => PathBuf::from("/proc/thread-self/ns/net"),
            Netns::Fd(fd) => PathBuf::from(format!("/proc/self/fd/{fd}")),
            Netns::Named(name) => PathBuf::from("/run/netns").join(name),
            Netns::Path(path) => path.clone(),
            Netns::Pid(pid) => PathBuf::from(format!("/proc/{pid}/ns/net")),
        }
    }

    /// Creates the handle's sockets inside the namespace from a short-lived thread, so the
    /// calling thread never changes namespace. Sockets stay in the namespace they were made in.
    pub(crate) fn open_sockets(&self) -> Result<Sockets> {
        if *self == Netns::Current {
            return open_sockets().map_err(Error::Io);
        }
        let path = self.path();
        let netns_err = |source| Error::Netns {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(netns_err)?;
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    // SAFETY: setns only changes this short-lived thread's namespace.
                    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                        return Err(netns_err(std::io::Error::last_os_error()));
                    }
                    open_sockets().map_err(Error::Io)
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(Error::Io(std::io::Error::other(
                        "namespace thread panicked",
                    )))
                })
        })
    }
}
