//! IPVS's settings, `net.ipv4.vs.*` (`/proc/sys/net/ipv4/vs`), one set per network namespace.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::{Error, Netns, ParseError, Result};

const DIR: &str = "/proc/sys/net/ipv4/vs";

/// One of IPVS's settings, such as those kube-proxy sets on every node (`conntrack`,
/// `expire_nodest_conn`, `expire_quiescent_template`, `conn_reuse_mode`) or an ECMP director
/// needs (`sloppy_tcp`). Each network namespace has its own values.
///
/// The common ones are constants; [`Sysctl::named`] (or `parse`) names any other, since the
/// set grows with the kernel.
///
/// ```no_run
/// use ipvs_rs::{Netns, Sysctl};
/// let lb = Netns::Named("lb".into());
/// Sysctl::CONNTRACK.write(&lb, "1")?;
/// Sysctl::EXPIRE_NODEST_CONN.write(&lb, "1")?;
/// assert_eq!(Sysctl::CONNTRACK.read(&lb)?, "1");
/// let period: Sysctl = "sync_refresh_period".parse()?;
/// println!("{period} = {}", period.read(&lb)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sysctl(Cow<'static, str>);

impl Sysctl {
    /// Keep netfilter connection tracking entries for IPVS connections (needed for SNAT or
    /// firewall rules on the director's traffic).
    pub const CONNTRACK: Sysctl = Sysctl(Cow::Borrowed("conntrack"));
    /// Expire a connection at once when its real server is deleted, instead of dropping its
    /// packets until it times out.
    pub const EXPIRE_NODEST_CONN: Sysctl = Sysctl(Cow::Borrowed("expire_nodest_conn"));
    /// Expire persistence templates of a real server whose weight is 0.
    pub const EXPIRE_QUIESCENT_TEMPLATE: Sysctl =
        Sysctl(Cow::Borrowed("expire_quiescent_template"));
    /// How a new connection that reuses the ports of an old one is scheduled.
    pub const CONN_REUSE_MODE: Sysctl = Sysctl(Cow::Borrowed("conn_reuse_mode"));
    /// Accept a TCP connection from any state, not only SYN (a director taking over
    /// connections it never saw start, in ECMP).
    pub const SLOPPY_TCP: Sysctl = Sysctl(Cow::Borrowed("sloppy_tcp"));
    /// The same for SCTP.
    pub const SLOPPY_SCTP: Sysctl = Sysctl(Cow::Borrowed("sloppy_sctp"));
    /// Route masqueraded replies again after SNAT.
    pub const SNAT_REROUTE: Sysctl = Sysctl(Cow::Borrowed("snat_reroute"));
    /// Schedule ICMP packets that start no connection.
    pub const SCHEDULE_ICMP: Sysctl = Sysctl(Cow::Borrowed("schedule_icmp"));
    /// Leave tunnelled packets alone.
    pub const IGNORE_TUNNELED: Sysctl = Sysctl(Cow::Borrowed("ignore_tunneled"));
    /// Run as a backup only: no scheduling while the backup sync daemon runs.
    pub const BACKUP_ONLY: Sysctl = Sysctl(Cow::Borrowed("backup_only"));
    /// The sync protocol version of the master sync daemon (0 or 1).
    pub const SYNC_VERSION: Sysctl = Sysctl(Cow::Borrowed("sync_version"));
    /// Compute the rate estimates (`ipvsadm -L --rate`).
    pub const RUN_ESTIMATION: Sysctl = Sysctl(Cow::Borrowed("run_estimation"));

    /// A setting by its name under `/proc/sys/net/ipv4/vs` (`sync_refresh_period`), or its
    /// dotted form (`net.ipv4.vs.sync_refresh_period`).
    ///
    /// # Errors
    /// A name that cannot be one (empty, or with characters other than lowercase letters,
    /// digits and `_`).
    pub fn named(name: &str) -> std::result::Result<Sysctl, ParseError> {
        let bare = name.strip_prefix("net.ipv4.vs.").unwrap_or(name);
        if bare.is_empty()
            || !bare
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(ParseError::new(
                "IPVS setting",
                name,
                "expected a name under net.ipv4.vs: lowercase letters, digits and `_`",
            ));
        }
        Ok(Sysctl(Cow::Owned(bare.to_owned())))
    }

    /// The name under `/proc/sys/net/ipv4/vs`.
    pub fn name(&self) -> &str {
        &self.0
    }

    /// The file, as seen from the namespace it is read in.
    pub fn path(&self) -> PathBuf {
        Path::new(DIR).join(self.name())
    }

    /// The value in `netns`, without the trailing newline (settings of several numbers keep
    /// the kernel's tab between them).
    ///
    /// # Errors
    /// [`Error::NotAvailable`] when the namespace has no IPVS settings (ip_vs not loaded),
    /// [`Error::Sysctl`] when this one cannot be read (no such setting in this kernel),
    /// [`Error::Netns`] when the namespace cannot be entered.
    pub fn read(&self, netns: &Netns) -> Result<String> {
        let path = self.path();
        let text = self.access(netns, "read", || std::fs::read_to_string(&path))?;
        Ok(text.strip_suffix('\n').unwrap_or(&text).to_owned())
    }

    /// Sets the value in `netns` (root in the namespace's owner).
    ///
    /// # Errors
    /// As [`Sysctl::read`]; a value the kernel refuses is [`Error::Sysctl`] with `EINVAL`.
    pub fn write(&self, netns: &Netns, value: &str) -> Result<()> {
        let path = self.path();
        self.access(netns, "write", || std::fs::write(&path, value))
    }

    fn access<T: Send>(
        &self,
        netns: &Netns,
        action: &'static str,
        io: impl FnOnce() -> io::Result<T> + Send,
    ) -> Result<T> {
        // Inside the namespace: /proc/sys/net shows the namespace of the thread that opens it.
        let (result, has_ipvs) = netns.run(|| {
            let result = io();
            let missing = matches!(&result, Err(e) if e.kind() == io::ErrorKind::NotFound);
            (result, !missing || Path::new(DIR).is_dir())
        })?;
        match result {
            Ok(value) => Ok(value),
            Err(_) if !has_ipvs => Err(Error::NotAvailable),
            Err(source) => Err(Error::Sysctl {
                sysctl: self.clone(),
                action,
                source,
            }),
        }
    }
}

impl fmt::Display for Sysctl {
    /// The dotted form, `net.ipv4.vs.conntrack`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "net.ipv4.vs.{}", self.0)
    }
}

impl FromStr for Sysctl {
    type Err = ParseError;

    /// As [`Sysctl::named`].
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Sysctl::named(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_their_forms() {
        let named: Sysctl = "net.ipv4.vs.conntrack".parse().unwrap();
        assert_eq!(named, Sysctl::CONNTRACK);
        assert_eq!(Sysctl::named("conntrack").unwrap(), Sysctl::CONNTRACK);
        assert_eq!(Sysctl::SLOPPY_TCP.to_string(), "net.ipv4.vs.sloppy_tcp");
        assert_eq!(
            Sysctl::SLOPPY_TCP.path(),
            Path::new("/proc/sys/net/ipv4/vs/sloppy_tcp")
        );
        for bad in [
            "",
            "net.ipv4.vs.",
            "../../kernel/hostname",
            "Conntrack",
            "a b",
            "a/b",
        ] {
            let error = Sysctl::named(bad).unwrap_err();
            assert_eq!(error.input(), bad);
        }
    }
}
