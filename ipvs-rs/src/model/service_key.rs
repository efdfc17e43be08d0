//! The identity of a virtual service.

use std::fmt;
use std::net::IpAddr;

use crate::{AddressFamily, Protocol};

/// What identifies a virtual service in the kernel's table.
///
/// A service is either an address, port and protocol (`ipvsadm -t/-u/--sctp-service`), or a
/// firewall mark within an address family (`ipvsadm -f`, with `-6` for IPv6).
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
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Inet {
                protocol,
                addr: IpAddr::V6(a),
                port,
            } => {
                write!(f, "{protocol} [{a}]:{port}")
            }
            ServiceKey::Inet {
                protocol,
                addr,
                port,
            } => write!(f, "{protocol} {addr}:{port}"),
            ServiceKey::Fwmark { mark, family } => write!(f, "FWM {mark} ({family})"),
        }
    }
}
