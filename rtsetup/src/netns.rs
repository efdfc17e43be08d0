//! Named network namespaces, compatible with iproute2's `ip netns`.
//!
//! The namespace type is ipvs-rs's [`Netns`], shared by the whole project: a lab's namespace
//! is the same value a [`Handle`](ipvs_rs::Handle) opens in, and entering one is ipvs-rs's
//! [`Netns::run`]. What rtsetup adds, through [`NetnsExt`], is the registry: creating,
//! listing and deleting named namespaces, telling one from another, and starting processes
//! inside them.
//!
//! A named namespace is a bind mount of a namespace file onto `/run/netns/NAME`, exactly as
//! `ip netns add` makes it, so `ip netns exec NAME ...` works on namespaces made here and
//! [`NetnsExt::open`] works on namespaces made by `ip`.
//!
//! Network namespaces belong to threads, not processes. Everything here that must happen
//! inside a namespace therefore runs on a short-lived helper thread that joins it with
//! `setns(2)`, so the caller's own thread never changes namespace. Sockets keep the namespace
//! they were created in, so a socket opened on such a thread (netlink, AF_PACKET, TCP) can be
//! used from any thread afterwards.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use serde::{Deserialize, Serialize};

pub use ipvs_rs::Netns;

use crate::error::{Error, Object, Place, Result};
use crate::removal::Removal;

/// Where iproute2 keeps named network namespaces.
pub const NETNS_RUN_DIR: &str = "/run/netns";

mod sealed {
    pub trait Sealed {}
    impl Sealed for ipvs_rs::Netns {}
}

/// rtsetup's operations on [`Netns`]: the registry of named namespaces under `/run/netns`
/// (create, open, list, delete), their identity, and processes started inside them.
///
/// Bring it into scope to call them as `Netns::create("lb")` or `netns.identity()`:
///
/// ```no_run
/// use rtsetup::{Netns, NetnsExt};
/// let lb = Netns::create("lb")?;
/// assert_eq!(lb, Netns::Named("lb".into()));
/// println!("{lb} is {}", lb.identity()?);
/// # Ok::<(), rtsetup::Error>(())
/// ```
pub trait NetnsExt: sealed::Sealed + Sized {
    /// Creates the named namespace, like `ip netns add NAME`. Creating a namespace that
    /// already exists is not an error: the existing one is returned, whoever made it.
    ///
    /// ```no_run
    /// use rtsetup::{Netns, NetnsExt};
    /// let lb = Netns::create("lb")?;
    /// assert_eq!(lb.name(), Some("lb"));
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    fn create(name: &str) -> Result<Self>;

    /// Creates the named namespace, which must not exist yet, and calls `record` with its
    /// identity after the namespace exists but before it gets its name: a caller that
    /// writes the identity down in `record` never has a named namespace it does not know.
    /// If `record` fails, the namespace is dropped unnamed and its error returned.
    ///
    /// An existing namespace of that name is [`Error::Exists`].
    ///
    /// ```no_run
    /// use rtsetup::{Netns, NetnsExt};
    /// let mut noted = None;
    /// let lb = Netns::create_new("lb", |identity| {
    ///     noted = Some(*identity);
    ///     Ok(())
    /// })?;
    /// assert_eq!(noted, Some(lb.identity()?));
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    fn create_new<F>(name: &str, record: F) -> Result<Self>
    where
        F: FnOnce(&NsIdentity) -> Result<()> + Send;

    /// Opens an existing named namespace (made by rtsetup or by `ip netns add`).
    fn open(name: &str) -> Result<Self>;

    /// True when the named namespace exists.
    fn exists(name: &str) -> bool;

    /// Deletes the named namespace, like `ip netns delete NAME`: unmounts and removes its
    /// file. Returns whether it existed; deleting a missing namespace is not an error.
    ///
    /// It deletes whatever namespace has that name now, whoever made it. To delete only the
    /// namespace you created, use [`NetnsExt::delete_if`] with the identity you recorded.
    ///
    /// The namespace itself lives on while a process or a socket still uses it.
    fn delete(name: &str) -> Result<bool>;

    /// Deletes the named namespace only if it is the one `expected` identifies (the
    /// identity [`NetnsExt::create_new`] reported or [`NetnsExt::identity`] returned earlier).
    /// An empty file of that name that is no namespace (the mount point of a create that
    /// was interrupted before mounting) is removed as well.
    ///
    /// ```no_run
    /// use rtsetup::{Netns, NetnsExt, Removal};
    /// let lb = Netns::create("lb")?;
    /// let identity = lb.identity()?;
    /// assert_eq!(Netns::delete_if("lb", &identity)?, Removal::Removed);
    /// assert_eq!(Netns::delete_if("lb", &identity)?, Removal::Missing);
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    fn delete_if(name: &str, expected: &NsIdentity) -> Result<Removal>;

