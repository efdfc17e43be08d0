//! Network interfaces: lookups, veth pairs, bridges, up and down, bridge ports, moving
//! between namespaces, deleting.

use std::os::fd::{AsRawFd, OwnedFd};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::RouteNetlinkMessage;

use crate::error::{Error, Object, Result};
use crate::mac::MacAddr;
use crate::netns::{namespace_file, Netns, NetnsExt};
use crate::removal::Removal;
use crate::rtnl::Rtnl;

/// One network interface as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Interface index, unique within its namespace.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// The driver kind ("veth", "bridge", ...), absent for devices such as `lo`.
    pub kind: Option<String>,
    /// Hardware address.
    pub mac: Option<MacAddr>,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// Index of the bridge (or other controller) this interface is a port of.
    pub controller: Option<u32>,
    /// For a veth, the index of its peer (in the peer's namespace).
    pub peer_index: Option<u32>,
    /// For a veth whose peer lives in another namespace, that namespace's id as seen from
    /// this one.
    pub peer_netns_id: Option<i32>,
    /// MTU.
    pub mtu: Option<u32>,
}

impl Link {
    fn from_message(message: &LinkMessage) -> Link {
        let mut link = Link {
            index: message.header.index,
            name: String::new(),
            kind: None,
            mac: None,
            up: message.header.flags.contains(LinkFlags::Up),
            controller: None,
            peer_index: None,
            peer_netns_id: None,
            mtu: None,
        };
        for attribute in &message.attributes {
            match attribute {
                LinkAttribute::IfName(name) => link.name = name.clone(),
                LinkAttribute::Address(bytes) => link.mac = MacAddr::from_slice(bytes),
                LinkAttribute::Controller(index) => link.controller = Some(*index),
                LinkAttribute::Link(index) => link.peer_index = Some(*index),
                LinkAttribute::LinkNetNsId(id) => link.peer_netns_id = Some(*id),
                LinkAttribute::Mtu(mtu) => link.mtu = Some(*mtu),
                LinkAttribute::LinkInfo(infos) => {
                    for info in infos {
                        if let LinkInfo::Kind(kind) = info {
                            link.kind = Some(kind.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        link
    }

    /// True when this is a veth.
    pub fn is_veth(&self) -> bool {
        self.kind.as_deref() == Some("veth")
    }

    /// True when this is a bridge.
    pub fn is_bridge(&self) -> bool {
        self.kind.as_deref() == Some("bridge")
    }
}

impl Rtnl {
    /// The interface called `name`, or [`Error::NotFound`].
    pub fn link(&mut self, name: &str) -> Result<Link> {
        self.find_link(name)?.ok_or_else(|| Error::NotFound {
            object: Object::Link(name.into()),
            place: self.place().clone(),
        })
    }

    /// The interface called `name`, if there is one.
    pub fn find_link(&mut self, name: &str) -> Result<Option<Link>> {
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::IfName(name.to_string()));
        match self.request(RouteNetlinkMessage::GetLink(message), 0) {
            Ok(replies) => Ok(replies.iter().find_map(|reply| match reply {
                RouteNetlinkMessage::NewLink(link) => Some(Link::from_message(link)),
                _ => None,
            })),
            Err(e) if e.errno() == Some(libc::ENODEV) => Ok(None),
            Err(e) => Err(e.into_error("look up", Object::Link(name.into()), self.place())),
        }
    }

    /// Every interface in the namespace, in index order.
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let replies = self
            .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))
            .map_err(|e| e.into_error("list", Object::Link("*".into()), self.place()))?;
        let mut links: Vec<Link> = replies
            .iter()
            .filter_map(|reply| match reply {
                RouteNetlinkMessage::NewLink(link) => Some(Link::from_message(link)),
                _ => None,
            })
            .collect();
        links.sort_by_key(|link| link.index);
        Ok(links)
    }

    /// Creates a veth pair `name` (here) and `peer`, like
    /// `ip link add NAME type veth peer name PEER [netns NS]`. With `peer_netns` the peer is
    /// created directly in that namespace.
    ///
    /// A pair that already exists with the same two ends is not an error; a `name` or `peer`
    /// taken by anything else is [`Error::Exists`].
    ///
    /// ```no_run
    /// use rtsetup::{Netns, NetnsExt, Rtnl};
    /// let lb = Netns::create("lb")?;
    /// let mut host = Rtnl::open(&Netns::Current)?;
    /// host.add_veth("lb-br0", "lb-veth0", Some(&lb))?;
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    pub fn add_veth(&mut self, name: &str, peer: &str, peer_netns: Option<&Netns>) -> Result<Link> {
        if let Some(existing) = self.find_link(name)? {
            self.check_veth_pair(&existing, peer, peer_netns)?;
            return Ok(existing);
        }
        let mut peer_message = LinkMessage::default();
        peer_message
            .attributes
            .push(LinkAttribute::IfName(peer.to_string()));
        let peer_fd = match peer_netns {
            Some(netns) if netns != self.netns() => Some(OwnedFd::from(namespace_file(netns)?)),
            _ => None,
        };
        if let Some(fd) = &peer_fd {
            peer_message
                .attributes
                .push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
        }
        let mut message = LinkMessage::default();
        message
            .attributes
            .push(LinkAttribute::IfName(name.to_string()));
        message.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_message))),
        ]));
        let result = self.request(
            RouteNetlinkMessage::NewLink(message),
            NLM_F_CREATE | NLM_F_EXCL,
        );
        drop(peer_fd);
        match result {
            Ok(_) => self.link(name),
            Err(e) if e.errno() == Some(libc::EEXIST) => {
                // `name` was free, so the peer's name is the one taken.
                let place = match peer_netns {
                    Some(netns) => netns.place(),
                    None => self.place().clone(),
                };
                Err(Error::Exists {
                    object: Object::Link(peer.into()),
                    place,
                    detail: format!("cannot use it as the peer of veth {name}"),
                })
            }
            Err(e) => Err(e.into_error("create", Object::Veth(name.into()), self.place())),
        }
    }

    fn check_veth_pair(
        &mut self,
        existing: &Link,
        peer: &str,
        peer_netns: Option<&Netns>,
    ) -> Result<()> {
        let place = self.place().clone();
        let exists = |detail: String| Error::Exists {
            object: Object::Veth(existing.name.clone()),
            place: place.clone(),
            detail,
        };
        if !existing.is_veth() {
            return Err(exists(format!(
                "it is a {}, not a veth",
                existing.kind.as_deref().unwrap_or("device")
            )));
        }
        let peer_link = match peer_netns {
            Some(netns) if netns != self.netns() => Rtnl::open(netns)?.find_link(peer)?,
            _ => self.find_link(peer)?,
        };
        match peer_link {
            Some(found) if found.is_veth() && Some(found.index) == existing.peer_index => Ok(()),
            _ => Err(exists(format!(
                "its peer is not {peer} in {}",
                peer_netns.map_or_else(|| place.clone(), Netns::place)
            ))),
        }
    }

    /// Creates a bridge, like `ip link add NAME type bridge`. An existing bridge of that
    /// name is not an error; another kind of interface with that name is [`Error::Exists`].
    pub fn add_bridge(&mut self, name: &str) -> Result<Link> {
        if let Some(existing) = self.find_link(name)? {
            if existing.is_bridge() {
                return Ok(existing);
            }
            return Err(Error::Exists {
                object: Object::Bridge(name.into()),
                place: self.place().clone(),
                detail: format!(
                    "it is a {}, not a bridge",
                    existing.kind.as_deref().unwrap_or("device")
                ),
            });
        }
        self.request(
            RouteNetlinkMessage::NewLink(kind_message(name, InfoKind::Bridge, 0)),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map_err(|e| e.into_error("create", Object::Bridge(name.into()), self.place()))?;
        self.link(name)
    }

    /// The IP-in-IP fallback device `tunl0`, which decapsulates IPIP packets from any
    /// source; creating an ipip link makes the kernel load the `ipip` module, which adds
    /// `tunl0` to every namespace.
    pub fn add_ipip_fallback(&mut self) -> Result<Link> {
        const FALLBACK: &str = "tunl0";
        if let Some(existing) = self.find_link(FALLBACK)? {
            return Ok(existing);
        }
        match self.request(
            RouteNetlinkMessage::NewLink(kind_message(FALLBACK, InfoKind::IpIp, 0)),
            NLM_F_CREATE | NLM_F_EXCL,
        ) {
            // EEXIST: loading the module created tunl0 here before our request ran.
            Ok(_) => self.link(FALLBACK),
            Err(e) if e.errno() == Some(libc::EEXIST) => self.link(FALLBACK),
            Err(e) => Err(e.into_error("create", Object::Link(FALLBACK.into()), self.place())),
        }
    }

    /// Brings an interface up, like `ip link set NAME up`.
    pub fn set_up(&mut self, name: &str) -> Result<()> {
        self.set_flags(name, true)
    }

    /// Brings an interface down, like `ip link set NAME down`.
    pub fn set_down(&mut self, name: &str) -> Result<()> {
        self.set_flags(name, false)
    }

    fn set_flags(&mut self, name: &str, up: bool) -> Result<()> {
        let link = self.link(name)?;
        let mut message = LinkMessage::default();
        message.header.index = link.index;
        message.header.change_mask = LinkFlags::Up;
        if up {
            message.header.flags = LinkFlags::Up;
        }
        self.set_link(message, if up { "bring up" } else { "bring down" }, name)
    }

    /// Makes `name` a port of `bridge`, like `ip link set NAME master BRIDGE`.
    pub fn set_controller(&mut self, name: &str, bridge: &str) -> Result<()> {
        let controller = self.link(bridge)?;
        let link = self.link(name)?;
        if link.controller == Some(controller.index) {
            return Ok(());
        }
        let mut message = LinkMessage::default();
        message.header.index = link.index;
        message
            .attributes
            .push(LinkAttribute::Controller(controller.index));
        self.set_link(message, "enslave", name)
    }

    /// Moves an interface into another namespace, like `ip link set NAME netns NS`.
    /// An interface that is already there (and no longer here) is not an error.
    pub fn move_to_netns(&mut self, name: &str, netns: &Netns) -> Result<()> {
        let Some(link) = self.find_link(name)? else {
            if Rtnl::open(netns)?.find_link(name)?.is_some() {
                return Ok(());
            }
            return Err(Error::NotFound {
                object: Object::Link(name.into()),
                place: self.place().clone(),
            });
        };
        let fd = OwnedFd::from(namespace_file(netns)?);
        let mut message = LinkMessage::default();
        message.header.index = link.index;
        message
            .attributes
            .push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
        let result = self.set_link(message, "move", name);
        drop(fd);
        result
    }

    /// Deletes an interface, like `ip link del NAME` (a veth takes its peer with it).
    /// Returns whether it existed; deleting a missing interface is not an error.
    ///
    /// It deletes whatever interface has that name now, whoever made it. To delete only
    /// the interface you created, use [`Rtnl::delete_link_if`] with its recorded index.
    pub fn delete_link(&mut self, name: &str) -> Result<bool> {
        let Some(link) = self.find_link(name)? else {
            return Ok(false);
        };
        let mut message = LinkMessage::default();
        message.header.index = link.index;
        match self.request(RouteNetlinkMessage::DelLink(message), 0) {
            Ok(_) => Ok(true),
            Err(e) if e.errno() == Some(libc::ENODEV) => Ok(false),
            Err(e) => Err(e.into_error("delete", Object::Link(name.into()), self.place())),
        }
    }

    /// Deletes the interface `name` only if it is the one created with index `index` and
    /// driver kind `kind` (a veth takes its peer with it). The request names the index, so
    /// an interface renamed or recreated in the meantime is never hit.
    ///
    /// ```no_run
    /// use rtsetup::{Netns, Removal, Rtnl};
    /// let mut host = Rtnl::open(&Netns::Current)?;
    /// let bridge = host.create_bridge("br7", 70_007)?;
    /// assert_eq!(host.delete_link_if("br7", bridge.index, "bridge")?, Removal::Removed);
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    pub fn delete_link_if(&mut self, name: &str, index: u32, kind: &str) -> Result<Removal> {
        let Some(link) = self.find_link(name)? else {
            return Ok(Removal::Missing);
        };
        if link.index != index || link.kind.as_deref() != Some(kind) {
            return Ok(Removal::Different(format!(
                "it is a {} with index {}, not the {kind} with index {index} that was recorded",
                link.kind.as_deref().unwrap_or("device"),
                link.index
            )));
        }
        let mut message = LinkMessage::default();
        message.header.index = index;
        match self.request(RouteNetlinkMessage::DelLink(message), 0) {
            Ok(_) => Ok(Removal::Removed),
            Err(e) if e.errno() == Some(libc::ENODEV) => Ok(Removal::Missing),
            Err(e) => Err(e.into_error("delete", Object::Link(name.into()), self.place())),
        }
    }

    /// Creates a bridge with the interface index `index`, like
    /// `ip link add NAME index INDEX type bridge`. Unlike [`Rtnl::add_bridge`], an existing
    /// interface of that name is always [`Error::Exists`], and so is a taken index. Choosing
    /// the index lets a caller record the bridge's identity before it exists.
    pub fn create_bridge(&mut self, name: &str, index: u32) -> Result<Link> {
        self.create_exactly(
            kind_message(name, InfoKind::Bridge, index),
            Object::Bridge(name.into()),
            name,
            index,
        )
    }

    /// Creates a veth pair `name` (here, index `index`) and `peer` (in `peer_netns`, index
    /// `peer_index`), like `ip link add NAME index I type veth peer name PEER index J netns
    /// NS`. Unlike [`Rtnl::add_veth`], an existing interface or a taken index is always
    /// [`Error::Exists`].
    pub fn create_veth(
        &mut self,
        (name, index): (&str, u32),
        (peer, peer_index): (&str, u32),
        peer_netns: &Netns,
    ) -> Result<Link> {
        let mut peer_message = LinkMessage::default();
        peer_message.header.index = peer_index;
        peer_message
            .attributes
            .push(LinkAttribute::IfName(peer.to_string()));
        let peer_fd = if peer_netns != self.netns() {
            Some(OwnedFd::from(namespace_file(peer_netns)?))
        } else {
            None
        };
        if let Some(fd) = &peer_fd {
            peer_message
                .attributes
                .push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
        }
        let mut message = LinkMessage::default();
        message.header.index = index;
        message
            .attributes
            .push(LinkAttribute::IfName(name.to_string()));
        message.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_message))),
        ]));
        let result = self.create_exactly(message, Object::Veth(name.into()), name, index);
        drop(peer_fd);
        result
    }

    /// Sends an exclusive RTM_NEWLINK and checks the kernel used the requested index.
    fn create_exactly(
        &mut self,
        message: LinkMessage,
        object: Object,
        name: &str,
        index: u32,
    ) -> Result<Link> {
        match self.request(
            RouteNetlinkMessage::NewLink(message),
            NLM_F_CREATE | NLM_F_EXCL,
        ) {
            Ok(_) => {}
            // EBUSY: the index is taken (the name was free, or it would be EEXIST).
            Err(e) if matches!(e.errno(), Some(libc::EEXIST | libc::EBUSY)) => {
                return Err(Error::Exists {
                    object,
                    place: self.place().clone(),
                    detail: format!("the name or interface index {index} is taken"),
                })
            }
            Err(e) => return Err(e.into_error("create", object, self.place())),
        }
        let link = self.link(name)?;
        if link.index != index {
            return Err(Error::Exists {
                object,
                place: self.place().clone(),
                detail: format!("the kernel gave it index {} instead of {index}", link.index),
            });
        }
        Ok(link)
    }

    fn set_link(&mut self, message: LinkMessage, action: &'static str, name: &str) -> Result<()> {
        self.request(RouteNetlinkMessage::SetLink(message), 0)
            .map(|_| ())
            .map_err(|e| e.into_error(action, Object::Link(name.into()), self.place()))
    }
}

/// A request for a link of `kind` named `name`; index 0 lets the kernel choose one.
fn kind_message(name: &str, kind: InfoKind, index: u32) -> LinkMessage {
    let mut message = LinkMessage::default();
    message.header.index = index;
    message
        .attributes
        .push(LinkAttribute::IfName(name.to_string()));
    message
        .attributes
        .push(LinkAttribute::LinkInfo(vec![LinkInfo::Kind(kind)]));
    message
}
