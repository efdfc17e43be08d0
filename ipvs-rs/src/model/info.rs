//! IPVS version and table size.

use std::fmt;

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

/// General IPVS information (`ipvsadm -L` header line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Info {
    /// The IPVS version.
    pub version: Version,
    /// The size of the connection hash table (buckets).
    pub conn_table_size: u32,
}