    /// Names of all named namespaces, sorted, like `ip netns list`.
    fn list() -> Result<Vec<String>>;

    /// The identity of this namespace: its nsfs device and inode and its cookie.
    fn identity(&self) -> Result<NsIdentity>;

    /// Where this namespace is, for messages.
    fn place(&self) -> Place;

    /// A [`Command`] for `program` whose process starts inside this namespace (it joins it
    /// with `setns` between fork and exec), like `ip netns exec NAME program`.
    ///
    /// ```no_run
    /// use rtsetup::{Netns, NetnsExt};
    /// let ap = Netns::open("ap")?;
    /// let status = ap.command("true")?.status().expect("spawn");
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Result<Command>;
}

impl NetnsExt for Netns {
    fn create(name: &str) -> Result<Netns> {
        validate_name(name)?;
        if is_namespace_file(&path_of(name)) {
            return Ok(Netns::Named(name.into()));
        }
        Netns::create_new(name, |_| Ok(()))
    }

    fn create_new<F>(name: &str, record: F) -> Result<Netns>
    where
        F: FnOnce(&NsIdentity) -> Result<()> + Send,
    {
        validate_name(name)?;
        let path = path_of(name);
        let object = || Object::Netns(name.to_string());
        if is_namespace_file(&path) {
            return Err(Error::Exists {
                object: object(),
                place: Place::Registry,
                detail: "a namespace of that name is there".into(),
            });
        }
        if let Some(what) = blocking_entry(name) {
            return Err(Error::Exists {
                object: object(),
                place: Place::Registry,
                detail: format!("{what} is there; mounting over it would follow it"),
            });
        }
        prepare_run_dir()?;
        let bound = std::thread::scope(|scope| {
            scope
                .spawn(|| -> Result<()> {
                    let fail =
                        |e: io::Error| Error::from_io("create", object(), Place::Registry, e);
                    unshare(CloneFlags::CLONE_NEWNET).map_err(|e| fail(e.into()))?;
                    record(&NsIdentity::of_thread().map_err(fail)?)?;
                    // The mount point comes after the record, so a caller killed in between
                    // leaves no file it has not recorded. One left behind by an interrupted
                    // create is reused: it is only a mount point.
                    OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create(true)
                        .truncate(false)
                        .mode(0o000)
                        .open(&path)
                        .map_err(fail)?;
                    // /proc/self would name the thread group leader, not this thread.
                    let own = format!("/proc/self/task/{}/ns/net", nix::unistd::gettid());
                    mount(
                        Some(own.as_str()),
                        &path,
                        None::<&str>,
                        MsFlags::MS_BIND,
                        None::<&str>,
                    )
                    .map_err(|e| fail(e.into()))
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(Error::from_io(
                        "create",
                        object(),
                        Place::Registry,
                        io::Error::other("namespace helper thread panicked"),
                    ))
                })
        });
        if let Err(e) = bound {
            if !is_namespace_file(&path) {
                let _ = fs::remove_file(&path);
            }
            return Err(e);
        }
        Ok(Netns::Named(name.into()))
    }

    fn open(name: &str) -> Result<Netns> {
        validate_name(name)?;
        if is_namespace_file(&path_of(name)) {
            Ok(Netns::Named(name.into()))
        } else {
            Err(Error::NotFound {
                object: Object::Netns(name.to_string()),
                place: Place::Registry,
            })
        }
    }

    fn exists(name: &str) -> bool {
        validate_name(name).is_ok() && is_namespace_file(&path_of(name))
    }

