//! Persistence netmasks.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use super::parse_error::{number, ParseError};
use crate::AddressFamily;

/// The netmask persistence groups clients by (`ipvsadm -M`).
///
/// IPv4 services carry a mask; IPv6 services a prefix length (1 to 128). The wire attribute is
/// the same 32-bit field: a big-endian mask for IPv4, a host-order number for IPv6.
///
/// The text form is the IPv4 mask in dotted quads (`255.255.255.0`) or the IPv6 prefix length
/// as a number (`64`). Parsing does not check the range or the family: validation does, when
/// the netmask is sent with a service.
///
/// ```
/// use ipvs_rs::Netmask;
/// use std::net::Ipv4Addr;
/// assert_eq!("255.255.255.0".parse::<Netmask>()?, Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)));
/// assert_eq!("64".parse::<Netmask>()?, Netmask::V6(64));
/// # Ok::<(), ipvs_rs::ParseError>(())
/// ```
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

impl FromStr for Netmask {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "netmask";
        if s.contains('.') {
            s.parse::<Ipv4Addr>()
                .map(Netmask::V4)
                .map_err(|_| ParseError::new(WHAT, s, "not an IPv4 mask in dotted quads"))
        } else {
            number::<u32>(WHAT, s, s, "prefix length").map(Netmask::V6)
        }
    }
}
