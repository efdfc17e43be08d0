//! The crate's error type: which object failed, where, and why.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// What an operation was working on when it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    /// A named network namespace.
    Netns(String),
    /// A network interface of any kind.
    Link(String),
    /// A veth interface.
    Veth(String),
    /// A bridge.
    Bridge(String),
    /// An address on an interface.
    Address {
        /// The address with its prefix length.
        address: String,
        /// The interface's name.
        link: String,
    },
    /// A route, described by its destination.
    Route(String),
    /// A neighbour (ARP or NDP) entry, described by its address.
    Neighbour(String),
    /// A sysctl, in dotted form.
    Sysctl(String),
    /// An AF_PACKET capture socket on an interface.
    Capture(String),
    /// A file rtsetup reads or writes.
    File(PathBuf),
    /// A process rtsetup runs.
    Process(String),
    /// A URL rtsetup fetches or serves.
    Url(String),
    /// A lab, by name.
    Lab(String),
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::Netns(name) => write!(f, "namespace {name}"),
            Object::Link(name) => write!(f, "link {name}"),
            Object::Veth(name) => write!(f, "veth {name}"),
            Object::Bridge(name) => write!(f, "bridge {name}"),
            Object::Address { address, link } => write!(f, "address {address} on {link}"),
            Object::Route(dst) => write!(f, "route to {dst}"),
            Object::Neighbour(addr) => write!(f, "neighbour {addr}"),
            Object::Sysctl(key) => write!(f, "sysctl {key}"),
            Object::Capture(link) => write!(f, "packet capture on {link}"),
            Object::File(path) => write!(f, "file {}", path.display()),
            Object::Process(what) => write!(f, "process {what}"),
            Object::Url(url) => f.write_str(url),
            Object::Lab(name) => write!(f, "lab {name}"),
        }
    }
}

/// Where an object lives: a named namespace, the caller's namespace, or the host's namespace
/// registry (`/run/netns`) for namespaces themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The network namespace of the calling thread.
    Current,
    /// A named namespace under `/run/netns`.
    Named(String),
    /// The registry of named namespaces, `/run/netns`.
    Registry,
    /// The filesystem, for files that belong to no namespace.
    Filesystem,
    /// A namespace given by file, process or descriptor rather than by name.
    Netns(ipvs_rs::Netns),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Current => f.write_str("the current namespace"),
            Place::Named(name) => write!(f, "namespace {name}"),
            Place::Registry => f.write_str(crate::netns::NETNS_RUN_DIR),
            Place::Filesystem => f.write_str("the filesystem"),
            Place::Netns(netns) => netns.fmt(f),
        }
    }
}

/// Everything that can go wrong in rtsetup.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object exists already with a different shape than requested.
    #[error("{object} already exists in {place}: {detail}")]
    Exists {
        /// What was to be created.
        object: Object,
        /// Where.
        place: Place,
        /// How the existing object differs from the request.
        detail: String,
    },
    /// Names a lab needs are taken by objects the lab did not create; nothing was touched.
    #[error(
        "lab {lab} will not touch what it did not create, and these exist already: {}. \
         Remove them if they are yours to remove, or bring the lab up under other names \
         (rtsetup lab up --prefix PREFIX)",
        .taken.join("; ")
    )]
    Taken {
        /// The lab.
        lab: String,
        /// Each object in the way, with where it is and what it is.
        taken: Vec<String>,
    },
    /// The object (or something it needs, such as a bridge to enslave to) is missing.
    #[error("{object} not found in {place}")]
    NotFound {
        /// What was missing.
        object: Object,
        /// Where it was looked for.
        place: Place,
    },
    /// The kernel refused the operation for lack of privileges.
    #[error(
        "permission denied to {action} {object} in {place}: run as root \
         (CAP_NET_ADMIN and CAP_SYS_ADMIN are needed)"
    )]
    Permission {
        /// The operation, as a verb ("create", "delete", ...).
        action: &'static str,
        /// What it applied to.
        object: Object,
        /// Where.
        place: Place,
    },
    /// The kernel or the system refused the operation for another reason.
    #[error("cannot {action} {object} in {place}: {source}")]
    System {
        /// The operation, as a verb.
        action: &'static str,
        /// What it applied to.
        object: Object,
        /// Where.
        place: Place,
        /// The underlying error (an errno from the kernel, usually).
        #[source]
        source: io::Error,
    },
    /// The caller passed a value rtsetup cannot use.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was invalid ("namespace name", "address", ...).
        what: &'static str,
        /// Why, in words a person can act on.
        reason: String,
    },
    /// The kernel sent a reply rtsetup could not decode.
    #[error("cannot decode the kernel's netlink reply in {place}: {reason}")]
    Decode {
        /// The namespace the reply came from.
        place: Place,
        /// The decoder's message.
        reason: String,
    },
    /// An IPVS operation (through ipvs-rs) failed.
    #[error("IPVS in {place}, {action}: {source}")]
    Ipvs {
        /// The operation (“adding service 192.168.0.10:80”, ...).
        action: String,
        /// The namespace holding the IPVS table.
        place: Place,
        /// The ipvs-rs error.
        #[source]
        source: ipvs_rs::Error,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Maps an errno from an operation on `object` to the matching variant: EEXIST to
    /// [`Error::Exists`], ENOENT/ENODEV/ESRCH to [`Error::NotFound`], EPERM/EACCES to
    /// [`Error::Permission`], everything else to [`Error::System`].
    pub fn from_io(action: &'static str, object: Object, place: Place, source: io::Error) -> Error {
        match source.raw_os_error() {
            Some(libc::EEXIST) => Error::Exists {
                object,
                place,
                detail: source.to_string(),
            },
            Some(libc::ENOENT | libc::ENODEV | libc::ESRCH) => Error::NotFound { object, place },
            Some(libc::EPERM | libc::EACCES) => Error::Permission {
                action,
                object,
                place,
            },
            _ => Error::System {
                action,
                object,
                place,
                source,
            },
        }
    }

    /// True for [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(errno: i32) -> Error {
        Error::from_io(
            "create",
            Object::Veth("lb-veth0".into()),
            Place::Named("lb".into()),
            io::Error::from_raw_os_error(errno),
        )
    }

    #[test]
    fn errnos_map_to_variants_that_name_the_object() {
        assert!(matches!(mapped(libc::EEXIST), Error::Exists { .. }));
        let missing = mapped(libc::ENODEV);
        assert!(missing.is_not_found());
        assert_eq!(
            missing.to_string(),
            "veth lb-veth0 not found in namespace lb"
        );
        let denied = mapped(libc::EPERM);
        assert!(matches!(
            denied,
            Error::Permission {
                action: "create",
                ..
            }
        ));
        assert!(denied
            .to_string()
            .starts_with("permission denied to create veth lb-veth0 in namespace lb: run as root"));
        let other = mapped(libc::EINVAL);
        assert!(matches!(other, Error::System { .. }));
        assert!(
            other
                .to_string()
                .starts_with("cannot create veth lb-veth0 in namespace lb: "),
            "{other}"
        );
    }
}
