//! Interface addresses: adding, listing, deleting.

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::error::{Error, Object, Result};
use crate::ipnet::IpNet;
use crate::rtnl::Rtnl;

/// One address on an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// Index of the interface holding it.
    pub link_index: u32,
    /// The address and its prefix length.
    pub net: IpNet,
    /// Scope as iproute2 names it ("global", "host", "link", ...).
    pub scope: String,
}

impl Address {
    fn from_message(message: &AddressMessage) -> Option<Address> {
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on
        // point-to-point links and equal to IFA_LOCAL elsewhere (IPv6 sends only IFA_ADDRESS).
        let mut local = None;
        let mut address = None;
        for attribute in &message.attributes {
            match attribute {
                AddressAttribute::Local(ip) => local = Some(*ip),
                AddressAttribute::Address(ip) => address = Some(*ip),
                _ => {}
            }
        }
        let ip = local.or(address)?;
        let scope = match message.header.scope {
            AddressScope::Universe => "global".to_string(),
            AddressScope::Site => "site".to_string(),
            AddressScope::Link => "link".to_string(),
            AddressScope::Host => "host".to_string(),
            AddressScope::Nowhere => "nowhere".to_string(),
            other => u8::from(other).to_string(),
        };
        Some(Address {
            link_index: message.header.index,
            net: IpNet::new(ip, message.header.prefix_len).ok()?,
            scope,
        })
    }
}

impl Rtnl {
    /// Adds an address to an interface, like `ip addr add NET dev LINK` (so with the
    /// address as both IFA_LOCAL and IFA_ADDRESS, global scope, no broadcast).
    /// The same address already on that interface is not an error.
    ///
    /// ```no_run
    /// use rtsetup::{Netns, NetnsExt, Rtnl};
    /// let mut ap = Rtnl::open(&Netns::open("ap")?)?;
    /// ap.add_address("lo", "192.168.0.10/32".parse()?)?;
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    pub fn add_address(&mut self, link: &str, net: IpNet) -> Result<()> {
        let index = self.link(link)?.index;
        let object = || Object::Address {
            address: net.to_string(),
            link: link.into(),
        };
        match self.request(
            RouteNetlinkMessage::NewAddress(address_message(index, net)),
            NLM_F_CREATE | NLM_F_EXCL,
        ) {
            Ok(_) => Ok(()),
            Err(e) if e.errno() == Some(libc::EEXIST) => {
                if self.addresses(Some(link))?.iter().any(|a| a.net == net) {
                    Ok(())
                } else {
                    Err(Error::Exists {
                        object: object(),
                        place: self.place().clone(),
                        detail: "the kernel reports a conflicting address".into(),
                    })
                }
            }
            Err(e) => Err(e.into_error("add", object(), self.place())),
        }
    }

    /// Removes an address from an interface, like `ip addr del NET dev LINK`. Returns
    /// whether it was there; removing a missing address is not an error.
    ///
    /// It removes the address from whatever interface has the name `link` now, whoever
    /// added it; [`Ledger`](crate::lab::Ledger) removes only addresses it recorded, on the
    /// interface index it recorded.
    pub fn delete_address(&mut self, link: &str, net: IpNet) -> Result<bool> {
        let index = self.link(link)?.index;
        match self.request(
            RouteNetlinkMessage::DelAddress(address_message(index, net)),
            0,
        ) {
            Ok(_) => Ok(true),
            Err(e) if e.errno() == Some(libc::EADDRNOTAVAIL) => Ok(false),
            Err(e) => Err(e.into_error(
                "delete",
                Object::Address {
                    address: net.to_string(),
                    link: link.into(),
                },
                self.place(),
            )),
        }
    }

    /// All addresses, or those of one interface.
    pub fn addresses(&mut self, link: Option<&str>) -> Result<Vec<Address>> {
        let index = match link {
            Some(name) => Some(self.link(name)?.index),
            None => None,
        };
        let replies = self
            .dump(RouteNetlinkMessage::GetAddress(AddressMessage::default()))
            .map_err(|e| {
                e.into_error(
                    "list",
                    Object::Address {
                        address: "*".into(),
                        link: link.unwrap_or("*").into(),
                    },
                    self.place(),
                )
            })?;
        Ok(replies
            .iter()
            .filter_map(|reply| match reply {
                RouteNetlinkMessage::NewAddress(message) => Address::from_message(message),
                _ => None,
            })
            .filter(|address| index.is_none_or(|i| address.link_index == i))
            .collect())
    }
}

fn address_message(index: u32, net: IpNet) -> AddressMessage {
    let mut message = AddressMessage::default();
    message.header.family = match net.addr() {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    };
    message.header.prefix_len = net.prefix_len();
    message.header.index = index;
    message.header.scope = AddressScope::Universe;
    if net.addr().is_ipv4() {
        message.attributes.push(AddressAttribute::Local(net.addr()));
    }
    message
        .attributes
        .push(AddressAttribute::Address(net.addr()));
    message
}
