//! Transport protocols of virtual services.

use std::fmt;
use std::str::FromStr;

use super::parse_error::{number, ParseError};

/// The transport protocol of a [`ServiceKey::Inet`](crate::ServiceKey::Inet) service.
///
/// On the wire this is the IP protocol number (`IPPROTO_*`) as a 16-bit value.
///
/// The text form is `tcp`, `udp`, `sctp`, or the protocol number for any other (`47`); parsing
/// takes the names in any case and numbers as [`Protocol::from`] does, so `6` is `Tcp`.
///
/// ```
/// use ipvs_rs::Protocol;
/// assert_eq!("udp".parse::<Protocol>()?, Protocol::Udp);
/// assert_eq!(Protocol::Other(47).to_string(), "47");
/// # Ok::<(), ipvs_rs::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
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
            Protocol::Tcp => f.write_str("tcp"),
            Protocol::Udp => f.write_str("udp"),
            Protocol::Sctp => f.write_str("sctp"),
            Protocol::Other(n) => write!(f, "{n}"),
        }
    }
}

impl FromStr for Protocol {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "protocol";
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            "sctp" => Ok(Protocol::Sctp),
            _ if s.bytes().all(|b| b.is_ascii_digit()) => {
                number::<u16>(WHAT, s, s, "number").map(Protocol::from)
            }
            _ => Err(ParseError::new(
                WHAT,
                s,
                "expected tcp, udp, sctp or a protocol number",
            )),
        }
    }
}