    fn delete(name: &str) -> Result<bool> {
        validate_name(name)?;
        let path = path_of(name);
        if fs::symlink_metadata(&path).is_err() {
            return Ok(false);
        }
        let object = || Object::Netns(name.to_string());
        // NOFOLLOW: a symbolic link of that name goes, not the mount it points to.
        match umount2(&path, MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW) {
            // EINVAL: not a mount point, a leftover of an interrupted create or a link.
            Ok(()) | Err(nix::Error::EINVAL) => {}
            Err(e) => {
                return Err(Error::from_io(
                    "delete",
                    object(),
                    Place::Registry,
                    e.into(),
                ))
            }
        }
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::from_io("delete", object(), Place::Registry, e)),
        }
    }

    fn delete_if(name: &str, expected: &NsIdentity) -> Result<Removal> {
        validate_name(name)?;
        let path = path_of(name);
        if is_link(&path) {
            return Ok(Removal::Different(
                "it is a link someone put there, not the namespace that was created".into(),
            ));
        }
        if !is_namespace_file(&path) {
            if fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() && m.len() == 0) {
                fs::remove_file(&path).map_err(|e| {
                    Error::from_io("delete", Object::Netns(name.into()), Place::Registry, e)
                })?;
            }
            return Ok(Removal::Missing);
        }
        let found = Netns::Named(name.into()).identity()?;
        if !found.same(expected) {
            return Ok(Removal::Different(format!(
                "it is another namespace ({found}, recorded {expected})"
            )));
        }
        Ok(if Netns::delete(name)? {
            Removal::Removed
        } else {
            Removal::Missing
        })
    }

    fn identity(&self) -> Result<NsIdentity> {
        within(self, NsIdentity::of_thread)?
            .map_err(|e| Error::from_io("identify", object_of(self), self.place(), e))
    }

    fn list() -> Result<Vec<String>> {
        let entries = match fs::read_dir(NETNS_RUN_DIR) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::from_io(
                    "list",
                    Object::File(NETNS_RUN_DIR.into()),
                    Place::Registry,
                    e,
                ))
            }
        };
        let mut names: Vec<String> = entries
            .filter_map(|entry| entry.ok())
            .filter(|entry| is_namespace_file(&entry.path()))
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names)
    }

    fn place(&self) -> Place {
        match self {
            Netns::Current => Place::Current,
            Netns::Named(name) => Place::Named(name.clone()),
            other => Place::Netns(other.clone()),
        }
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Result<Command> {
        let mut command = Command::new(program);
        if *self != Netns::Current {
            let fd = Arc::new(OwnedFd::from(namespace_file(self)?));
            // SAFETY: the closure only calls setns(2), which is async-signal-safe, and the
            // descriptor it uses is owned by the closure, so it stays open for every spawn.
            unsafe {
                command.pre_exec(move || {
                    setns(fd.as_fd(), CloneFlags::CLONE_NEWNET).map_err(io::Error::from)
                });
            }
        }
        Ok(command)
    }
}

/// Runs `f` inside `netns` with [`Netns::run`], with a failure to get there in rtsetup's
/// terms: a named namespace that is not there is [`Error::NotFound`].
pub(crate) fn within<T, F>(netns: &Netns, f: F) -> Result<T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    check_named(netns)?;
    netns.run(f).map_err(|e| entering(netns, e))
}

/// The namespace file of `netns`, open, for `setns` or `IFLA_NET_NS_FD`.
pub(crate) fn namespace_file(netns: &Netns) -> Result<fs::File> {
    check_named(netns)?;
    netns.file().map_err(|e| entering(netns, e))
}

/// A name under /run/netns that is no namespace (a leftover mount point, someone's file)
/// is not one: setns on it would fail with a puzzling EINVAL.
fn check_named(netns: &Netns) -> Result<()> {
    match netns.name() {
        Some(name) if !is_namespace_file(&path_of(name)) => Err(Error::NotFound {
            object: object_of(netns),
            place: Place::Registry,
        }),
        _ => Ok(()),
    }
}

fn entering(netns: &Netns, error: ipvs_rs::Error) -> Error {
    match error {
        ipvs_rs::Error::Netns { source, .. } => {
            Error::from_io("enter", object_of(netns), netns.place(), source)
        }
        other => Error::Ipvs {
            action: "entering the namespace".into(),
            place: netns.place(),
            source: other,
        },
    }
}

/// The namespace as the object of a message: its name, or its file when it has none.
pub(crate) fn object_of(netns: &Netns) -> Object {
    Object::Netns(match netns {
        Netns::Current => "(current)".into(),
        Netns::Named(name) => name.clone(),
        other => other.path().display().to_string(),
    })
}

/// What tells one network namespace from another for as long as the machine runs: the
/// device and inode of its nsfs file (`ls -iL /run/netns/NAME`, `/proc/PID/ns/net`) and its
/// cookie (`SO_NETNS_COOKIE`, Linux 5.14 and later), which unlike the inode number is never
/// reused for a later namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NsIdentity {
    /// Device number of the nsfs filesystem.
    pub dev: u64,
    /// Inode number of the namespace in nsfs.
    pub ino: u64,
    /// The namespace's cookie, when the kernel has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<u64>,
}

/// `SO_NETNS_COOKIE` from `<asm-generic/socket.h>`, which libc does not export.
const SO_NETNS_COOKIE: libc::c_int = 71;

impl NsIdentity {
    /// The identity of the calling thread's namespace.
    fn of_thread() -> io::Result<NsIdentity> {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::metadata("/proc/thread-self/ns/net")?;
        Ok(NsIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            cookie: netns_cookie(),
        })
    }

    /// True when both identify the same namespace; a cookie only one side has is not
    /// compared (a record from a kernel without cookies).
    pub fn same(&self, other: &NsIdentity) -> bool {
        self.dev == other.dev
            && self.ino == other.ino
            && match (self.cookie, other.cookie) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl std::fmt::Display for NsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "nsfs inode {} on device {}", self.ino, self.dev)?;
        if let Some(cookie) = self.cookie {
            write!(f, ", cookie {cookie}")?;
        }
        Ok(())
    }
}

