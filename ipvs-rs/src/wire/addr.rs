//! The 16-byte address field shared by services and destinations (`union nf_inet_addr`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::DecodeError;

use crate::AddressFamily;

/// The address as the kernel's 16-byte field: an IPv4 address fills the first 4 bytes.
pub fn addr_to_wire(addr: &IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(a) => {
            let mut out = [0; 16];
            out[..4].copy_from_slice(&a.octets());
            out
        }
        IpAddr::V6(a) => a.octets(),
    }
}

/// Reads the 16-byte field as an address of `family`.
pub fn addr_from_wire(raw: &[u8; 16], family: AddressFamily) -> Result<IpAddr, DecodeError> {
    match family {
        AddressFamily::Inet => Ok(IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))),
        AddressFamily::Inet6 => Ok(IpAddr::V6(Ipv6Addr::from(*raw))),
        AddressFamily::Other(n) => Err(DecodeError::from(format!("unknown address family {n}"))),
    }
}
