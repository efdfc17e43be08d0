//! The sync daemon attribute set (`IPVS_DAEMON_ATTR_*`), nested in `IPVS_CMD_ATTR_DAEMON`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{DecodeError, DefaultNla, Nla, NlaBuffer, Parseable};

use super::nested::{emit_nul_string, fixed, nul_string};
use crate::{Daemon, DaemonState};

const STATE: u16 = 1;
const MCAST_IFN: u16 = 2;
const SYNC_ID: u16 = 3;
const SYNC_MAXLEN: u16 = 4;
const MCAST_GROUP: u16 = 5;
const MCAST_GROUP6: u16 = 6;
const MCAST_PORT: u16 = 7;
const MCAST_TTL: u16 = 8;

/// One attribute of a sync daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonAttr {
    /// Master (1) or backup (2).
    State(u32),
    /// Multicast interface name.
    McastIfn(String),
    /// Sync id.
    SyncId(u32),
    /// Maximum sync message payload.
    SyncMaxlen(u16),
    /// IPv4 multicast group.
    McastGroup(Ipv4Addr),
    /// IPv6 multicast group.
    McastGroup6(Ipv6Addr),
    /// Multicast port (host order, on the wire too).
    McastPort(u16),
    /// Multicast TTL.
    McastTtl(u8),
    /// An attribute this library does not know, kept as is.
    Other(DefaultNla),
}

impl DaemonAttr {
    /// The attributes ipvsadm sends for `daemon`: state, interface and sync id, then the
    /// optional ones that are set, in ipvsadm's order.
    pub fn from_daemon(daemon: &Daemon) -> Vec<DaemonAttr> {
        let mut attrs = vec![
            DaemonAttr::State(daemon.state.bits()),
            DaemonAttr::McastIfn(daemon.interface.clone()),
            DaemonAttr::SyncId(u32::from(daemon.sync_id)),
        ];
        if let Some(v) = daemon.sync_maxlen {
            attrs.push(DaemonAttr::SyncMaxlen(v));
        }
        if let Some(v) = daemon.mcast_port {
            attrs.push(DaemonAttr::McastPort(v));
        }
        if let Some(v) = daemon.mcast_ttl {
            attrs.push(DaemonAttr::McastTtl(v));
        }
        match daemon.mcast_group {
            Some(IpAddr::V4(g)) => attrs.push(DaemonAttr::McastGroup(g)),
            Some(IpAddr::V6(g)) => attrs.push(DaemonAttr::McastGroup6(g)),
            None => {}
        }
        attrs
    }

    /// The daemon described by `attrs`.
    pub fn to_daemon(attrs: &[DaemonAttr]) -> Result<Daemon, DecodeError> {
        let mut state = None;
        let mut d = Daemon::new(DaemonState::empty(), "");
        for attr in attrs {
            match attr {
                DaemonAttr::State(v) => state = Some(DaemonState::from_bits_retain(*v)),
                DaemonAttr::McastIfn(v) => d.interface = v.clone(),
                DaemonAttr::SyncId(v) => d.sync_id = *v as u8,
                DaemonAttr::SyncMaxlen(v) => d.sync_maxlen = Some(*v),
                DaemonAttr::McastGroup(v) => d.mcast_group = Some(IpAddr::V4(*v)),
                DaemonAttr::McastGroup6(v) => d.mcast_group = Some(IpAddr::V6(*v)),
                DaemonAttr::McastPort(v) => d.mcast_port = Some(*v),
                DaemonAttr::McastTtl(v) => d.mcast_ttl = Some(*v),
                DaemonAttr::Other(_) => {}
            }
        }
        d.state = state.ok_or_else(|| DecodeError::from("sync daemon without state"))?;
        Ok(d)
    }
}

impl Nla for DaemonAttr {
    fn value_len(&self) -> usize {
        match self {
            DaemonAttr::State(_) | DaemonAttr::SyncId(_) | DaemonAttr::McastGroup(_) => 4,
            DaemonAttr::McastIfn(s) => s.len() + 1,
            DaemonAttr::SyncMaxlen(_) | DaemonAttr::McastPort(_) => 2,
            DaemonAttr::McastGroup6(_) => 16,
            DaemonAttr::McastTtl(_) => 1,
            DaemonAttr::Other(nla) => nla.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            DaemonAttr::State(_) => STATE,
            DaemonAttr::McastIfn(_) => MCAST_IFN,
            DaemonAttr::SyncId(_) => SYNC_ID,
            DaemonAttr::SyncMaxlen(_) => SYNC_MAXLEN,
            DaemonAttr::McastGroup(_) => MCAST_GROUP,
            DaemonAttr::McastGroup6(_) => MCAST_GROUP6,
            DaemonAttr::McastPort(_) => MCAST_PORT,
            DaemonAttr::McastTtl(_) => MCAST_TTL,
            DaemonAttr::Other(nla) => nla.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            DaemonAttr::State(v) | DaemonAttr::SyncId(v) => {
                buffer.copy_from_slice(&v.to_ne_bytes())
            }
            DaemonAttr::McastIfn(s) => emit_nul_string(s, buffer),
            DaemonAttr::SyncMaxlen(v) | DaemonAttr::McastPort(v) => {
                buffer.copy_from_slice(&v.to_ne_bytes())
            }
            DaemonAttr::McastGroup(g) => buffer.copy_from_slice(&g.octets()),
            DaemonAttr::McastGroup6(g) => buffer.copy_from_slice(&g.octets()),
            DaemonAttr::McastTtl(v) => buffer[0] = *v,
            DaemonAttr::Other(nla) => nla.emit_value(buffer),
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for DaemonAttr {
    fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
        let p = buf.value();
        Ok(match buf.kind() {
            STATE => DaemonAttr::State(u32::from_ne_bytes(fixed(p, "daemon state")?)),
            MCAST_IFN => DaemonAttr::McastIfn(nul_string(p, "daemon interface")?),
            SYNC_ID => DaemonAttr::SyncId(u32::from_ne_bytes(fixed(p, "sync id")?)),
            SYNC_MAXLEN => DaemonAttr::SyncMaxlen(u16::from_ne_bytes(fixed(p, "sync maxlen")?)),
            MCAST_GROUP => DaemonAttr::McastGroup(Ipv4Addr::from(fixed::<4>(p, "mcast group")?)),
            MCAST_GROUP6 => {
                DaemonAttr::McastGroup6(Ipv6Addr::from(fixed::<16>(p, "mcast group6")?))
            }
            MCAST_PORT => DaemonAttr::McastPort(u16::from_ne_bytes(fixed(p, "mcast port")?)),
            MCAST_TTL => DaemonAttr::McastTtl(fixed::<1>(p, "mcast ttl")?[0]),
            _ => DaemonAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}
