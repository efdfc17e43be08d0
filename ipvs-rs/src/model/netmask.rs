//! Persistence netmasks.

use std::fmt;
use std::net::Ipv4Addr;

use crate::AddressFamily;

/// The netmask persistence groups clients by (`ipvsadm -M`).
///
/// IPv4 services carry a mask; IPv6 services a prefix length (1 to 128). The wire attribute is
/// the same 32-bit field: a big-endian mask for IPv4, a host-order number for IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Netmask {
    /// An IPv4 mask such as 255.255.255.0.
    V4(Ipv4Addr),
    /// An IPv6 prefix length.
    V6(u32),
}

impl Netmask {
    /// The default netmask of a family: a host mask (255.255.255.255 or /128), as ipvsadm sends.
    pub fn host(family: AddressFamily) -> Self {
        match family {
            AddressFamily::Inet6 => Netmask::V6(128),
            _ => Netmask::V4(Ipv4Addr::BROADCAST),
        }
    }

    /// The 32-bit value as the kernel stores it in host memory (the wire representation).
    pub(crate) fn to_raw(self) -> u32 {
        match self {
            Netmask::V4(mask) => u32::from_ne_bytes(mask.octets()),
            Netmask::V6(prefix) => prefix,
        }
    }

    /// Interprets the kernel's 32-bit value for a service of `family`.
    pub(crate) fn from_raw(raw: u32, family: AddressFamily) -> Self {
        match family {
            AddressFamily::Inet6 => Netmask::V6(raw),
            _ => Netmask::V4(Ipv4Addr::from(raw.to_ne_bytes())),
        }
    }
}

impl fmt::Display for Netmask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Netmask::V4(mask) => write!(f, "{mask}"),
            Netmask::V6(prefix) => write!(f, "{prefix}"),
        }
    }
}
