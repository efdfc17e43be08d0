//! An IP address with a prefix length, as in `192.168.0.1/24`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An interface address or a route destination: an address and a prefix length.
///
/// ```
/// let net: rtsetup::IpNet = "192.168.0.10/32".parse()?;
/// assert_eq!(net.prefix_len(), 32);
/// assert_eq!(net.to_string(), "192.168.0.10/32");
/// # Ok::<(), rtsetup::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix_len: u8,
}

impl IpNet {
    /// `addr/prefix_len`, or an error when the prefix is longer than the address.
    pub fn new(addr: IpAddr, prefix_len: u8) -> crate::Result<IpNet> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix_len > max {
            return Err(crate::Error::Invalid {
                what: "prefix length",
                reason: format!("/{prefix_len} is longer than {max} bits for {addr}"),
            });
        }
        Ok(IpNet { addr, prefix_len })
    }

    /// A host prefix: /32 for IPv4, /128 for IPv6.
    pub fn host(addr: IpAddr) -> IpNet {
        let prefix_len = if addr.is_ipv4() { 32 } else { 128 };
        IpNet { addr, prefix_len }
    }

    /// The address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// True when `other` lies inside this prefix.
    pub fn contains(&self, other: IpAddr) -> bool {
        match (self.addr, other) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl FromStr for IpNet {
    type Err = crate::Error;

    /// Parses `ADDR/LEN`, or a bare address as a host prefix.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| crate::Error::Invalid {
            what: "address",
            reason: format!("{s:?}: {reason}"),
        };
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| invalid("not an IP address"))?;
        match prefix {
            None => Ok(IpNet::host(addr)),
            Some(prefix) => {
                let len = prefix
                    .parse()
                    .map_err(|_| invalid("the prefix length is not a number"))?;
                IpNet::new(addr, len)
            }
        }
    }
}

crate::serde_text::serde_as_text!(IpNet);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prefixes_and_bare_addresses() {
        let net: IpNet = "192.168.0.1/24".parse().unwrap();
        assert_eq!(net.prefix_len(), 24);
        assert!(net.contains("192.168.0.200".parse().unwrap()));
        assert!(!net.contains("192.168.1.1".parse().unwrap()));
        assert_eq!("fd00::1".parse::<IpNet>().unwrap().prefix_len(), 128);
        assert!("0.0.0.0/0"
            .parse::<IpNet>()
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        for bad in ["192.168.0.1/33", "fd00::/129", "x/24", "10.0.0.1/y"] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad:?}");
        }
    }
}
