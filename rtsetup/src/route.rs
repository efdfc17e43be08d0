//! Routes in the main table: adding, listing, deleting.

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteNextHop, RouteProtocol,
    RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::error::{Error, Object, Result};
use crate::ipnet::IpNet;
use crate::rtnl::Rtnl;

/// A unicast route in the main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Destination prefix (`0.0.0.0/0` for a default route).
    pub destination: IpNet,
    /// Next hop, if the destination is not on-link.
    pub gateway: Option<IpAddr>,
    /// Index of the outgoing interface.
    pub link_index: Option<u32>,
    /// The gateways of a multipath (ECMP) route, in the kernel's order; empty otherwise.
    pub next_hops: Vec<IpAddr>,
}

impl Route {
    fn from_message(message: &RouteMessage) -> Option<Route> {
        if message.header.table != RouteHeader::RT_TABLE_MAIN
            || message.header.kind != RouteType::Unicast
        {
            return None;
        }
        let mut destination = None;
        let mut gateway = None;
        let mut link_index = None;
        let mut next_hops = Vec::new();
        for attribute in &message.attributes {
            match attribute {
                RouteAttribute::MultiPath(hops) => {
                    next_hops = hops
                        .iter()
                        .flat_map(|hop| &hop.attributes)
                        .filter_map(|a| match a {
                            RouteAttribute::Gateway(address) => ip_of(address),
                            _ => None,
                        })
                        .collect();
                }
                RouteAttribute::Destination(address) => destination = ip_of(address),
                RouteAttribute::Gateway(address) => gateway = ip_of(address),
                RouteAttribute::Oif(index) => link_index = Some(*index),
                _ => {}
            }
        }
        let destination = match destination {
            Some(ip) => IpNet::new(ip, message.header.destination_prefix_length).ok()?,
            None if message.header.address_family == AddressFamily::Inet6 => {
                IpNet::new(IpAddr::from([0u16; 8]), 0).ok()?
            }
            None => IpNet::new(IpAddr::from([0u8; 4]), 0).ok()?,
        };
        Some(Route {
            destination,
            gateway,
            link_index,
            next_hops,
        })
    }
}

fn ip_of(address: &RouteAddress) -> Option<IpAddr> {
    match address {
        RouteAddress::Inet(ip) => Some(IpAddr::V4(*ip)),
        RouteAddress::Inet6(ip) => Some(IpAddr::V6(*ip)),
        _ => None,
    }
}

impl Rtnl {
    /// Adds a route, like `ip route add DEST [via GATEWAY] [dev LINK]`. The same route
    /// already present is not an error; another route to the same destination is
    /// [`Error::Exists`].
    ///
    /// ```no_run
    /// use rtsetup::{Netns, NetnsExt, Rtnl};
    /// let mut ap = Rtnl::open(&Netns::open("ap")?)?;
    /// ap.add_route("0.0.0.0/0".parse()?, Some("10.0.0.1".parse().unwrap()), None)?;
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    pub fn add_route(
        &mut self,
        destination: IpNet,
        gateway: Option<IpAddr>,
        link: Option<&str>,
    ) -> Result<()> {
        let link_index = match link {
            Some(name) => Some(self.link(name)?.index),
            None => None,
        };
        let mut message = route_message(destination);
        message.header.protocol = RouteProtocol::Boot;
        message.header.scope = if gateway.is_some() {
            RouteScope::Universe
        } else {
            RouteScope::Link
        };
        if let Some(gateway) = gateway {
            message
                .attributes
                .push(RouteAttribute::Gateway(gateway.into()));
        }
        if let Some(index) = link_index {
            message.attributes.push(RouteAttribute::Oif(index));
        }
        match self.request(
            RouteNetlinkMessage::NewRoute(message),
            NLM_F_CREATE | NLM_F_EXCL,
        ) {
            Ok(_) => Ok(()),
            Err(e) if e.errno() == Some(libc::EEXIST) => {
                let same = self.routes()?.into_iter().any(|route| {
                    route.destination == destination
                        && route.gateway == gateway
                        && (link_index.is_none() || route.link_index == link_index)
                });
                if same {
                    Ok(())
                } else {
                    Err(Error::Exists {
                        object: Object::Route(destination.to_string()),
                        place: self.place().clone(),
                        detail: "a route with another next hop is there".into(),
                    })
                }
            }
            Err(e) => {
                Err(e.into_error("add", Object::Route(destination.to_string()), self.place()))
            }
        }
    }

