//! The top-level command attribute set (`IPVS_CMD_ATTR_*`).

use netlink_packet_core::{DecodeError, DefaultNla, Nla, NlaBuffer, Parseable, NLA_F_NESTED};

use super::nested::{emit_nested, fixed, nested_len, parse_nested};
use super::{DaemonAttr, DestAttr, ServiceAttr};

pub(crate) const SERVICE: u16 = 1;
pub(crate) const DEST: u16 = 2;
const DAEMON: u16 = 3;
const TIMEOUT_TCP: u16 = 4;
const TIMEOUT_TCP_FIN: u16 = 5;
const TIMEOUT_UDP: u16 = 6;

/// One top-level attribute of an IPVS message (every command but the info reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdAttr {
    /// A service.
    Service(Vec<ServiceAttr>),
    /// A destination.
    Dest(Vec<DestAttr>),
    /// A sync daemon.
    Daemon(Vec<DaemonAttr>),
    /// TCP timeout in seconds.
    TimeoutTcp(u32),
    /// TCP FIN timeout in seconds.
    TimeoutTcpFin(u32),
    /// UDP timeout in seconds.
    TimeoutUdp(u32),
    /// An attribute this library does not know, kept as is.
    Other(DefaultNla),
}

impl Nla for CmdAttr {
    fn value_len(&self) -> usize {
        match self {
            CmdAttr::Service(a) => nested_len(a),
            CmdAttr::Dest(a) => nested_len(a),
            CmdAttr::Daemon(a) => nested_len(a),
            CmdAttr::TimeoutTcp(_) | CmdAttr::TimeoutTcpFin(_) | CmdAttr::TimeoutUdp(_) => 4,
            CmdAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            // Flagged nested, as libnl (and so ipvsadm) sends them; the kernel accepts both.
            CmdAttr::Service(_) => SERVICE | NLA_F_NESTED,
            CmdAttr::Dest(_) => DEST | NLA_F_NESTED,
            CmdAttr::Daemon(_) => DAEMON | NLA_F_NESTED,
            CmdAttr::TimeoutTcp(_) => TIMEOUT_TCP,
            CmdAttr::TimeoutTcpFin(_) => TIMEOUT_TCP_FIN,
            CmdAttr::TimeoutUdp(_) => TIMEOUT_UDP,
            CmdAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            CmdAttr::Service(a) => emit_nested(a, buffer),
            CmdAttr::Dest(a) => emit_nested(a, buffer),
            CmdAttr::Daemon(a) => emit_nested(a, buffer),
            CmdAttr::TimeoutTcp(v) | CmdAttr::TimeoutTcpFin(v) | CmdAttr::TimeoutUdp(v) => {
                buffer.copy_from_slice(&v.to_ne_bytes())
            }
            CmdAttr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for CmdAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let p = buf.value();
        Ok(match buf.kind() {
            SERVICE => CmdAttr::Service(parse_nested(p)?),
            DEST => CmdAttr::Dest(parse_nested(p)?),
            DAEMON => CmdAttr::Daemon(parse_nested(p)?),
            TIMEOUT_TCP => CmdAttr::TimeoutTcp(u32::from_ne_bytes(fixed(p, "tcp timeout")?)),
            TIMEOUT_TCP_FIN => {
                CmdAttr::TimeoutTcpFin(u32::from_ne_bytes(fixed(p, "tcp fin timeout")?))
            }
            TIMEOUT_UDP => CmdAttr::TimeoutUdp(u32::from_ne_bytes(fixed(p, "udp timeout")?)),
            _ => CmdAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}
