//! A synchronous rtnetlink connection bound to one network namespace.
//!
//! Why not the `rtnetlink` crate: it is built on tokio, and network namespaces belong to
//! threads. A runtime moves work between threads, so "the namespace of the current task" is
//! not a thing it can promise. A netlink socket, however, stays in the namespace it was
//! created in, so rtsetup opens a plain `netlink-sys` socket on a thread inside the target
//! namespace and then speaks `netlink-packet-route` messages over it from any thread.

use std::io;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::error::{Error, Object, Place, Result};
use crate::netns::{object_of, within, Netns, NetnsExt};

/// Replies larger than this are split by the kernel; 32 KiB is its own dump chunk size.
const RECV_BUFFER: usize = 64 * 1024;

/// A route netlink (rtnetlink) connection to one namespace's network stack.
///
/// Link, address, route and neighbour operations are methods on this type; see the
/// [`link`](crate::link), [`address`](crate::address), [`route`](crate::route) and
/// [`neighbour`](crate::neighbour) modules.
pub struct Rtnl {
    socket: Socket,
    sequence: u32,
    place: Place,
    netns: Netns,
}

impl Rtnl {
    /// Opens a connection to the network stack of `netns`.
    ///
    /// ```no_run
    /// use rtsetup::NetnsExt;
    /// let mut lb = rtsetup::Rtnl::open(&rtsetup::Netns::open("lb")?)?;
    /// let link = lb.link("lb-veth0")?;
    /// println!("{} has MAC {:?}", link.name, link.mac);
    /// # Ok::<(), rtsetup::Error>(())
    /// ```
    pub fn open(netns: &Netns) -> Result<Rtnl> {
        let place = netns.place();
        let socket = within(netns, || -> io::Result<Socket> {
            let mut socket = Socket::new(NETLINK_ROUTE)?;
            socket.bind_auto()?;
            socket.connect(&SocketAddr::new(0, 0))?;
            Ok(socket)
        })?
        .map_err(|e| {
            Error::from_io(
                "open a netlink socket for",
                object_of(netns),
                place.clone(),
                e,
            )
        })?;
        Ok(Rtnl {
            socket,
            sequence: 0,
            place,
            netns: netns.clone(),
        })
    }

    /// The namespace this connection talks to.
    pub fn netns(&self) -> &Netns {
        &self.netns
    }

    /// The namespace this connection talks to, for messages.
    pub fn place(&self) -> &Place {
        &self.place
    }

    /// Sends one request that expects an acknowledgement and returns the messages the
    /// kernel sent before it (with `NLM_F_ECHO`-style replies such as RTM_GETLINK).
    pub(crate) fn request(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, RequestError> {
        self.exchange(message, NLM_F_REQUEST | NLM_F_ACK | flags, false)
    }

    /// Sends one dump request and returns every message of the reply.
    pub(crate) fn dump(
        &mut self,
        message: RouteNetlinkMessage,
    ) -> Result<Vec<RouteNetlinkMessage>, RequestError> {
        self.exchange(message, NLM_F_REQUEST | NLM_F_DUMP, true)
    }

    fn exchange(
        &mut self,
        message: RouteNetlinkMessage,
        flags: u16,
        is_dump: bool,
    ) -> Result<Vec<RouteNetlinkMessage>, RequestError> {
        self.sequence = self.sequence.wrapping_add(1);
        let sequence = self.sequence;
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        self.socket.send(&bytes, 0)?;

        let mut replies = Vec::new();
        let mut buffer = Vec::with_capacity(RECV_BUFFER);
        loop {
            buffer.clear();
            let length = self.socket.recv(&mut buffer, 0)?;
            let mut offset = 0;
            while offset < length.min(buffer.len()) {
                let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&buffer[offset..])
                    .map_err(|e| RequestError::Decode(e.to_string()))?;
                let reply_length = reply.header.length as usize;
                if reply_length == 0 {
                    return Err(RequestError::Decode("netlink message of length 0".into()));
                }
                offset += (reply_length + 3) & !3;
                if reply.header.sequence_number != sequence {
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::InnerMessage(inner) => replies.push(inner),
                    NetlinkPayload::Error(error) => match error.code {
                        None => return Ok(replies),
                        Some(_) => return Err(RequestError::Kernel(error.to_io())),
                    },
                    NetlinkPayload::Done(_) if is_dump => return Ok(replies),
                    _ => {}
                }
            }
        }
    }
}

/// A failed request, before it is given the object and namespace it was about.
#[derive(Debug)]
pub(crate) enum RequestError {
    /// The kernel answered with an errno (or the socket failed).
    Kernel(io::Error),
    /// The reply could not be decoded.
    Decode(String),
}

impl From<io::Error> for RequestError {
    fn from(e: io::Error) -> Self {
        RequestError::Kernel(e)
    }
}

impl RequestError {
    /// The errno, when the kernel sent one.
    pub(crate) fn errno(&self) -> Option<i32> {
        match self {
            RequestError::Kernel(e) => e.raw_os_error(),
            RequestError::Decode(_) => None,
        }
    }

    /// Gives the error its context.
    pub(crate) fn into_error(self, action: &'static str, object: Object, place: &Place) -> Error {
        match self {
            RequestError::Kernel(e) => Error::from_io(action, object, place.clone(), e),
            RequestError::Decode(reason) => Error::Decode {
                place: place.clone(),
                reason,
            },
        }
    }
}
