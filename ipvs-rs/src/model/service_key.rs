//! The identity of a virtual service.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use super::parse_error::{number, ParseError};
use crate::{AddressFamily, Protocol};

/// What identifies a virtual service in the kernel's table.
///
/// A service is either an address, port and protocol (`ipvsadm -t/-u/--sctp-service`), or a
/// firewall mark within an address family (`ipvsadm -f`, with `-6` for IPv6).
///
/// The text form is `PROTOCOL:ADDRESS:PORT` with IPv6 addresses in brackets
/// (`tcp:192.168.0.10:80`, `udp:[2001:db8::1]:53`), `fwmark:MARK` for IPv4 firewall marks and
/// `fwmark6:MARK` for IPv6 ones (`fwmark-af{N}:MARK` for any other family number).
///
/// ```
/// use ipvs_rs::{AddressFamily, Protocol, ServiceKey};
/// use std::net::SocketAddr;
///
/// let key: ServiceKey = "udp:[2001:db8::1]:53".parse()?;
/// assert_eq!(key.protocol(), Some(Protocol::Udp));
/// assert_eq!(key.port(), Some(53));
/// assert_eq!(key.to_string(), "udp:[2001:db8::1]:53");
/// assert_eq!("fwmark6:7".parse::<ServiceKey>()?, ServiceKey::fwmark(7, AddressFamily::Inet6));
///
/// let web = ServiceKey::from((Protocol::Tcp, "192.168.0.10:80".parse::<SocketAddr>().unwrap()));
/// assert_eq!(web.to_string(), "tcp:192.168.0.10:80");
/// # Ok::<(), ipvs_rs::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    /// A service on a virtual address, port and transport protocol.
    Inet {
        /// The transport protocol.
        protocol: Protocol,
        /// The virtual address; its version sets the service's family.
        addr: IpAddr,
        /// The virtual port (0 means every port, for persistent services).
        port: u16,
    },
    /// A service matching packets by firewall mark.
    Fwmark {
        /// The firewall mark.
        mark: u32,
        /// The address family of the packets the service matches.
        family: AddressFamily,
    },
}

impl ServiceKey {
    /// A TCP service on `addr:port`.
    pub fn tcp(addr: impl Into<IpAddr>, port: u16) -> Self {
        ServiceKey::Inet {
            protocol: Protocol::Tcp,
            addr: addr.into(),
            port,
        }
    }

    /// A UDP service on `addr:port`.
    pub fn udp(addr: impl Into<IpAddr>, port: u16) -> Self {
        ServiceKey::Inet {
            protocol: Protocol::Udp,
            addr: addr.into(),
            port,
        }
    }

    /// An SCTP service on `addr:port`.
    pub fn sctp(addr: impl Into<IpAddr>, port: u16) -> Self {
        ServiceKey::Inet {
            protocol: Protocol::Sctp,
            addr: addr.into(),
            port,
        }
    }

    /// A firewall-mark service of the given family.
    pub fn fwmark(mark: u32, family: AddressFamily) -> Self {
        ServiceKey::Fwmark { mark, family }
    }

    /// The service's address family.
    pub fn family(&self) -> AddressFamily {
        match self {
            ServiceKey::Inet { addr, .. } => AddressFamily::of(addr),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }

    /// The virtual address, `None` for a firewall-mark service.
    pub fn address(&self) -> Option<IpAddr> {
        match self {
            ServiceKey::Inet { addr, .. } => Some(*addr),
            ServiceKey::Fwmark { .. } => None,
        }
    }

    /// The virtual port, `None` for a firewall-mark service.
    pub fn port(&self) -> Option<u16> {
        match self {
            ServiceKey::Inet { port, .. } => Some(*port),
            ServiceKey::Fwmark { .. } => None,
        }
    }

    /// The transport protocol, `None` for a firewall-mark service.
    pub fn protocol(&self) -> Option<Protocol> {
        match self {
            ServiceKey::Inet { protocol, .. } => Some(*protocol),
            ServiceKey::Fwmark { .. } => None,
        }
    }

    /// The virtual address and port, `None` for a firewall-mark service.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        match self {
            ServiceKey::Inet { addr, port, .. } => Some(SocketAddr::new(*addr, *port)),
            ServiceKey::Fwmark { .. } => None,
        }
    }

    /// The firewall mark, `None` for an address service.
    pub fn mark(&self) -> Option<u32> {
        match self {
            ServiceKey::Fwmark { mark, .. } => Some(*mark),
            ServiceKey::Inet { .. } => None,
        }
    }
}

impl From<(Protocol, SocketAddr)> for ServiceKey {
    fn from((protocol, addr): (Protocol, SocketAddr)) -> Self {
        ServiceKey::Inet {
            protocol,
            addr: addr.ip(),
            port: addr.port(),
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Inet {
                protocol,
                addr,
                port,
            } => write!(f, "{protocol}:{}", SocketAddr::new(*addr, *port)),
            ServiceKey::Fwmark {
                mark,
                family: AddressFamily::Inet,
            } => write!(f, "fwmark:{mark}"),
            ServiceKey::Fwmark {
                mark,
                family: AddressFamily::Inet6,
            } => write!(f, "fwmark6:{mark}"),
            ServiceKey::Fwmark {
                mark,
                family: AddressFamily::Other(n),
            } => write!(f, "fwmark-af{n}:{mark}"),
        }
    }
}

impl FromStr for ServiceKey {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "service key";
        let err = |reason: String| ParseError::new(WHAT, s, reason);
        let Some((head, rest)) = s.split_once(':') else {
            return Err(err(
                "expected PROTOCOL:ADDRESS:PORT, fwmark:MARK or fwmark6:MARK".into(),
            ));
        };
        let fwmark_family = match head {
            "fwmark" => Some(AddressFamily::Inet),
            "fwmark6" => Some(AddressFamily::Inet6),
            _ => head
                .strip_prefix("fwmark-af")
                .map(|n| number::<u16>(WHAT, s, n, "family").map(AddressFamily::from))
                .transpose()?,
        };
        if let Some(family) = fwmark_family {
            let mark = number::<u32>(WHAT, s, rest, "firewall mark")?;
            return Ok(ServiceKey::Fwmark { mark, family });
        }
        let protocol = head.parse::<Protocol>().map_err(|_| {
            err(format!(
                "unknown protocol `{head}` (tcp, udp, sctp or a protocol number)"
            ))
        })?;
        let addr = rest.parse::<SocketAddr>().map_err(|_| {
            err(format!(
                "`{rest}` is not ADDRESS:PORT (IPv6 addresses in brackets)"
            ))
        })?;
        if let SocketAddr::V6(v6) = addr {
            if v6.scope_id() != 0 || v6.flowinfo() != 0 {
                return Err(err("IPVS services have no IPv6 scope id".into()));
            }
        }
        Ok(ServiceKey::from((protocol, addr)))
    }
}
