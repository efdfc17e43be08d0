//! Per-namespace network sysctls (`net.*`), read and written through `/proc/sys`.
//!
//! The files under `/proc/sys/net` show the namespace of the thread that opens them, so
//! each access happens on a thread inside the target namespace.

use std::fmt;
use std::fs;
use std::path::PathBuf;

use crate::error::{Error, Object, Result};
use crate::netns::{within, Netns, NetnsExt};

/// A network sysctl key.
///
/// ```
/// use rtsetup::sysctl::Key;
/// let key: Key = "net.ipv4.conf.all.arp_ignore".parse()?;
/// assert_eq!(key, Key::ipv4_conf("all", "arp_ignore"));
/// # Ok::<(), rtsetup::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    parts: Vec<String>,
}

impl Key {
    /// `net.ipv4.conf.IFACE.SETTING`; `iface` may be `all`, `default` or an interface name
    /// (which may itself contain dots).
    pub fn ipv4_conf(iface: &str, setting: &str) -> Key {
        Key {
            parts: ["net", "ipv4", "conf", iface, setting]
                .map(String::from)
                .to_vec(),
        }
    }

    /// `net.ipv4.ip_forward`.
    pub fn ip_forward() -> Key {
        Key {
            parts: ["net", "ipv4", "ip_forward"].map(String::from).to_vec(),
        }
    }

    fn path(&self) -> PathBuf {
        let mut path = PathBuf::from("/proc/sys");
        path.extend(&self.parts);
        path
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // sysctl(8) shows dots inside a component as slashes.
        let parts: Vec<String> = self.parts.iter().map(|p| p.replace('.', "/")).collect();
        f.write_str(&parts.join("."))
    }
}

impl std::str::FromStr for Key {
    type Err = Error;

    /// Parses a dotted key; only `net.*` keys, the ones that belong to a network namespace.
    fn from_str(s: &str) -> Result<Key> {
        let parts: Vec<String> = s.split('.').map(|p| p.replace('/', ".")).collect();
        let valid = parts.len() >= 2
            && parts[0] == "net"
            && parts.iter().all(|p| !p.is_empty() && p != ".." && p != ".");
        if !valid {
            return Err(Error::Invalid {
                what: "sysctl key",
                reason: format!("{s:?}: only net.* keys are per network namespace"),
            });
        }
        Ok(Key { parts })
    }
}

/// Reads a sysctl in `netns`, trimmed, like `sysctl -n KEY`.
///
/// ```no_run
/// use rtsetup::{sysctl, Netns, NetnsExt};
/// let ap = Netns::open("ap")?;
/// let value = sysctl::read(&ap, &sysctl::Key::ipv4_conf("all", "arp_ignore"))?;
/// # Ok::<(), rtsetup::Error>(())
/// ```
pub fn read(netns: &Netns, key: &Key) -> Result<String> {
    let path = key.path();
    within(netns, || fs::read_to_string(&path))?
        .map(|value| value.trim().to_string())
        .map_err(|e| Error::from_io("read", Object::Sysctl(key.to_string()), netns.place(), e))
}

/// Writes a sysctl in `netns`, like `sysctl -w KEY=VALUE`.
pub fn write(netns: &Netns, key: &Key, value: &str) -> Result<()> {
    let path = key.path();
    within(netns, || fs::write(&path, value))?
        .map_err(|e| Error::from_io("write", Object::Sysctl(key.to_string()), netns.place(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_proc_paths() {
        let key: Key = "net.ipv4.conf.eth0/100.rp_filter".parse().unwrap();
        assert_eq!(
            key.path(),
            PathBuf::from("/proc/sys/net/ipv4/conf/eth0.100/rp_filter")
        );
        assert_eq!(key.to_string(), "net.ipv4.conf.eth0/100.rp_filter");
        assert!("kernel.hostname".parse::<Key>().is_err());
        assert!("net..x".parse::<Key>().is_err());
        assert!("net.ipv4.conf.....".parse::<Key>().is_err());
    }
}
