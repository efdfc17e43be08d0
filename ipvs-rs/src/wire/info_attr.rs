//! The info attribute set (`IPVS_INFO_ATTR_*`), top level in the `IPVS_CMD_SET_INFO` reply.

use netlink_packet_core::{DecodeError, DefaultNla, Nla, NlaBuffer, Parseable};

use super::nested::fixed;
use crate::{Info, Version};

const VERSION: u16 = 1;
const CONN_TAB_SIZE: u16 = 2;

/// One attribute of the reply to `IPVS_CMD_GET_INFO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfoAttr {
    /// The IPVS version code (`0x010201` for 1.2.1).
    Version(u32),
    /// The connection hash table size.
    ConnTabSize(u32),
    /// An attribute this library does not know, kept as is.
    Other(DefaultNla),
}

impl InfoAttr {
    /// The info described by `attrs`; both attributes are required.
    pub fn to_info(attrs: &[InfoAttr]) -> Result<Info, DecodeError> {
        let (mut version, mut size) = (None, None);
        for attr in attrs {
            match attr {
                InfoAttr::Version(v) => version = Some(Version::from_code(*v)),
                InfoAttr::ConnTabSize(v) => size = Some(*v),
                InfoAttr::Other(_) => {}
            }
        }
        Ok(Info {
            version: version.ok_or_else(|| DecodeError::from("info without version"))?,
            conn_table_size: size.ok_or_else(|| DecodeError::from("info without table size"))?,
        })
    }
}

impl Nla for InfoAttr {
    fn value_len(&self) -> usize {
        match self {
            InfoAttr::Version(_) | InfoAttr::ConnTabSize(_) => 4,
            InfoAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            InfoAttr::Version(_) => VERSION,
            InfoAttr::ConnTabSize(_) => CONN_TAB_SIZE,
            InfoAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            InfoAttr::Version(v) | InfoAttr::ConnTabSize(v) => {
                buffer.copy_from_slice(&v.to_ne_bytes())
            }
            InfoAttr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for InfoAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let p = buf.value();
        Ok(match buf.kind() {
            VERSION => InfoAttr::Version(u32::from_ne_bytes(fixed(p, "IPVS version")?)),
            CONN_TAB_SIZE => InfoAttr::ConnTabSize(u32::from_ne_bytes(fixed(p, "table size")?)),
            _ => InfoAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}