    /// Sets the route to `destination` to spread over `gateways` with equal weights, like
    /// `ip route replace DEST nexthop via GW1 nexthop via GW2 ...`: added if missing,
    /// replaced (whatever its next hops were) if present. One gateway makes a plain route.
    ///
    /// ```no_run
    /// use rtsetup::{Netns, NetnsExt, Rtnl};
    /// let mut router = Rtnl::open(&Netns::open("router")?)?;
    /// let gateways = ["192.168.0.2".parse().unwrap(), "192.168.0.3".parse().unwrap()];
    /// router.set_multipath_route("192.168.0.10/32".parse()?, &gateways)?;
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    pub fn set_multipath_route(&mut self, destination: IpNet, gateways: &[IpAddr]) -> Result<()> {
        let mut message = route_message(destination);
        message.header.protocol = RouteProtocol::Boot;
        message.header.scope = RouteScope::Universe;
        match gateways {
            [] => {
                return Err(Error::Invalid {
                    what: "route",
                    reason: format!("a route to {destination} needs at least one gateway"),
                })
            }
            [one] => message
                .attributes
                .push(RouteAttribute::Gateway((*one).into())),
            many => message.attributes.push(RouteAttribute::MultiPath(
                many.iter()
                    .map(|gateway| {
                        let mut hop = RouteNextHop::default();
                        hop.attributes = vec![RouteAttribute::Gateway((*gateway).into())];
                        hop
                    })
                    .collect(),
            )),
        }
        self.request(
            RouteNetlinkMessage::NewRoute(message),
            NLM_F_CREATE | NLM_F_REPLACE,
        )
        .map(drop)
        .map_err(|e| e.into_error("set", Object::Route(destination.to_string()), self.place()))
    }

    /// Deletes the main-table route to `destination`, like `ip route del DEST`. Returns
    /// whether it was there.
    ///
    /// It deletes whatever route to `destination` is there, whoever added it;
    /// [`Ledger`](crate::lab::Ledger) deletes only a route it recorded, with its next hop.
    pub fn delete_route(&mut self, destination: IpNet) -> Result<bool> {
        match self.request(RouteNetlinkMessage::DelRoute(route_message(destination)), 0) {
            Ok(_) => Ok(true),
            Err(e) if e.errno() == Some(libc::ESRCH) => Ok(false),
            Err(e) => Err(e.into_error(
                "delete",
                Object::Route(destination.to_string()),
                self.place(),
            )),
        }
    }

    /// The unicast routes of the main table, IPv4 and IPv6.
    pub fn routes(&mut self) -> Result<Vec<Route>> {
        let replies = self
            .dump(RouteNetlinkMessage::GetRoute(RouteMessage::default()))
            .map_err(|e| e.into_error("list", Object::Route("*".into()), self.place()))?;
        Ok(replies
            .iter()
            .filter_map(|reply| match reply {
                RouteNetlinkMessage::NewRoute(message) => Route::from_message(message),
                _ => None,
            })
            .collect())
    }
}

fn route_message(destination: IpNet) -> RouteMessage {
    let mut message = RouteMessage::default();
    message.header.address_family = match destination.addr() {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    };
    message.header.destination_prefix_length = destination.prefix_len();
    message.header.table = RouteHeader::RT_TABLE_MAIN;
    message.header.kind = RouteType::Unicast;
    if destination.prefix_len() > 0 {
        message
            .attributes
            .push(RouteAttribute::Destination(destination.addr().into()));
    }
    message
}
