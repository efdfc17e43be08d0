//! Neighbour (ARP and NDP) cache lookups.

use std::net::IpAddr;

use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::error::{Object, Result};
use crate::mac::MacAddr;
use crate::rtnl::Rtnl;

/// One neighbour cache entry, as `ip neigh show` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    /// Index of the interface the neighbour is reached on.
    pub link_index: u32,
    /// The neighbour's IP address.
    pub ip: IpAddr,
    /// Its hardware address, when resolved.
    pub mac: Option<MacAddr>,
    /// The entry's state ("REACHABLE", "STALE", "FAILED", ...).
    pub state: String,
}

impl Neighbour {
    fn from_message(message: &NeighbourMessage) -> Option<Neighbour> {
        let mut ip = None;
        let mut mac = None;
        for attribute in &message.attributes {
            match attribute {
                NeighbourAttribute::Destination(NeighbourAddress::Inet(v4)) => {
                    ip = Some(IpAddr::V4(*v4))
                }
                NeighbourAttribute::Destination(NeighbourAddress::Inet6(v6)) => {
                    ip = Some(IpAddr::V6(*v6))
                }
                NeighbourAttribute::LinkLayerAddress(bytes) => mac = MacAddr::from_slice(bytes),
                _ => {}
            }
        }
        let state = match message.header.state {
            NeighbourState::Incomplete => "INCOMPLETE".to_string(),
            NeighbourState::Reachable => "REACHABLE".to_string(),
            NeighbourState::Stale => "STALE".to_string(),
            NeighbourState::Delay => "DELAY".to_string(),
            NeighbourState::Probe => "PROBE".to_string(),
            NeighbourState::Failed => "FAILED".to_string(),
            NeighbourState::Noarp => "NOARP".to_string(),
            NeighbourState::Permanent => "PERMANENT".to_string(),
            NeighbourState::None => "NONE".to_string(),
            other => format!("0x{:x}", u16::from(other)),
        };
        Some(Neighbour {
            link_index: message.header.ifindex,
            ip: ip?,
            mac,
            state,
        })
    }
}

impl Rtnl {
    /// The whole neighbour cache, like `ip neigh show`.
    pub fn neighbours(&mut self) -> Result<Vec<Neighbour>> {
        let replies = self
            .dump(RouteNetlinkMessage::GetNeighbour(
                NeighbourMessage::default(),
            ))
            .map_err(|e| e.into_error("list", Object::Neighbour("*".into()), self.place()))?;
        Ok(replies
            .iter()
            .filter_map(|reply| match reply {
                RouteNetlinkMessage::NewNeighbour(message) => Neighbour::from_message(message),
                _ => None,
            })
            .collect())
    }

    /// Removes the neighbour cache entry for `ip`, like `ip neigh del IP dev LINK`, so the
    /// next packet to it starts a fresh ARP (or NDP) exchange. Returns whether there was one.
    /// It removes whatever entry is there (the kernel learns it again).
    pub fn delete_neighbour(&mut self, ip: IpAddr) -> Result<bool> {
        let Some(entry) = self.neighbour(ip)? else {
            return Ok(false);
        };
        let mut message = NeighbourMessage::default();
        message.header.family = match ip {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        message.header.ifindex = entry.link_index;
        let address = match ip {
            IpAddr::V4(v4) => NeighbourAddress::Inet(v4),
            IpAddr::V6(v6) => NeighbourAddress::Inet6(v6),
        };
        message
            .attributes
            .push(NeighbourAttribute::Destination(address));
        match self.request(RouteNetlinkMessage::DelNeighbour(message), 0) {
            Ok(_) => Ok(true),
            Err(e) if e.errno() == Some(libc::ENOENT) => Ok(false),
            Err(e) => Err(e.into_error("delete", Object::Neighbour(ip.to_string()), self.place())),
        }
    }

    /// The neighbour cache entry for `ip`, if there is one.
    pub fn neighbour(&mut self, ip: IpAddr) -> Result<Option<Neighbour>> {
        Ok(self.neighbours()?.into_iter().find(|n| n.ip == ip))
    }
}
