//! `--netns NAME`: run inside a named network namespace (ipvsadm-rs only).
//!
//! The whole process moves, before IPVS is initialised, so that everything ipvsadm does
//! per namespace follows: the netlink family, module loading, and /proc/net/ip_vs_conn for
//! `-c` (which a handle opened in another namespace would not reach).

use ipvs_rs::Netns;

use crate::error::{Error, Result};
use crate::options::NETNS_LONG;

/// Removes `--netns NAME` or `--netns=NAME` from the arguments and returns the name.
pub fn take_option(mut args: Vec<String>) -> Result<(Vec<String>, Option<String>)> {
    let flag = format!("--{NETNS_LONG}");
    let prefix = format!("{flag}=");
    let Some(i) = args
        .iter()
        .skip(1)
        .position(|a| *a == flag || a.starts_with(&prefix))
        .map(|i| i + 1)
    else {
        return Ok((args, None));
    };
    let word = args.remove(i);
    let name = match word.strip_prefix(&prefix) {
        Some(name) => name.to_string(),
        None if i < args.len() => args.remove(i),
        None => return Err(Error::Invalid(format!("{flag} needs a namespace name"))),
    };
    Ok((args, Some(name)))
}

/// The namespace file for a name (under /run/netns) or a path (containing `/`).
pub fn namespace(name: &str) -> Netns {
    if name.contains('/') {
        Netns::Path(name.into())
    } else {
        Netns::Named(name.into())
    }
}

/// Moves this (single-threaded) process into the namespace.
pub fn enter(name: &str) -> Result<()> {
    namespace(name).enter().map_err(|e| Error::Netns {
        name: name.to_string(),
        reason: match e {
            ipvs_rs::Error::Netns { path, source } => format!("{}: {source}", path.display()),
            other => other.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn takes_both_spellings() {
        let (args, ns) = take_option(v(&["ipvsadm", "--netns", "lb", "-Ln"])).unwrap();
        assert_eq!((args, ns.as_deref()), (v(&["ipvsadm", "-Ln"]), Some("lb")));
        let (args, ns) = take_option(v(&["ipvsadm", "-Ln", "--netns=/proc/1/ns/net"])).unwrap();
        assert_eq!(
            (args, ns.as_deref()),
            (v(&["ipvsadm", "-Ln"]), Some("/proc/1/ns/net"))
        );
        let (args, ns) = take_option(v(&["ipvsadm", "-Ln"])).unwrap();
        assert_eq!((args.len(), ns), (2, None));
        assert!(take_option(v(&["ipvsadm", "-Ln", "--netns"])).is_err());
    }

    #[test]
    fn names_and_paths() {
        assert_eq!(
            namespace("lb").path(),
            std::path::PathBuf::from("/run/netns/lb")
        );
        assert_eq!(
            namespace("/proc/1/ns/net").path(),
            std::path::PathBuf::from("/proc/1/ns/net")
        );
    }

    #[test]
    fn missing_namespace_is_reported() {
        let e = enter("no-such-namespace-here").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("no-such-namespace-here"));
    }
}
