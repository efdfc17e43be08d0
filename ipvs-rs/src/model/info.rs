//! IPVS version and table size.

use std::fmt;
use std::str::FromStr;

use super::parse_error::{number, ParseError};

/// The IPVS version the kernel reports, such as 1.2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version {
    /// Major version.
    pub major: u8,
    /// Minor version.
    pub minor: u8,
    /// Patch level.
    pub patch: u8,
}

impl Version {
    /// Splits the kernel's version code (`0x010201` for 1.2.1).
    pub fn from_code(code: u32) -> Self {
        Version {
            major: (code >> 16) as u8,
            minor: (code >> 8) as u8,
            patch: code as u8,
        }
    }

    /// The kernel's version code.
    pub fn code(self) -> u32 {
        u32::from(self.major) << 16 | u32::from(self.minor) << 8 | u32::from(self.patch)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for Version {
    type Err = ParseError;

    /// `MAJOR.MINOR.PATCH`, each 0 to 255.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split('.');
        let mut next = |name| {
            let part = parts.next().unwrap_or_default();
            number::<u8>("version", s, part, name)
        };
        let version = Version {
            major: next("major")?,
            minor: next("minor")?,
            patch: next("patch")?,
        };
        if parts.next().is_some() {
            return Err(ParseError::new("version", s, "expected MAJOR.MINOR.PATCH"));
        }
        Ok(version)
    }
}

/// General IPVS information (`ipvsadm -L` header line).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Info {
    /// The IPVS version.
    pub version: Version,
    /// The size of the connection hash table (buckets).
    pub conn_table_size: u32,
}

impl Info {
    /// Information as the kernel reports it.
    pub fn new(version: Version, conn_table_size: u32) -> Self {
        Info {
            version,
            conn_table_size,
        }
    }
}