/// The cookie of the calling thread's namespace, `None` on kernels without them.
fn netns_cookie() -> Option<u64> {
    // SAFETY: a plain datagram socket used for one getsockopt and closed below.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return None;
    }
    let mut cookie: u64 = 0;
    let mut length = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: cookie and length are valid for writes of the sizes given.
    let result = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            SO_NETNS_COOKIE,
            (&mut cookie as *mut u64).cast(),
            &mut length,
        )
    };
    // SAFETY: fd was opened above and is not used after this.
    unsafe { libc::close(fd) };
    (result == 0).then_some(cookie)
}

/// Runs `f` on a dedicated thread inside the named namespace; see [`Netns::run`]. A name
/// that is not there is [`Error::NotFound`].
///
/// ```no_run
/// let links = rtsetup::in_netns("lb", || std::fs::read_to_string("/proc/thread-self/net/dev"))?;
/// # Ok::<(), rtsetup::Error>(())
/// ```
pub fn in_netns<T, F>(name: &str, f: F) -> Result<T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    within(&Netns::open(name)?, f)
}

fn path_of(name: &str) -> PathBuf {
    Path::new(NETNS_RUN_DIR).join(name)
}

/// iproute2's rule: a file name in /run/netns, so no slash and not "." or "..".
fn validate_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.len() > 255 {
        "it is longer than 255 bytes"
    } else if name.contains('/') || name.contains('\0') {
        "it contains '/' or a NUL byte"
    } else if name == "." || name == ".." {
        "'.' and '..' are not names"
    } else {
        return Ok(());
    };
    Err(Error::Invalid {
        what: "namespace name",
        reason: format!("{name:?}: {reason}"),
    })
}

/// What stands at `/run/netns/NAME` that is neither a namespace's mount nor the empty mount
/// point an interrupted create leaves (which a create reuses): a link (even to a namespace)
/// or a file someone put there.
pub(crate) fn blocking_entry(name: &str) -> Option<String> {
    let path = path_of(name);
    let meta = fs::symlink_metadata(&path).ok()?;
    if is_link(&path) {
        let target = fs::read_link(&path).unwrap_or_default();
        Some(format!("a link to {}", target.display()))
    } else if is_namespace_file(&path) || (meta.is_file() && meta.len() == 0) {
        None
    } else {
        Some("a file that is no namespace".into())
    }
}

/// A namespace file: a bind mount as `ip netns add` makes it, or a link to one (people link
/// `/proc/PID/ns/net` there to use a container's namespace with `ip netns exec`), which is
/// followed for use but never for creating or deleting (see [`is_link`]).
fn is_namespace_file(path: &Path) -> bool {
    nix::sys::statfs::statfs(path)
        // nsfs is the filesystem behind /proc/*/ns/* and their bind mounts.
        .map(|fs| fs.filesystem_type() == nix::sys::statfs::NSFS_MAGIC)
        .unwrap_or(false)
}

/// Whether `path` is a symbolic link: someone else's entry, whatever it points to. Mounting
/// over it or unmounting it would act on its target.
fn is_link(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Makes /run/netns a shared mount, as iproute2 does, so that namespaces mounted there
/// later propagate into mount namespaces created after this one (`ip netns exec` relies on it).
fn prepare_run_dir() -> Result<()> {
    let dir = Path::new(NETNS_RUN_DIR);
    let fail = |e: io::Error| {
        Error::from_io(
            "prepare",
            Object::File(dir.to_path_buf()),
            Place::Registry,
            e,
        )
    };
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(fail(e)),
    }
    let make_shared = || {
        mount(
            None::<&str>,
            dir,
            Some("none"),
            MsFlags::MS_SHARED | MsFlags::MS_REC,
            None::<&str>,
        )
    };
    match make_shared() {
        Ok(()) => Ok(()),
        // EINVAL: /run/netns is not a mount point yet; bind it onto itself first.
        Err(nix::Error::EINVAL) => {
            mount(
                Some(dir),
                dir,
                Some("none"),
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )
            .map_err(|e| fail(e.into()))?;
            make_shared().map_err(|e| fail(e.into()))
        }
        Err(e) => Err(fail(e.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_iproute2_rules() {
        for bad in ["", ".", "..", "a/b", &"x".repeat(256)] {
            assert!(validate_name(bad).is_err(), "{bad:?} should be rejected");
        }
        for good in ["lb", "ap1", "client-1.test"] {
            assert!(validate_name(good).is_ok(), "{good:?} should be accepted");
        }
    }
}
