//! Network namespaces: naming one, and doing work inside it without moving the caller.
//!
//! This is the one namespace type of the project: a [`Handle`](crate::Handle) opens in it,
//! rtsetup creates, enters and deletes it, and ipvsadm-rs's `--netns` moves into it.

use std::fmt;
use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::PathBuf;

use crate::socket::{open_sockets, Sockets};
use crate::{Error, Result};

/// A network namespace: the calling thread's, as `ip netns` names it, by file, by a process
/// living in it, or by a file descriptor the caller holds.
///
/// ```no_run
/// use ipvs_rs::Netns;
/// let lb = Netns::Named("lb".into());
/// // A socket made inside stays in lb wherever it is used afterwards.
/// let listener = lb.run(|| std::net::TcpListener::bind("0.0.0.0:8080"))??;
/// println!("listening in {lb} on {}", listener.local_addr()?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Netns {
    /// The namespace of the calling thread at the time each operation runs.
    Current,
    /// A namespace created by `ip netns add NAME` (`/run/netns/NAME`).
    Named(String),
    /// A namespace file, such as `/proc/1234/ns/net` or a bind mount of one.
    Path(PathBuf),
    /// The namespace of a process.
    Pid(u32),
    /// An open file descriptor of a namespace file (from `open("/proc/PID/ns/net")`, a pidfd's
    /// namespace, or one received over a socket). The caller keeps it open while it is used.
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

    /// The name under `/run/netns` of a [`Netns::Named`], `None` for the other kinds.
    pub fn name(&self) -> Option<&str> {
        match self {
            Netns::Named(name) => Some(name),
            _ => None,
        }
    }

    /// Opens the namespace file, for `setns(2)` or `IFLA_NET_NS_FD`. For
    /// [`Netns::Current`] it is the calling thread's namespace now.
    ///
    /// # Errors
    /// [`Error::Netns`] when the file cannot be opened (no such namespace, no permission).
    pub fn file(&self) -> Result<File> {
        let path = self.path();
        File::open(&path).map_err(|source| Error::Netns { path, source })
    }

    /// Moves the calling thread into the namespace for good, as `ip netns exec` does before it
    /// runs a program. Meant for single-threaded programs such as a CLI; elsewhere prefer
    /// [`Netns::run`], which leaves the caller where it is. Nothing happens for
    /// [`Netns::Current`].
    ///
    /// # Errors
    /// [`Error::Netns`] when the namespace cannot be opened or joined (joining needs
    /// `CAP_SYS_ADMIN`).
    pub fn enter(&self) -> Result<()> {
        if *self == Netns::Current {
            return Ok(());
        }
        let file = self.file()?;
        // SAFETY: setns(2) on a descriptor we own; it changes only the calling thread.
        if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(Error::Netns {
                path: self.path(),
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(())
    }

    /// Runs `f` inside the namespace on a short-lived thread and returns what it returns; the
    /// calling thread never changes namespace. Sockets created in `f` stay in the namespace
    /// wherever they are used later. For [`Netns::Current`], `f` runs on the calling thread.
    /// A panic in `f` is resumed on the caller.
    ///
    /// # Errors
    /// [`Error::Netns`] when the namespace cannot be opened or joined; `f` has not run then.
    pub fn run<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        if *self == Netns::Current {
            return Ok(f());
        }
        std::thread::scope(|scope| {
            let thread = scope.spawn(|| -> Result<T> {
                self.enter()?;
                Ok(f())
            });
            match thread.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// Creates the handle's sockets inside the namespace.
    pub(crate) fn open_sockets(&self) -> Result<Sockets> {
        self.run(open_sockets)?.map_err(Error::Io)
    }
}

impl fmt::Display for Netns {
    /// `the current namespace`, `namespace lb`, `namespace /proc/7/ns/net`, `the namespace
    /// of process 7`, `the namespace of descriptor 5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Netns::Current => f.write_str("the current namespace"),
            Netns::Named(name) => write!(f, "namespace {name}"),
            Netns::Path(path) => write!(f, "namespace {}", path.display()),
            Netns::Pid(pid) => write!(f, "the namespace of process {pid}"),
            Netns::Fd(fd) => write!(f, "the namespace of descriptor {fd}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_runs_on_the_caller_and_names_itself() {
        let caller = std::thread::current().id();
        assert_eq!(
            Netns::Current.run(|| std::thread::current().id()).unwrap(),
            caller
        );
        assert_eq!(Netns::Current.to_string(), "the current namespace");
        assert_eq!(Netns::Current.name(), None);
    }

    #[test]
    fn a_missing_namespace_is_an_error_before_anything_runs() {
        let missing = Netns::Named("ipvs-rs-no-such-namespace".into());
        assert_eq!(missing.name(), Some("ipvs-rs-no-such-namespace"));
        let mut ran = false;
        match missing.run(|| ran = true) {
            Err(Error::Netns { path, source }) => {
                assert_eq!(path, PathBuf::from("/run/netns/ipvs-rs-no-such-namespace"));
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("expected Error::Netns, got {other:?}"),
        }
        assert!(!ran, "f ran although the namespace could not be entered");
    }

    #[test]
    fn run_enters_the_namespace_of_a_process_and_of_a_path() {
        use std::os::unix::fs::MetadataExt;
        let own = std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino();
        let pid = std::process::id();
        for netns in [
            Netns::Pid(pid),
            Netns::Path(format!("/proc/{pid}/ns/net").into()),
        ] {
            let inside = netns.run(|| std::fs::metadata("/proc/thread-self/ns/net").unwrap().ino());
            match inside {
                Ok(ino) => assert_eq!(ino, own, "{netns}"),
                // setns needs CAP_SYS_ADMIN, even into one's own namespace.
                Err(Error::Netns { source, .. }) => {
                    assert_eq!(source.raw_os_error(), Some(libc::EPERM))
                }
                Err(other) => panic!("unexpected error {other}"),
            }
        }
    }

    #[test]
    fn a_panic_in_f_reaches_the_caller() {
        let pid = Netns::Pid(std::process::id());
        match std::panic::catch_unwind(|| pid.run(|| panic!("inside"))) {
            Err(_) => {}
            // Without CAP_SYS_ADMIN f never runs: the refusal, not a panic.
            Ok(Err(Error::Netns { source, .. })) => {
                assert_eq!(source.raw_os_error(), Some(libc::EPERM))
            }
            Ok(other) => panic!("the panic was lost: {other:?}"),
        }
    }
}
