//! Transport protocols of virtual services.

use std::fmt;

/// The transport protocol of a [`ServiceKey::Inet`](crate::ServiceKey::Inet) service.
///
/// On the wire this is the IP protocol number (`IPPROTO_*`) as a 16-bit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP (protocol number 6).
    Tcp,
    /// UDP (protocol number 17).
    Udp,
    /// SCTP (protocol number 132).
    Sctp,
    /// Any other protocol number, kept as the kernel reported it.
    Other(u16),
}

impl Protocol {
    /// The IP protocol number.
    pub fn number(self) -> u16 {
        match self {
            Protocol::Tcp => libc::IPPROTO_TCP as u16,
            Protocol::Udp => libc::IPPROTO_UDP as u16,
            Protocol::Sctp => libc::IPPROTO_SCTP as u16,
            Protocol::Other(n) => n,
        }
    }
}

impl From<u16> for Protocol {
    fn from(n: u16) -> Self {
        match i32::from(n) {
            libc::IPPROTO_TCP => Protocol::Tcp,
            libc::IPPROTO_UDP => Protocol::Udp,
            libc::IPPROTO_SCTP => Protocol::Sctp,
            _ => Protocol::Other(n),
        }
    }
}

impl From<Protocol> for u16 {
    fn from(p: Protocol) -> Self {
        p.number()
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::Tcp => f.write_str("TCP"),
            Protocol::Udp => f.write_str("UDP"),
            Protocol::Sctp => f.write_str("SCTP"),
            Protocol::Other(n) => write!(f, "protocol {n}"),
        }
    }
}
