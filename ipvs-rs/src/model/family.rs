//! Address families.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::parse_error::{number, ParseError};

/// The address family of a service or destination (`AF_INET`, `AF_INET6`).
///
/// The text form is `inet`, `inet6`, or the `AF_*` number of any other family; parsing takes
/// numbers as [`AddressFamily::from`] does, so `10` is `Inet6`.
///
/// ```
/// use ipvs_rs::AddressFamily;
/// assert_eq!("inet6".parse::<AddressFamily>()?, AddressFamily::Inet6);
/// assert_eq!(AddressFamily::Inet.to_string(), "inet");
/// # Ok::<(), ipvs_rs::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum AddressFamily {
    /// IPv4 (`AF_INET`, 2).
    #[default]
    Inet,
    /// IPv6 (`AF_INET6`, 10).
    Inet6,
    /// Any other family number, kept as the kernel reported it.
    Other(u16),
}

impl AddressFamily {
    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        }
    }

    /// The `AF_*` number.
    pub fn number(self) -> u16 {
        match self {
            AddressFamily::Inet => libc::AF_INET as u16,
            AddressFamily::Inet6 => libc::AF_INET6 as u16,
            AddressFamily::Other(n) => n,
        }
    }
}

impl From<u16> for AddressFamily {
    fn from(n: u16) -> Self {
        match i32::from(n) {
            libc::AF_INET => AddressFamily::Inet,
            libc::AF_INET6 => AddressFamily::Inet6,
            _ => AddressFamily::Other(n),
        }
    }
}

impl From<AddressFamily> for u16 {
    fn from(f: AddressFamily) -> Self {
        f.number()
    }
}

impl fmt::Display for AddressFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressFamily::Inet => f.write_str("inet"),
            AddressFamily::Inet6 => f.write_str("inet6"),
            AddressFamily::Other(n) => write!(f, "{n}"),
        }
    }
}

impl FromStr for AddressFamily {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "address family";
        match s {
            "inet" => Ok(AddressFamily::Inet),
            "inet6" => Ok(AddressFamily::Inet6),
            _ if s.bytes().all(|b| b.is_ascii_digit()) => {
                number::<u16>(WHAT, s, s, "number").map(AddressFamily::from)
            }
            _ => Err(ParseError::new(
                WHAT,
                s,
                "expected inet, inet6 or an AF_* number",
            )),
        }
    }
}
